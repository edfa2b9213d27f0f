import { fmt } from '../report/format.js';
import type { SuiteResult, TargetCheck } from '../report/types.js';
import { expectSuccess, runTimed } from '../measure/timed-process.js';
import { DriverJob } from '../stack/driver-job.js';
import type { SuiteContext } from './context.js';
import { outputScript } from './log-throughput.js';

const MiB = 1024 * 1024;

/**
 * Peak RSS of `custom run` streaming a large output, read as fast as possible and by a slow reader (the pipe
 * fills and the driver must apply back-pressure instead of buffering), against `node -e 0` and a `run` of `echo`.
 */
export async function memorySuite(ctx: SuiteContext): Promise<SuiteResult> {
  const started = performance.now();
  const { settings } = ctx;
  const bytes = settings.memoryMiB * MiB;
  const job = new DriverJob(ctx.bench);
  let node = Number.NaN;
  let tiny = Number.NaN;
  let fast = Number.NaN;
  let slow = Number.NaN;
  let slowSeconds = Number.NaN;
  try {
    ctx.progress('memory: preparing one task');
    await job.prepare();
    const big = job.script('big', outputScript(bytes));
    const echo = job.script('echo', 'echo tiny');
    node = expectSuccess('node -e 0', await runTimed(process.execPath, ['-e', '0'], { measureRss: true })).maxRssMiB ?? NaN;
    tiny = expectSuccess('custom run (echo)', await job.run(echo, 'build_script', { measureRss: true })).maxRssMiB ?? NaN;
    ctx.progress(`memory: ${settings.memoryMiB} MiB through custom run, fast reader`);
    const fastRun = expectSuccess('custom run (fast reader)', await job.run(big, 'build_script', { measureRss: true }));
    fast = fastRun.maxRssMiB ?? NaN;
    ctx.progress(`memory: ${settings.memoryMiB} MiB through custom run, reader at ${settings.slowReaderMiBps} MiB/s`);
    const slowRun = expectSuccess('custom run (slow reader)', await job.run(big, 'build_script', {
      measureRss: true, readRateBytesPerSecond: settings.slowReaderMiBps * MiB,
    }));
    slow = slowRun.maxRssMiB ?? NaN;
    slowSeconds = slowRun.ms / 1000;
    for (const [what, run] of [['fast', fastRun], ['slow', slowRun]] as const) {
      if (run.stdoutBytes !== bytes) throw new Error(`memory: the ${what} reader got ${run.stdoutBytes} bytes, expected ${bytes}`);
    }
    await job.cleanup();
  } finally {
    await job.driver(['cleanup']).catch(() => undefined);
    job.dispose();
  }
  const peak = Math.max(fast, slow);
  const limitMB = 150;
  const peakMB = (peak * MiB) / 1e6;
  const targets: TargetCheck[] = [{
    name: `driver peak RSS streaming ${settings.memoryMiB} MiB`, target: `≤ ${limitMB} MB`, measured: `${fmt(peakMB)} MB`, met: peakMB <= limitMB,
    note: 'the output is buffered in the driver instead of waiting for the reader; honouring stdout back-pressure (pause the SSH channel) bounds it',
  }];
  return {
    id: 'memory',
    title: '6. Memory while streaming',
    tables: [{
      title: `Peak RSS of custom run (${settings.memoryMiB} MiB of output; MiB)`,
      columns: ['process', 'peak RSS MiB', 'over node -e 0 MiB'],
      rows: [
        ['node -e 0', fmt(node, 1), fmt(0, 1)],
        ['custom run (echo)', fmt(tiny, 1), fmt(tiny - node, 1)],
        [`custom run (${settings.memoryMiB} MiB, fast reader)`, fmt(fast, 1), fmt(fast - node, 1)],
        [`custom run (${settings.memoryMiB} MiB, reader at ${settings.slowReaderMiBps} MiB/s, ${fmt(slowSeconds, 1)} s)`, fmt(slow, 1), fmt(slow - node, 1)],
      ],
      notes: ['Peak RSS is the kernel\'s high-water mark (`process.resourceUsage().maxRSS`) written at exit; a slow reader makes the pipe fill up.'],
    }],
    targets,
    figures: { nodeRssMiB: node, tinyRunRssMiB: tiny, fastReaderRssMiB: fast, slowReaderRssMiB: slow, peakMB },
    seconds: (performance.now() - started) / 1000,
  };
}
