#!/usr/bin/env node
// Per-process wall and CPU (user+sys) time: 20 batches of 5 runs each per command, batches alternating between
// commands so machine load affects all alike; CPU from /usr/bin/time over a batch (10 ms ticks / 5 runs).
import { spawnSync } from 'node:child_process';
const batches = Number(process.argv[2] ?? 20);
const per = 5;
const commands = JSON.parse(process.argv[3]);
const wall = commands.map(() => []);
const cpu = commands.map(() => []);
for (let i = 0; i < batches; i++) {
  commands.forEach((cmd, j) => {
    const line = cmd.map((a) => `'${a}'`).join(' ');
    const script = `for i in $(seq ${per}); do ${line} >/dev/null || exit 1; done`;
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'bash', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${line} failed: ${r.stderr}`);
    const [e, u, s] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
    wall[j].push((e * 1000) / per);
    cpu[j].push(((u + s) * 1000) / per);
  });
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
commands.forEach((cmd, j) => console.log(`${cmd.join(' ').padEnd(70)} wall ${median(wall[j]).toFixed(0)} ms  cpu ${median(cpu[j]).toFixed(0)} ms  (${batches}x${per} runs)`));
// Usage (from packages/config, after `npx projen compile`):
//   node scripts/bench-process-time.mjs 20 '[["node","-e","0"],["node","dist/cli.js","validate","src/fixtures/extended-driver.toml"]]'
