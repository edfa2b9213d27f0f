import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FaultOptions, FaultSelector } from '../faults/faults.js';
import type { PhaseDurations } from '../lifecycle/phases.js';
import type { EmulatorConfigFile } from './options.js';
import { ConfigError, validateConfigFile } from './validate.js';

export const START_USAGE = `Usage: gitlab-fargate-ecs-emulator start [options]

Runs the ECS emulator in the foreground and prints one line per task state change.
Point an AWS SDK at it with AWS_ENDPOINT_URL_ECS=http://HOST:PORT (and AWS_ENDPOINT_URL_EC2 for
DescribeNetworkInterfaces) and any static credentials. Stop it with Ctrl-C or SIGTERM: its containers go too.

Options (flags override the config file; defaults in brackets):
  --port P                      API port, 0 for any free one                      [4599]
  --host H                      address to listen on                              [127.0.0.1]
  --config FILE                 JSON config file (same keys as the programmatic options, see README)
  --region R                    Region in ARNs                                    [us-east-1]
  --account-id ID               account id in ARNs (12 digits)                    [123456789012]
  --phase NAME=MS               duration of a timed state; NAME is provisioning, pending, activating,
                                deactivating, deprovisioning or registration (a new task-definition
                                revision; overlapping ones into a family fail) (repeatable) [100,100,50,50,50,100]
  --stopped-retention-ms MS     how long STOPPED tasks stay describable           [3600000]
  --stop-timeout S              SIGTERM→SIGKILL seconds without a stopTimeout     [30]
  --loopback-block N            task addresses are 127.N.y.z                      [a free block in 64-254]
  --holder-image IMAGE          every task's network holder                       [local/debian:bookworm]
  --no-throttling               turn AWS's API token buckets off                  [on]
  --no-resource-limits          do not apply task cpu/memory as Docker limits     [applied]
  --no-remove-orphans           keep containers of dead emulators                 [removed]
  --quiet                       no per-task lines

Faults (SEL is :count=N or :p=P, a probability 0-1; none means every time):
  --capacity-unavailable PROVIDER[SEL]  FARGATE or FARGATE_SPOT RunTask gets "Capacity is unavailable…"
  --vcpu-limit N                        concurrent vCPU quota ("You've reached the limit on the number of vCPUs…")
  --start-failure ERROR[SEL]            CannotPullContainerError or ResourceInitializationError before RUNNING
  --slow-provisioning MS[SEL]           extra time in PROVISIONING
  --missing-describes N                 DescribeTasks reports each new task MISSING N times
  --spot-interruption AFTER_MS[SEL]     interrupt FARGATE_SPOT tasks AFTER_MS after RUNNING
  --spot-notice-ms MS                   TerminationNotice before the Spot stop         [2000]
  --late-sshd MS[SEL]                   containers start MS after RUNNING (ports refuse until then)
  --server-error OPERATION|all[SEL]     calls answer 500 ServerException (the SDK retries them)
  --access-denied OPERATION|all[SEL]    calls answer 400 AccessDeniedException

  -h, --help                    this help
`;

export const MAIN_USAGE = `Usage: gitlab-fargate-ecs-emulator <command> [options]

A local Amazon ECS (Fargate) API whose tasks are Docker containers.

Commands:
  start       run the emulator in the foreground (see: gitlab-fargate-ecs-emulator start --help)

Options:
  -h, --help  this help
`;

/** `VALUE`, `VALUE:count=N` or `VALUE:p=P`. */
export function parseSelector(text: string, flag: string): { value: string; selector: FaultSelector } {
  const [value, qualifier, extra] = text.split(':');
  if (!value || extra !== undefined) throw new ConfigError(flag, `expected VALUE, VALUE:count=N or VALUE:p=P, got '${text}'`);
  if (qualifier === undefined) return { value, selector: {} };
  const match = /^(count|p)=(\d+(?:\.\d+)?)$/.exec(qualifier);
  if (!match) throw new ConfigError(flag, `expected :count=N or :p=P after '${value}', got ':${qualifier}'`);
  return { value, selector: match[1] === 'count' ? { count: Number(match[2]) } : { probability: Number(match[2]) } };
}

function integer(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new ConfigError(flag, `expected a whole number, got '${text}'`);
  return Number(text);
}

export interface StartCommand {
  readonly config: EmulatorConfigFile;
  readonly quiet: boolean;
}

const START_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  port: { type: 'string' },
  host: { type: 'string' },
  config: { type: 'string' },
  region: { type: 'string' },
  'account-id': { type: 'string' },
  phase: { type: 'string', multiple: true },
  'stopped-retention-ms': { type: 'string' },
  'stop-timeout': { type: 'string' },
  'loopback-block': { type: 'string' },
  'holder-image': { type: 'string' },
  'no-throttling': { type: 'boolean' },
  'no-resource-limits': { type: 'boolean' },
  'no-remove-orphans': { type: 'boolean' },
  quiet: { type: 'boolean' },
  'capacity-unavailable': { type: 'string', multiple: true },
  'vcpu-limit': { type: 'string' },
  'start-failure': { type: 'string' },
  'slow-provisioning': { type: 'string' },
  'missing-describes': { type: 'string' },
  'spot-interruption': { type: 'string' },
  'spot-notice-ms': { type: 'string' },
  'late-sshd': { type: 'string' },
  'server-error': { type: 'string' },
  'access-denied': { type: 'string' },
} as const;

type StartValues = ReturnType<typeof parseArgs<{ options: typeof START_OPTIONS; strict: true }>>['values'];
type Settings = Record<string, unknown>;

