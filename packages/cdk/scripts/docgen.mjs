// Writes API.md, the constructs' reference, from the .jsii assembly that `projen compile` makes.
//
// jsii-docgen looks for the dependencies' assemblies (aws-cdk-lib, constructs) below the package's own folder, but
// npm workspaces install them once at the repository root. So this script shows it a folder holding links to the
// three packages and nothing else.
//
//   node scripts/docgen.mjs [OUT]        OUT defaults to API.md in this package
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Documentation, Language } from 'jsii-docgen';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(packageDir, 'API.md'));
const require = createRequire(join(packageDir, 'package.json'));
const dependencyDir = (name) => dirname(require.resolve(`${name}/package.json`));

const assemblies = mkdtempSync(join(tmpdir(), 'cdk-docgen-'));
try {
  symlinkSync(packageDir, join(assemblies, 'gitlab-fargate-cdk'));
  for (const name of ['aws-cdk-lib', 'constructs']) symlinkSync(dependencyDir(name), join(assemblies, name));
  const docs = await Documentation.forAssembly('@gitlab-fargate/cdk', assemblies);
  const markdown = await docs.toMarkdown({ language: Language.TYPESCRIPT, readme: false, allSubmodules: true });
  writeFileSync(out, markdown.render());
  await docs.cleanup();
} finally {
  rmSync(assemblies, { recursive: true, force: true });
}
