import { secondsToMs } from '../duration.js';
import { sleep } from '../sleep.js';
import type { Connection, Transport, TransportTarget } from '../ssh/transport.js';
import type { StageContext } from './context.js';

/** How many times `run` tries to connect before calling it a system failure (the task is already known good). */
const CONNECT_ATTEMPTS = 3;

/**
 * The `run` stage's own SSH connection, for when the job has no multiplexer or it ran nothing: ssh2 (unless a
 * transport is given), retried on connection errors. A module of its own, loaded only on that route, so that a stage
 * that goes through the multiplexer loads none of it.
 */
export async function connectOnOurOwn(
  target: TransportTarget,
  ctx: StageContext,
  log: StageContext['log'],
  options: { readonly transport?: Transport; readonly retryDelayMs: number },
): Promise<Connection> {
  const transport = options.transport ?? (await import('../ssh/connect.js')).sshTransport;
  return connectWithRetry(transport, target, ctx, options.retryDelayMs, log);
}

async function connectWithRetry(
  transport: Transport,
  target: TransportTarget,
  ctx: StageContext,
  delayMs: number,
  log: StageContext['log'],
): Promise<Connection> {
  for (let attempt = 1; ; attempt++) {
    ctx.signal.throwIfAborted();
    try {
      return await transport.connect(target, {
        timeoutMs: secondsToMs(ctx.config.ssh.connectTimeout),
        keepaliveIntervalMs: secondsToMs(ctx.config.ssh.keepaliveInterval),
        keepaliveCountMax: ctx.config.ssh.keepaliveCountMax,
      });
    } catch (error) {
      if (!(error instanceof Error) || error.name !== 'SshConnectError' || attempt >= CONNECT_ATTEMPTS) throw error;
      log.warn(`${error.message}; retrying (${attempt}/${CONNECT_ATTEMPTS})`);
      await sleep(delayMs, ctx.signal);
    }
  }
}
