import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** The machine a run was measured on. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly docker?: string;
  /** `git log -1` of packages/driver: which driver was measured. */
  readonly driverCommit?: string;
}

function quietly(command: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function machineInfo(repositoryRoot: string): MachineInfo {
  const docker = quietly('docker', ['version', '--format', '{{.Server.Version}}']);
  const driverCommit = quietly('git', ['-C', repositoryRoot, 'log', '-1', '--format=%h %s', '--', 'packages/driver']);
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    ...(docker ? { docker } : {}),
    ...(driverCommit ? { driverCommit } : {}),
  };
}

/** One-minute load averages sampled during a run. */
export interface LoadSummary {
  readonly samples: number;
  readonly min: number;
  readonly mean: number;
  readonly max: number;
}

/** Samples `os.loadavg()[0]` every few seconds until stopped: how busy the shared machine was. */
export class LoadSampler {
  private readonly values: number[] = [os.loadavg()[0]!];
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 5_000) {
    this.timer = setInterval(() => this.values.push(os.loadavg()[0]!), intervalMs);
    this.timer.unref();
  }

  stop(): LoadSummary {
    clearInterval(this.timer);
    this.values.push(os.loadavg()[0]!);
    const round = (v: number) => Math.round(v * 100) / 100;
    return {
      samples: this.values.length,
      min: round(Math.min(...this.values)),
      mean: round(this.values.reduce((a, b) => a + b, 0) / this.values.length),
      max: round(Math.max(...this.values)),
    };
  }
}
