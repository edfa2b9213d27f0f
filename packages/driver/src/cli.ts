#!/usr/bin/env node
import { Cancelled } from './errors.js';
import { main } from './main.js';

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
});
process.exitCode = code;
// Anything still holding the event loop (a half-closed socket) must not keep a finished stage alive.
setTimeout(() => process.exit(code), 2_000).unref();
