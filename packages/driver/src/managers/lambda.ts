import type { Writable } from 'node:stream';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { createAwsClients } from '../aws/clients.js';
import { messageOf } from '../errors.js';
import { CONTROLLER_FAILED_MARKER } from './command.js';
import { controllerMetricsDocument } from './controller-metrics.js';
import { reconcilePass } from './reconcile.js';
import { readControllerSettings } from './settings.js';

/**
 * The manager controller as an AWS Lambda function: the entry point `packages/cdk` bundles into its
 * `assets/manager-controller/index.mjs` (`packages/cdk/scripts/bundle-controller.mjs`). An EventBridge schedule
 * invokes it every minute; each invocation is one `managers reconcile` pass.
 */

/** What one invocation returns (Lambda logs it for a test invocation; EventBridge ignores it). */
export interface ControllerPassSummary {
  readonly started: number;
  readonly draining: number;
  readonly stoppedManagers: number;
  readonly stoppedJobs: number;
  readonly crashed: number;
}

/** Where a pass reads its settings and writes its lines: the process's, or a test's. */
export interface ControllerHandlerIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: Writable;
  /** @default - one from the SDK's default chain, made on the first pass and kept for the next ones */
  readonly ecs?: ECSClient;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Makes a handler that runs one pass per call: reads the settings (the same variables as `managers reconcile`), logs
 * one line per decision, writes one embedded-metric-format line (`ManagerCrashes`), and throws when a setting is
 * bad or anything failed, after doing all it could, so that the function's `Errors` metric counts the failed pass.
 */
export function createControllerHandler(io: ControllerHandlerIo): () => Promise<ControllerPassSummary> {
  let ecs = io.ecs;
  const write = (line: string): void => {
    io.stdout.write(`${line}\n`);
  };
  return async () => {
    try {
      const settings = readControllerSettings(io.env);
      ecs ??= createAwsClients().ecs;
      const now = (io.now ?? Date.now)();
      const report = await reconcilePass(ecs, settings, { now: () => now, log: write });
      write(JSON.stringify(controllerMetricsDocument(settings, report, now)));
      if (report.failures.length > 0) throw new Error(`managers reconcile: ${report.failures.join('; ')}`);
      const { started, waiting, stoppedManagers, stoppedJobs, crashed } = report;
      return {
        started: started.length, draining: waiting.length, stoppedManagers: stoppedManagers.length,
        stoppedJobs: stoppedJobs.length, crashed: crashed.length,
      };
    } catch (error) {
      write(`${CONTROLLER_FAILED_MARKER}: ${messageOf(error)}`);
      throw error;
    }
  };
}

/** The Lambda function's handler (`index.handler`): the process's environment and stdout. */
export const handler = createControllerHandler({ env: process.env, stdout: process.stdout });
