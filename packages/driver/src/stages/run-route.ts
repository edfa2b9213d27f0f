import { BuildFailure, Cancelled, SystemFailure } from '../errors.js';
import { stageExecution } from '../job-image/build-stage.js';
import { readState } from '../job/state.js';
import { recordStageOutcome } from '../metrics/record-outcome.js';
import type { StageVerdict } from '../ssh/mux/protocol.js';
import type { MuxRouter } from '../ssh/mux/server.js';
import type { Connection, ConnectOptions, ExecResult, Transport, TransportTarget } from '../ssh/transport.js';
import { stageFailure } from './run-result.js';
import { SUMMARY_FAILED, SUMMARY_STAGE, jobSummaryText } from './run-summary.js';

/** Options of {@link stageRouter}. */
export interface StageRouterOptions {
  /** The job's state file: where the stages' targets are read and their outcomes recorded. */
  readonly statePath: string;
  /** Opens the build container's connection. */
  readonly transport: Transport;
  readonly connectOptions: ConnectOptions;
}

/** The multiplexer's router for `run` stages, and the connection it may hold to the job image's build container. */
export interface StageRouter {
  readonly route: MuxRouter;
  /**
   * Loads what the last stage's summary needs (the driver TOML's parser, the cost modules) ahead of time: called while
   * the multiplexer waits for its task, so that no stage waits for them.
   */
  preload(): void;
  /** Ends the build container's connection, if any. */
  close(): void;
}

/**
 * Routes a stage request as the Node `run` stage would (`stageExecution`, the one home for which container runs which
 * stage with which command): a job image's user stages to its build container, over a second connection this
 * multiplexer opens on the first of them (and again after it ended), every other stage to the helper. Each stage's
 * outcome goes into the state file before its answer (as `afterRunStage` does for a stage of its own), and the answer
 * says which exit code it means ({@link StageVerdict}), so a client only relays bytes. A request without a stage runs
 * its command in the helper. A request that cannot be routed (no state, no reachable task yet) ran nothing: the
 * client falls back to the Node stage, which says why.
 */
export function stageRouter(options: StageRouterOptions): StageRouter {
  const build = new BuildConnection(options);
  const route: MuxRouter = async (request, helper) => {
    const { stage } = request;
    if (stage === undefined) return { connection: await helper, command: request.command ?? '' };
    const state = readState(options.statePath);
    if (state === undefined) throw new SystemFailure(`the job state ${options.statePath} is gone`);
    const { target, command, inBuildContainer } = stageExecution(state, stage);
    if (target === undefined) throw new SystemFailure(`the job state ${options.statePath} has no reachable task yet`);
    const connection = await (inBuildContainer ? build.connect(target) : helper);
    const end = { stageName: stage, endpoint: `${target.host}:${target.port}`, cancelReason: new Cancelled(`SIG${request.forwardSignal}`) };
    const settle = (outcome: ExecResult | Error): StageVerdict | undefined => settleStage(options.statePath, stage, outcome, end);
    const { configPath } = request;
    if (stage !== SUMMARY_STAGE || configPath === undefined) return { connection, command, settle };
    return { connection, command, settle, epilogue: () => summaryEpilogue(options.statePath, configPath) };
  };
  return { route, preload: preloadSummaryModules, close: () => build.close() };
}

/**
 * Records how a stage ended and returns its verdict. Never throws: a stage's result matters more than its metrics,
 * and the multiplexer has no job log to warn in.
 */
function settleStage(
  statePath: string,
  stage: string,
  outcome: ExecResult | Error,
  end: Parameters<typeof stageFailure>[1],
): StageVerdict | undefined {
  const failure = outcome instanceof Error ? new SystemFailure(outcome.message) : stageFailure(outcome, end);
  recordStageOutcome(statePath, stage, failure);
  if (outcome instanceof Error || failure === undefined || outcome.cancelled) return undefined;
  return failure instanceof BuildFailure ? { scriptExitCode: failure.exitCode } : { message: failure.message };
}

let summaryModules: Promise<unknown> | undefined;

/** Loads what the last stage's summary needs (the driver TOML's parser, the cost modules), once. */
function preloadSummaryModules(): void {
  summaryModules ??= Promise.all([import('@gitlab-fargate/config'), import('../metrics/summary.js')]).catch(() => {});
}

/**
 * The last stage's summary, with the pricing of the driver TOML the stage was given; a failure is said in the job log,
 * as the Node stage does, and never fails the stage.
 */
async function summaryEpilogue(statePath: string, configPath: string): Promise<string> {
  try {
    const { loadDriverConfig } = await import('@gitlab-fargate/config');
    const { config } = await loadDriverConfig(configPath);
    return await jobSummaryText(statePath, config.pricing, Date.now());
  } catch (error) {
    return `gitlab-fargate-driver: ${SUMMARY_FAILED}${error instanceof Error ? error.message : String(error)}\n`;
  }
}

/** The build container's connection: opened on first use, again after it failed or ended, or when the target changed. */
class BuildConnection {
  private current: { readonly key: string; readonly connection: Promise<Connection> } | undefined;
  private closed = false;

  constructor(private readonly options: StageRouterOptions) {}

  connect(target: TransportTarget): Promise<Connection> {
    if (this.closed) return Promise.reject(new SystemFailure('the multiplexer is stopping'));
    const key = `${target.host}:${target.port}:${target.username}:${target.hostKey ?? ''}`;
    if (this.current?.key === key) return this.current.connection;
    this.close();
    this.closed = false;
    const connection = this.options.transport.connect(target, { ...this.options.connectOptions, shared: true });
    const entry = { key, connection };
    this.current = entry;
    const forget = (): void => {
      if (this.current === entry) this.current = undefined;
    };
    connection.then((open) => open.onClose(forget), forget);
    return connection;
  }

  close(): void {
    this.closed = true;
    this.current?.connection.then((open) => open.close(), () => {});
    this.current = undefined;
  }
}
