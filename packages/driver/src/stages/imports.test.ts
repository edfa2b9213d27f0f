import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('..', import.meta.url));

/** Every module a source file loads statically (value imports only: `import type` is erased), transitively. */
function staticImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms)) {
    const spec = match[1]!;
    if (spec.startsWith('.')) {
      staticImports(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen);
    } else {
      seen.add(spec);
    }
  }
  return seen;
}

describe('module boundaries', () => {
  it('run, the stage that starts ~10 times a job, loads nothing from aws/, no AWS SDK, and ssh2 only without a multiplexer', () => {
    const loaded = [...staticImports(resolve(SRC, 'stages/run.ts'))];
    expect(loaded.filter((m) => m.includes('/aws/') || m.startsWith('@aws-sdk') || m === 'ssh2')).toEqual([]);
    expect(readFileSync(resolve(SRC, 'stages/run.ts'), 'utf8')).toContain("await import('../ssh/connect.js')");
  });

  it('prepare, cleanup and gc load the EC2 client only when a public IP is needed', () => {
    for (const stage of ['prepare', 'cleanup', 'gc']) {
      const loaded = [...staticImports(resolve(SRC, `stages/${stage}.ts`))];
      expect(loaded.filter((m) => m === '@aws-sdk/client-ec2'), stage).toEqual([]);
    }
  });

  it('config loads neither the AWS SDK nor ssh2', () => {
    const loaded = [...staticImports(resolve(SRC, 'stages/config.ts')), ...staticImports(resolve(SRC, 'main.ts'))];
    expect(loaded.filter((m) => m.startsWith('@aws-sdk') || m === 'ssh2')).toEqual([]);
  });
});
