export { installedPackageProblems, tarballContentProblems } from './manifest.js';
export type { PublishedManifest } from './manifest.js';
export { cleanEnvironment, runProcess } from './process.js';
export type { ProcessResult } from './process.js';
export { Sandbox } from './sandbox.js';
export { packPackage } from './tarball.js';
export type { PackedPackage } from './tarball.js';
export { workspaceRoot } from './workspace.js';
