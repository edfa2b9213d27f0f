// One claimer process for the pool race test: says "ready" once loaded, waits for the start file, claims once,
// and prints the claimed task's ARN (or "miss") and how long the claim took.
import { existsSync } from 'node:fs';
import { claim } from '../src/pool/directory.js';

const [root, poolKey, configHash, jobKey, startFile] = process.argv.slice(2) as [string, string, string, string, string];
process.stdout.write('ready\n');
const wait = (): void => {
  if (!existsSync(startFile)) {
    setImmediate(wait);
    return;
  }
  const started = process.hrtime.bigint();
  const claimed = claim({ root, pools: ['default'], poolKey, configHash, jobKey, claimMarginSeconds: 120, nowMs: Date.now() });
  const micros = Number(process.hrtime.bigint() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ taskArn: claimed?.entry.taskArn ?? null, micros })}\n`);
};
wait();
