import type { Writable } from 'node:stream';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { createAwsClients } from '../aws/clients.js';
import { messageOf } from '../errors.js';
import { reconcileManagers } from './reconcile.js';
import { CONTROLLER_VARIABLES as V, DEFAULT_DRAIN_SETTLE_SECONDS, MANAGER_VERSION_VARIABLE, readControllerSettings } from './settings.js';

/** The line a failed run starts with on stderr, for a log metric filter. */
export const CONTROLLER_FAILED_MARKER = 'gitlab-fargate manager controller failed';

export const MANAGERS_HELP = `Usage: gitlab-fargate-driver managers reconcile

One pass of the manager controller of one environment (the CDK construct runs the same pass every minute as a Lambda
function):
keep ${V.count} runner managers of task definition ${V.taskDefinition} running, one per subnet in turn; let older
revisions of that family drain (each manager compares its ${MANAGER_VERSION_VARIABLE}, which this command sets
at RunTask, with the settings parameter's and stops taking jobs when they differ) and stop each old manager once its
job tasks (tag gitlab-fargate:manager) are gone, ${V.drainSettle} (default ${DEFAULT_DRAIN_SETTLE_SECONDS}) seconds at
the earliest after it was first found old (tag gitlab-fargate:drain-started), or with its job tasks after
${V.drainTimeout}; drain the managers of the current revision beyond ${V.count} the same way; stop at once the job
tasks of a manager of that family that has stopped; count the current revision's managers that crashed in the last
30 minutes.

Settings, from the environment: ${Object.values(V).join(', ')}. Credentials and region: the AWS SDK's default chain.
Needs no driver TOML. Exit code 0, or 1 when a setting is bad or something could not be done (the rest still is).`;

/** Where the command writes; the real process's streams, or a test's. */
export interface ManagersIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/**
 * Runs `managers ARGS...`: `reconcile` (one pass) or `--help`. Bad settings are refused before any AWS call.
 *
 * @param ecs the ECS client to use @default one from the SDK's default chain
 */
export async function managersCommand(argv: readonly string[], io: ManagersIo, ecs?: ECSClient): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${MANAGERS_HELP}\n`);
    return 0;
  }
  if (argv.length !== 1 || argv[0] !== 'reconcile') {
    io.stderr.write(`gitlab-fargate-driver: managers: expected "managers reconcile", found ${JSON.stringify(argv.join(' '))} (see managers --help)\n`);
    return 1;
  }
  try {
    const settings = readControllerSettings(io.env);
    await reconcileManagers(ecs ?? createAwsClients().ecs, settings, { log: (line) => io.stdout.write(`${line}\n`) });
    return 0;
  } catch (error) {
    io.stderr.write(`${CONTROLLER_FAILED_MARKER}: ${messageOf(error)}\n`);
    return 1;
  }
}
