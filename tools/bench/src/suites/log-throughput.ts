import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fmt, ratio } from '../report/format.js';
import type { SuiteResult, TargetCheck } from '../report/types.js';
import { median } from '../measure/stats.js';
import { expectSuccess, runTimed, type TimedProcessResult } from '../measure/timed-process.js';
import { DriverJob, opensshArgs } from '../stack/driver-job.js';
import type { SuiteContext } from './context.js';

const MiB = 1024 * 1024;

/** A bash body printing exactly `bytes` bytes of 64-character lines (cheap for the container's CPU). */
export function outputScript(bytes: number): string {
  // `yes` ends on SIGPIPE when head has enough; `|| true` keeps that from failing the script under pipefail.
  return `{ yes ${'0123456789abcdef'.repeat(4).slice(0, 63)} || true; } | head -c ${bytes}`;
}

interface Rates {
  /** MB/s from the first to the last output byte: the streaming rate. */
  readonly streaming: number[];
  /** MB/s over the whole process (start-up and handshake included). */
  readonly endToEnd: number[];
}

/**
 * Output throughput of `custom run` against the OpenSSH client running the same script (piped to `bash -s`, as
 * the driver sends it) on the same container, in alternating rounds.
 */
export async function logThroughputSuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const { settings } = ctx;
  const bytes = settings.throughputMiB * MiB;
  const job = new DriverJob(ctx.bench);
  const rates: Record<'driver' | 'ssh', Rates> = { driver: { streaming: [], endToEnd: [] }, ssh: { streaming: [], endToEnd: [] } };
  const record = (who: 'driver' | 'ssh', result: TimedProcessResult) => {
    expectSuccess(who, result);
    if (result.stdoutBytes !== bytes) throw new Error(`log-throughput: ${who} delivered ${result.stdoutBytes} bytes, expected ${bytes}`);
    rates[who].streaming.push(bytes / 1e6 / ((result.lastByteMs - result.firstByteMs) / 1000));
    rates[who].endToEnd.push(bytes / 1e6 / (result.ms / 1000));
  };
  try {
    ctx.progress('log-throughput: preparing one task');
    await job.prepare();
    const script = job.script('output', outputScript(bytes));
    const target = job.target();
    const scriptText = readFileSync(script);
    for (let round = 0; round < settings.throughputRounds; round += 1) {
      ctx.progress(`log-throughput: round ${round + 1}/${settings.throughputRounds} (${settings.throughputMiB} MiB each through custom run and ssh)`);
      record('driver', await job.run(script, 'build_script'));
      record('ssh', await runTimed('/usr/bin/ssh', opensshArgs(target, 'bash -s'), { stdin: Readable.from([scriptText]) }));
    }
    await job.cleanup();
  } finally {
    await job.driver(['cleanup']).catch(() => undefined);
    job.dispose();
  }
  const driverStreaming = median(rates.driver.streaming);
  const sshStreaming = median(rates.ssh.streaming);
  const driverE2e = median(rates.driver.endToEnd);
  const sshE2e = median(rates.ssh.endToEnd);
  const streamingRatio = driverStreaming / sshStreaming;
  const targets: TargetCheck[] = [{
    name: 'log throughput', target: '≥ 0.8× OpenSSH', measured: ratio(streamingRatio), met: streamingRatio >= 0.8,
    note: 'ssh2 does its ciphers in JavaScript or through Node\'s crypto per packet, OpenSSH in C; a larger channel window or ' +
      'an AES-GCM cipher preference would narrow the gap',
  }];
  return {
    id: 'log-throughput',
    title: '4. Log throughput',
    tables: [{
      title: `Log throughput (${settings.throughputMiB} MiB of output per run, median of ${settings.throughputRounds} alternating rounds, MB/s)`,
      columns: ['client', 'streaming MB/s', 'end-to-end MB/s', 'streaming × OpenSSH'],
      rows: [
        ['custom run (ssh2)', fmt(driverStreaming, 1), fmt(driverE2e, 1), ratio(streamingRatio)],
        ['ssh (OpenSSH 9.2, bash -s)', fmt(sshStreaming, 1), fmt(sshE2e, 1), ratio(1)],
      ],
      notes: [
        'Streaming = first to last output byte as the reader (this benchmark, reading as fast as it can) received them;',
        'end-to-end = the whole process, start-up and SSH handshake included. Both clients talk to the same container.',
      ],
    }],
    targets,
    figures: {
      driverMBps: driverStreaming,
      sshMBps: sshStreaming,
      ratio: streamingRatio,
      driverEndToEndMBps: driverE2e,
      sshEndToEndMBps: sshE2e,
    },
    seconds: (performance.now() - started) / 1000,
  };
}
