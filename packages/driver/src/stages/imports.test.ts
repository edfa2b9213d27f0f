import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('..', import.meta.url));

/**
 * The module specifiers of a file's static loads: `import … from`, bare `import '…'` (loaded for its side effects)
 * and re-exports `export … from` / `export * from`. `import type` and `export type` are erased, so not loads.
 */
const STATIC_LOAD = new RegExp(
  [
    String.raw`^import\s+(?!type\s)[^;]*?from\s+'([^']+)'`,
    String.raw`^import\s+'([^']+)'`,
    String.raw`^export\s+(?!type\s)(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s+'([^']+)'`,
  ].join('|'),
  'gms',
);

/** Every module a source file loads statically, transitively. */
function staticImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(STATIC_LOAD)) {
    const spec = (match[1] ?? match[2] ?? match[3])!;
    if (spec.startsWith('.')) {
      staticImports(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen);
    } else {
      seen.add(spec);
    }
  }
  return seen;
}

describe('the static import finder', () => {
  it('follows imports, bare imports and re-exports, and skips what TypeScript erases', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-imports-'));
    const write = (name: string, lines: string[]) => writeFileSync(join(dir, name), `${lines.join('\n')}\n`);
    write('entry.ts', [
      "import { a } from './a.js';",
      "import './polyfill.js';",
      "import type { Erased } from 'import-type-only';",
      "export { b } from './b.js';",
      "export * from 'star-reexport';",
      "export * as ns from 'namespace-reexport';",
      "export type { T } from 'export-type-only';",
      'export const value = a;',
    ]);
    write('a.ts', ["import {", '  x,', "  type Y,", "} from 'multi-line';", 'export const a = x;']);
    write('polyfill.ts', ["import 'bare-side-effect';"]);
    write('b.ts', ["export { default as b } from 'default-reexport';"]);
    const packages = [...staticImports(join(dir, 'entry.ts'))].filter((m) => !m.startsWith(dir)).sort();
    expect(packages).toEqual(['bare-side-effect', 'default-reexport', 'multi-line', 'namespace-reexport', 'star-reexport']);
  });
});

describe('module boundaries', () => {
  it('run, the stage that starts ~10 times a job, loads nothing from aws/, no AWS SDK, and ssh2 only without a multiplexer', () => {
    const loaded = [...staticImports(resolve(SRC, 'stages/run.ts'))];
    expect(loaded.filter((m) => m.includes('/aws/') || m.startsWith('@aws-sdk') || m === 'ssh2')).toEqual([]);
    expect(readFileSync(resolve(SRC, 'stages/run-direct.ts'), 'utf8')).toContain("await import('../ssh/connect.js')");
  });

  it('run loads its own SSH route (run-direct: the retry loop, its sleep) only when the multiplexer ran nothing', () => {
    // Each module a run stage loads costs it memory (the benchmark's run-stage RSS): the multiplexer route needs none of these.
    const loaded = [...staticImports(resolve(SRC, 'stages/run.ts'))].map((m) => m.slice(SRC.length));
    expect(loaded.filter((m) => ['stages/run-direct.ts', 'sleep.ts', 'duration.ts'].includes(m))).toEqual([]);
    expect(readFileSync(resolve(SRC, 'stages/run.ts'), 'utf8')).toContain("await import('./run-direct.js')");
  });

  it("the cost line loads two modules of cost/: the estimate and the price table", () => {
    // The summary's modules load after the job's last script, each a few hundred microseconds: keep them few.
    const loaded = [...staticImports(resolve(SRC, 'metrics/summary.ts'))].map((m) => m.slice(SRC.length));
    expect(loaded.filter((m) => m.startsWith('cost/')).sort()).toEqual(['cost/estimate.ts', 'cost/prices.ts']);
  });

  it('prepare, cleanup and gc load the EC2 client only when a public IP is needed', () => {
    for (const stage of ['prepare', 'cleanup', 'gc']) {
      const loaded = [...staticImports(resolve(SRC, `stages/${stage}.ts`))];
      expect(loaded.filter((m) => m === '@aws-sdk/client-ec2'), stage).toEqual([]);
    }
  });

  it('prepare loads neither the AWS SDK nor ssh2 before its multiplexer starts, nor the cold path before it is taken', () => {
    const warm = [...staticImports(resolve(SRC, 'stages/prepare.ts')), ...staticImports(resolve(SRC, 'stages/prepare-warm.ts'))];
    expect(warm.filter((m) => m.startsWith('@aws-sdk') || m === 'ssh2' || m.endsWith('/prepare-cold.ts'))).toEqual([]);
    const prepare = readFileSync(resolve(SRC, 'stages/prepare.ts'), 'utf8');
    expect(prepare).toContain("await import('./prepare-cold.js')");
    // The cold path loads the SDK, but the EC2 client only when a public IP is needed.
    expect([...staticImports(resolve(SRC, 'stages/prepare-cold.ts'))]).not.toContain('@aws-sdk/client-ec2');
  });

  it('config loads neither the AWS SDK nor ssh2', () => {
    const loaded = [...staticImports(resolve(SRC, 'stages/config.ts')), ...staticImports(resolve(SRC, 'main.ts'))];
    expect(loaded.filter((m) => m.startsWith('@aws-sdk') || m === 'ssh2')).toEqual([]);
  });
});
