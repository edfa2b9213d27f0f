#!/usr/bin/env node
// Bundles the manager controller's Lambda handler (packages/driver/src/managers/lambda.ts) into one ES module, with
// the AWS SDK clients it imports at the versions the driver pins (not the Lambda runtime's own SDK):
//   assets/manager-controller/index.mjs   (handler: index.handler; ManagerController ships this folder)
// The compile task runs it before jsii, so lib/ and the asset always come from the same checkout. Run in packages/cdk.
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const driver = fileURLToPath(new URL('../../driver/', import.meta.url));
const outdir = `${root}assets/manager-controller`;
const outfile = `${outdir}/index.mjs`;
const pkg = JSON.parse(readFileSync(`${driver}package.json`, 'utf8'));

/**
 * The driver's AWS clients load the EC2 client (1 MiB of the bundle's 1.6) only to find a job task's public IP, which
 * the controller never does: in its place a module that fails loudly if that ever changes.
 */
const withoutEc2Client = {
  name: 'without-ec2-client',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^@aws-sdk\/client-ec2$/ }, () => ({ path: 'client-ec2', namespace: 'without-ec2-client' }));
    esbuild.onLoad({ filter: /.*/, namespace: 'without-ec2-client' }, () => ({
      contents: "throw new Error('the manager controller bundle has no EC2 client (packages/cdk/scripts/bundle-controller.mjs)');",
      loader: 'js',
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  absWorkingDir: driver,
  entryPoints: ['src/managers/lambda.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The function's runtime is Node.js 24 (ManagerController: NODEJS_24_X), which runs code built for 20. The target
  // stays at the driver's floor, 20, because tools/e2e's controller-lambda test loads this bundle in the Node.js that
  // runs the tests.
  target: 'node20',
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  metafile: true,
  define: { __DRIVER_VERSION__: JSON.stringify(pkg.version) },
  // Some of the SDK's dependencies are CommonJS and require Node built-ins, which ESM has no require for.
  banner: { js: "import { createRequire as __gfdCreateRequire } from 'node:module'; const require = __gfdCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [withoutEc2Client],
});

const inputs = Object.keys(result.metafile.inputs);
const sdk = inputs.find((input) => input.includes('@aws-sdk/client-ecs/'));
if (sdk === undefined) throw new Error(`${outfile}: @aws-sdk/client-ecs is not in the bundle; the Lambda runtime's own SDK would be used`);
console.log(`${outfile}: ${(statSync(outfile).size / 1024).toFixed(0)} KiB from ${inputs.length} modules (driver ${pkg.version})`);
