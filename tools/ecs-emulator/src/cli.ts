#!/usr/bin/env node
import { MAIN_USAGE, START_USAGE, parseStartArgs } from './config/cli-args.js';
import type { TaskStateChange } from './config/options.js';
import { ConfigError } from './config/validate.js';
import { startEmulator } from './emulator.js';

function formatChange(change: TaskStateChange): string {
  const task = change.taskArn.slice(change.taskArn.indexOf(':task/') + 6);
  const parts = [change.at.toISOString(), `task/${task}`, change.lastStatus, `desired=${change.desiredStatus}`];
  if (change.capacityProviderName) parts.push(`capacity=${change.capacityProviderName}`);
  if (change.privateIp) parts.push(`ip=${change.privateIp}`);
  if (change.publicIp) parts.push(`publicIp=${change.publicIp}`);
  if (change.stopCode) parts.push(`stopCode=${change.stopCode}`);
  if (change.stoppedReason) parts.push(`reason=${JSON.stringify(change.stoppedReason)}`);
  return parts.join(' ');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(MAIN_USAGE);
    return 2;
  }
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(MAIN_USAGE);
    return 0;
  }
  if (command !== 'start') {
    process.stderr.write(`Unknown command '${command}'.\n\n${MAIN_USAGE}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseStartArgs>;
  try {
    parsed = parseStartArgs(rest);
  } catch (error) {
    process.stderr.write(`gitlab-fargate-ecs-emulator start: ${(error as Error).message}\nSee: gitlab-fargate-ecs-emulator start --help\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(START_USAGE);
    return 0;
  }
  const { config, quiet } = parsed;
  const emulator = await startEmulator({
    ...config,
    ...(quiet ? {} : { onTaskStateChange: (change) => process.stdout.write(`${formatChange(change)}\n`) }),
  });
  process.stdout.write(
    `ecs-emulator listening on ${emulator.endpoint} (instance ${emulator.instanceId})\n` +
      `  export AWS_ENDPOINT_URL_ECS=${emulator.endpoint} AWS_ENDPOINT_URL_EC2=${emulator.endpoint} AWS_REGION=${config.region ?? 'us-east-1'} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n`,
  );
  await new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      process.stdout.write(`ecs-emulator: ${signal}, removing task containers…\n`);
      emulator.stop().then(resolve, (error: Error) => {
        process.stderr.write(`ecs-emulator: cleanup failed: ${error.message}\n`);
        resolve();
      });
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`gitlab-fargate-ecs-emulator: ${message}\n`);
    process.exit(1);
  },
);
