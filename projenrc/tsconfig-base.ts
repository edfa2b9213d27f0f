import { JsonFile, type Project, type typescript } from 'projen';

/** Where the shared compiler options live, relative to the workspace root. */
export const TSCONFIG_BASE = 'tsconfig.base.json';

/**
 * The compiler options every ESM package compiles with: strict, NodeNext, ES2022. A package's own tsconfig.json
 * extends this file and adds only what is its own (rootDir, outDir, the `@types` it installs, include/exclude).
 * The jsii package (packages/cdk) cannot extend it: jsii writes its tsconfig.json itself (CommonJS, its own checks).
 */
export const baseCompilerOptions = {
  alwaysStrict: true,
  declaration: true,
  esModuleInterop: true,
  experimentalDecorators: true,
  inlineSourceMap: true,
  inlineSources: true,
  lib: ['es2022'],
  module: 'NodeNext',
  moduleResolution: 'nodenext',
  noEmitOnError: true,
  noFallthroughCasesInSwitch: true,
  noImplicitAny: true,
  noImplicitReturns: true,
  noImplicitThis: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  resolveJsonModule: true,
  strict: true,
  strictNullChecks: true,
  strictPropertyInitialization: true,
  stripInternal: true,
  target: 'ES2022',
  skipLibCheck: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: false,
  isolatedModules: true,
  verbatimModuleSyntax: true,
} as const;

/** Writes {@link TSCONFIG_BASE} at the workspace root. */
export function tsconfigBase(root: Project): JsonFile {
  return new JsonFile(root, TSCONFIG_BASE, { obj: { compilerOptions: baseCompilerOptions }, allowComments: true, marker: true });
}

/**
 * Makes a package's generated tsconfig.json extend {@link TSCONFIG_BASE}: projen writes every default option into
 * it, so the ones the base holds are deleted here, leaving the package's own.
 */
export function extendTsconfigBase(project: typescript.TypeScriptProject): void {
  const file = project.tsconfig?.file;
  if (!file) throw new Error(`${project.name} has no tsconfig.json to extend ${TSCONFIG_BASE} from`);
  const depth = project.outdir.slice(project.root.outdir.length + 1).split('/').length;
  file.addOverride('extends', `${'../'.repeat(depth)}${TSCONFIG_BASE}`);
  for (const option of Object.keys(baseCompilerOptions)) file.addDeletionOverride(`compilerOptions.${option}`);
}
