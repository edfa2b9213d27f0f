import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError, validateFaults, validatePhases, validateThrottling } from '../config/validate.js';
import type { FaultOptions } from '../faults/faults.js';
import type { ThrottlingOptions } from '../faults/throttling.js';
import type { PhaseDurations } from '../lifecycle/phases.js';
import { sendJson } from './http-io.js';

/** What the control endpoints act on. */
export interface ControlTarget {
  state(): unknown;
  setFaults(faults: FaultOptions): void;
  setThrottling(throttling: ThrottlingOptions): void;
  setPhases(phases: Partial<PhaseDurations>): void;
  reset(): Promise<void>;
  interruptSpot(task: string, noticeMs: number | undefined): boolean;
}

const ROUTES = `GET /_emulator/state, POST /_emulator/faults, POST /_emulator/throttling, POST /_emulator/phases, POST /_emulator/reset, POST /_emulator/spot-interruption`;

/**
 * The test control plane under `/_emulator/`: JSON in, JSON out, 400 with a message on bad input.
 * Kept apart from the ECS wire so nothing an SDK sends can reach it.
 */
export async function handleControl(target: ControlTarget, req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
  const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
  let input: unknown = {};
  try {
    if (body.trim() !== '') input = JSON.parse(body);
  } catch (error) {
    sendJson(res, 400, { message: `Body is not valid JSON: ${(error as Error).message}` });
    return;
  }
  try {
    switch (route) {
      case 'GET /_emulator/state':
        sendJson(res, 200, target.state());
        return;
      case 'POST /_emulator/faults':
        target.setFaults(validateFaults(input));
        break;
      case 'POST /_emulator/throttling':
        target.setThrottling(validateThrottling(input));
        break;
      case 'POST /_emulator/phases':
        target.setPhases(validatePhases(input));
        break;
      case 'POST /_emulator/reset':
        await target.reset();
        break;
      case 'POST /_emulator/spot-interruption': {
        const { task, noticeMs } = input as { task?: unknown; noticeMs?: unknown };
        if (typeof task !== 'string') throw new ConfigError('spot-interruption.task', 'expected the task ARN or id as a string');
        if (noticeMs !== undefined && (typeof noticeMs !== 'number' || noticeMs < 0)) throw new ConfigError('spot-interruption.noticeMs', 'expected a number of milliseconds ≥ 0');
        if (!target.interruptSpot(task, noticeMs as number | undefined)) {
          sendJson(res, 409, { message: `Task ${task} is not a RUNNING task of this emulator.` });
          return;
        }
        break;
      }
      default:
        sendJson(res, 404, { message: `No control endpoint ${route}. Available: ${ROUTES}` });
        return;
    }
    sendJson(res, 200, target.state());
  } catch (error) {
    sendJson(res, error instanceof ConfigError ? 400 : 500, { message: (error as Error).message });
  }
}
