import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** The `-c key="value"` pairs of a command line, e.g. a deploy job's `cdk deploy`. */
export function contextOf(command: string): Record<string, string> {
  return Object.fromEntries([...command.matchAll(/-c\s+([A-Za-z]+)="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
}

/** Replaces `$NAME` and `${NAME}` with `variables[NAME]`; an unknown name is an error (a test would miss it). */
export function expandVariables(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (_, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new Error(`no value for $${name} in "${text}"`);
    return value;
  });
}

/**
 * A stand-in for the runner-manager build context the build job's artifacts bring (the driver bundle and the config
 * CLI are compiled outputs a checkout may lack): its Dockerfile with empty files where the example app requires them.
 */
export function managerContextStub(root: string, requiredFiles: readonly string[]): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-manager-context-'));
  writeFileSync(join(dir, 'Dockerfile'), readFileSync(join(root, 'images/runner-manager/Dockerfile')));
  for (const file of requiredFiles) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), '');
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Synthesizes packages/cdk's example app as `cdk synth` would (its cdk.json runs the app with tsx; the CLI hands it
 * the context in CDK_CONTEXT_JSON and the output folder in CDK_OUTDIR) and returns the output folder.
 */
export async function synthesizeExampleApp(root: string, context: Readonly<Record<string, string>>): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'pipeline-cdk-out-'));
  const cdkDir = join(root, 'packages/cdk');
  const { app } = JSON.parse(readFileSync(join(cdkDir, 'cdk.json'), 'utf8')) as { app: string };
  const [, tool, ...args] = app.split(' ');
  if (!app.startsWith('npx ') || tool === undefined) throw new Error(`packages/cdk/cdk.json: expected "npx <tool> …", got "${app}"`);
  await promisify(execFile)(join(root, 'node_modules/.bin', tool), args, {
    cwd: cdkDir,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
    maxBuffer: 16 * 1024 * 1024,
  });
  return outdir;
}
