#!/usr/bin/env node
// Bundles the driver for the runner-manager image, so no node_modules are needed beside it.
//   node scripts/bundle.mjs [--minify]          one file: dist/gitlab-fargate-driver.mjs
//   node scripts/bundle.mjs --split [--minify]  dist/bundle/gitlab-fargate-driver.mjs + dist/bundle/chunks/*.mjs:
//                                               the AWS SDK and ssh2 load only in the stages that use them, so
//                                               `config` and `run` start faster (one parse of 2-4 MiB saved).
// Run in packages/driver.
import { chmodSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const split = process.argv.includes('--split');
const outfile = split ? `${root}dist/bundle/gitlab-fargate-driver.mjs` : `${root}dist/gitlab-fargate-driver.mjs`;

const result = await build({
  absWorkingDir: root,
  entryPoints: { 'gitlab-fargate-driver': 'src/cli.ts' },
  ...(split ? { outdir: `${root}dist/bundle`, splitting: true, chunkNames: 'chunks/[name]-[hash]' } : { outfile }),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: process.argv.includes('--minify'),
  sourcemap: false,
  legalComments: 'eof',
  metafile: true,
  define: { __DRIVER_VERSION__: JSON.stringify(pkg.version) },
  // ssh2 is CommonJS: it requires Node built-ins and its bundled poly1305 (emscripten) reads __dirname. ESM has
  // neither, so every output file gets them.
  banner: {
    js: [
      "import { createRequire as __gfdCreateRequire } from 'node:module';",
      "import { fileURLToPath as __gfdFileURLToPath } from 'node:url';",
      "import { dirname as __gfdDirname } from 'node:path';",
      'const require = __gfdCreateRequire(import.meta.url);',
      'const __filename = __gfdFileURLToPath(import.meta.url);',
      'const __dirname = __gfdDirname(__filename);',
    ].join(' '),
  },
  // ssh2's optional native helpers: absent here (npm blocks install scripts), and ssh2 falls back to pure JS.
  external: ['cpu-features', '*.node'],
  logLevel: 'warning',
});

chmodSync(outfile, 0o755);
const outputs = Object.keys(result.metafile.outputs);
if (split) removeStaleChunks(outputs);
const bytes = outputs.reduce((sum, file) => sum + statSync(`${root}${file}`).size, 0);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(
  `${outfile}: ${outputs.length} file(s), ${(bytes / 1024 / 1024).toFixed(2)} MiB from ${inputs} modules (version ${pkg.version})`,
);

/**
 * Chunks of an earlier build (their names carry a content hash) would stay beside the new ones and be copied into the
 * runner-manager image with them. They are removed after the build, not before: a bundle another process is running
 * from the same folder (tests, the bench) keeps every file it can load, since an unchanged source gives the same names.
 */
function removeStaleChunks(outputs) {
  const current = new Set(outputs.map((file) => `${root}${file}`));
  const chunks = `${root}dist/bundle/chunks`;
  for (const name of readdirSync(chunks)) {
    if (!current.has(`${chunks}/${name}`)) rmSync(`${chunks}/${name}`, { force: true });
  }
}
