#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { Cancelled, messageOf } from './errors.js';
import { exitCodesOf } from './job/environment.js';
import { main } from './main.js';

// Node exits with 1 on a crash, which the runner would read as "the job's script failed": a driver crash is a system
// failure, so report it as one.
const crash = (error: unknown): void => {
  try {
    process.stderr.write(`gitlab-fargate-driver: internal error: ${messageOf(error)}\n`);
  } finally {
    process.exit(exitCodesOf(process.env).system);
  }
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
// A reader that went away (the runner killed) must not crash the stage mid-cleanup.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

const controller = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    // The runner sends SIGTERM on job cancel/timeout; stages forward it and then fail (never exit 0).
    if (!controller.signal.aborted) controller.abort(new Cancelled(signal));
  });
}

const code = await main({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stdoutFd: 1,
  stderrFd: 2,
  signal: controller.signal,
  driverEntry: fileURLToPath(import.meta.url),
});
process.exitCode = code;
// Anything still holding the event loop (a half-closed socket) must not keep a finished stage alive.
setTimeout(() => process.exit(code), 2_000).unref();