/** The `--config` file, checked; `{}` without one. */
function readConfigFile(path: string | undefined): Settings {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('--config', `cannot read ${path}: ${(error as Error).message}`);
  }
  let file: Settings;
  try {
    file = JSON.parse(text) as Settings;
  } catch (error) {
    throw new ConfigError(path, `not valid JSON: ${(error as Error).message}`);
  }
  validateConfigFile(file, path);
  return file;
}

/** Flags that set one top-level setting each. */
function applySettingFlags(values: StartValues, file: Settings, config: Settings): void {
  if (values.port !== undefined) config['port'] = integer(values.port, '--port');
  if (values.host !== undefined) config['host'] = values.host;
  if (values.region !== undefined) config['region'] = values.region;
  if (values['account-id'] !== undefined) config['accountId'] = values['account-id'];
  if (values['holder-image'] !== undefined) config['holderImage'] = values['holder-image'];
  if (values['stopped-retention-ms'] !== undefined) config['stoppedRetentionMs'] = integer(values['stopped-retention-ms'], '--stopped-retention-ms');
  if (values['stop-timeout'] !== undefined) config['defaultStopTimeoutSeconds'] = integer(values['stop-timeout'], '--stop-timeout');
  if (values['loopback-block'] !== undefined) config['loopbackBlock'] = integer(values['loopback-block'], '--loopback-block');
  if (values['no-throttling']) config['throttling'] = { ...(file['throttling'] as object | undefined), enabled: false };
  if (values['no-resource-limits']) config['applyResourceLimits'] = false;
  if (values['no-remove-orphans']) config['removeOrphans'] = false;
}

const PHASE_FLAG = /^(provisioning|pending|activating|deactivating|deprovisioning|registration)=(\d+)$/;

/** `--phase NAME=MS` over the file's `phases`. */
function applyPhaseFlags(values: StartValues, file: Settings, config: Settings): void {
  const phases: Record<string, number> = { ...(file['phases'] as Partial<PhaseDurations> | undefined) };
  for (const entry of values.phase ?? []) {
    const match = PHASE_FLAG.exec(entry);
    if (!match) {
      throw new ConfigError('--phase', `expected NAME=MS with NAME one of provisioning, pending, activating, deactivating, deprovisioning, registration; got '${entry}'`);
    }
    phases[`${match[1]}Ms`] = Number(match[2]);
  }
  if (Object.keys(phases).length > 0) config['phases'] = phases;
}

/** Fault flags whose value is `NUMBER[SEL]`, by flag: the fault key and the key the number goes to. */
const NUMBER_SELECTOR_FAULTS = [
  ['slow-provisioning', 'slowProvisioning', 'extraMs'],
  ['spot-interruption', 'spotInterruption', 'afterRunningMs'],
  ['late-sshd', 'lateSshd', 'delayMs'],
] as const;

/** Fault flags over the file's `faults`. */
function applyFaultFlags(values: StartValues, file: Settings, config: Settings): void {
  const faults: Settings = { ...(file['faults'] as FaultOptions | undefined) };
  for (const entry of values['capacity-unavailable'] ?? []) {
    const { value, selector } = parseSelector(entry, '--capacity-unavailable');
    if (value !== 'FARGATE' && value !== 'FARGATE_SPOT') throw new ConfigError('--capacity-unavailable', `expected FARGATE or FARGATE_SPOT, got '${value}'`);
    faults['capacityUnavailable'] = { ...(faults['capacityUnavailable'] as object | undefined), [value]: selector };
  }
  if (values['vcpu-limit'] !== undefined) faults['vcpuLimit'] = integer(values['vcpu-limit'], '--vcpu-limit');
  if (values['start-failure'] !== undefined) {
    const { value, selector } = parseSelector(values['start-failure'], '--start-failure');
    faults['startFailure'] = { ...selector, error: value };
  }
  if (values['missing-describes'] !== undefined) faults['missingDescribes'] = integer(values['missing-describes'], '--missing-describes');
  for (const [flag, key, field] of NUMBER_SELECTOR_FAULTS) {
    const text = values[flag];
    if (text === undefined) continue;
    const { value, selector } = parseSelector(text, `--${flag}`);
    faults[key] = { ...selector, [field]: integer(value, `--${flag}`) };
  }
  if (values['spot-notice-ms'] !== undefined) {
    faults['spotInterruption'] = { ...(faults['spotInterruption'] as object | undefined), noticeMs: integer(values['spot-notice-ms'], '--spot-notice-ms') };
  }
  for (const [flag, key] of [['server-error', 'serverError'], ['access-denied', 'accessDenied']] as const) {
    const text = values[flag];
    if (text === undefined) continue;
    const { value, selector } = parseSelector(text, `--${flag}`);
    faults[key] = { ...selector, ...(value === 'all' ? {} : { operations: [value] }) };
  }
  if (Object.keys(faults).length > 0) config['faults'] = faults;
}

/** Parses `start`'s flags over an optional config file; every problem is a ConfigError naming the flag. */
export function parseStartArgs(args: string[]): StartCommand | 'help' {
  const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: START_OPTIONS });
  if (values.help) return 'help';
  const file = readConfigFile(values.config);
  const config: Settings = { port: 4599, ...file };
  applySettingFlags(values, file, config);
  applyPhaseFlags(values, file, config);
  applyFaultFlags(values, file, config);
  return { config: validateConfigFile(config, 'options'), quiet: values.quiet ?? false };
}
