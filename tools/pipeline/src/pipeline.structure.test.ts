import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerTargetsOf, loadWorkspaceTasks } from './docker-targets.js';
import { contextOf, expandVariables, managerContextStub, synthesizeExampleApp } from './example-app.js';
import { GitLabCiLocalProject } from './gitlab-ci-local.js';
import {
  commandsOf,
  environmentOf,
  type Job,
  neededJobs,
  type Pipeline,
  parsePipeline,
  programsOf,
  SHELL_BUILTINS,
} from './pipeline.js';
import { workspaceRoot } from './workspace.js';

const root = workspaceRoot();
const pipelineFile = join(root, '.gitlab-ci.yml');
const ENVIRONMENTS = ['dev', 'staging', 'production'] as const;
const STAGES = ENVIRONMENTS.flatMap((name) => [`build ${name}`, `deploy ${name}`]);
const DEFAULT_BRANCH_ONLY = '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH';
/** Where the deploy jobs take the environments' job image from: the images package's generated ci-tools. */
const CI_TOOLS_CONTEXT = 'images/ci-tools';

/** A file `generateImages` of the images package returns. */
interface GeneratedFile {
  readonly path: string;
  readonly content: string;
  readonly executable: boolean;
}

/** A module of the images package's source (its one home of the ci-tools facts), loaded as the cdk construct is. */
async function imagesSource<T>(path: string): Promise<T> {
  return (await import(pathToFileURL(join(root, 'packages/images/src', path)).href)) as T;
}

/** The file as written (anchors resolved by the YAML parser, `extends` not). */
let raw: Pipeline;
/** The file as GitLab sees it: `extends`, anchors and `!reference` expanded by gitlab-ci-local --preview. */
let expanded: Pipeline;
let project: GitLabCiLocalProject;

beforeAll(async () => {
  raw = parsePipeline(readFileSync(pipelineFile, 'utf8'), pipelineFile);
  project = GitLabCiLocalProject.create({ pipelineFile });
  const preview = await project.run(['--preview', '--no-json-schema-validation']);
  expect(preview.stderr, 'gitlab-ci-local --preview failed').not.toMatch(/error/i);
  expect(preview.exitCode).toBe(0);
  expanded = parsePipeline(preview.stdout, 'gitlab-ci-local --preview');
});
afterAll(() => project?.remove());

const jobs = (): [string, Job][] => [...expanded.jobs.entries()];
const job = (name: string): Job => {
  const found = expanded.jobs.get(name);
  if (found === undefined) throw new Error(`.gitlab-ci.yml has no job "${name}"`);
  return found;
};
const environmentOfStage = (stage: string) => stage.split(' ').at(-1);
const deployJobs = () => jobs().filter(([, j]) => j.id_tokens !== undefined || environmentOf(j) !== undefined);

describe('.gitlab-ci.yml structure', () => {
  it("has the seed article's six stages, in order", () => {
    expect(raw.stages).toEqual(STAGES);
  });

  it('runs every job on exactly one environment runner, in a stage of that same environment', () => {
    expect(expanded.jobs.size).toBeGreaterThanOrEqual(8);
    for (const [name, j] of jobs()) {
      const environmentTags = (j.tags ?? []).filter((tag) => (ENVIRONMENTS as readonly string[]).includes(tag));
      expect(environmentTags, `${name}: tags`).toHaveLength(1);
      expect(STAGES, `${name}: stage`).toContain(j.stage);
      expect(environmentOfStage(j.stage ?? ''), `${name}: stage vs tag`).toBe(environmentTags[0]);
    }
  });

  it('sets no image: the driver runs every job in its environment job image', () => {
    for (const [name, j] of jobs()) expect(j.image, name).toBeUndefined();
  });

  it('builds and deploys each environment, the deploy after its build and with its artifacts', () => {
    for (const environment of ENVIRONMENTS) {
      const build = job(`build ${environment}`);
      const deploy = job(`deploy ${environment}`);
      expect(build.stage).toBe(`build ${environment}`);
      expect(deploy.stage).toBe(`deploy ${environment}`);
      expect(STAGES.indexOf(deploy.stage!)).toBeGreaterThan(STAGES.indexOf(build.stage!));
      expect(neededJobs(deploy)).toEqual([`build ${environment}`]);
      expect(environmentOf(deploy)).toBe(environment);
      expect(deploy.tags).toEqual([environment]);
      expect(build.tags).toEqual([environment]);
    }
    // The promotion order: each environment builds only after the previous one deployed (stage order, no needs).
    for (const environment of ['staging', 'production']) expect(job(`build ${environment}`).needs).toBeUndefined();
  });

  it('builds and tests with Nx, with npm and Nx caches and artifacts that expire', () => {
    for (const environment of ENVIRONMENTS) {
      const build = job(`build ${environment}`);
      expect(commandsOf(build)).toContain('npx nx run-many -t build test:unit --output-style=static');
      expect(commandsOf(build).some((c) => c.includes('driver:bundle')), 'driver bundle for the manager image').toBe(true);
      expect(build.artifacts?.expire_in).toMatch(/^\d+ ?(days?|d|hours?|h|weeks?)$/);
      expect(build.artifacts?.paths).toEqual(expect.arrayContaining(['packages/*/dist/', 'images/runner-manager/dist/']));
      const cachePaths = (build.cache as { paths: string[] }[]).flatMap((cache) => cache.paths);
      expect(cachePaths).toEqual(expect.arrayContaining(['.npm/', '.nx/cache/']));
    }
  });

  it('deploys with a GitLab ID token into the environment deploy role and cdk deploy of its runner stack', () => {
    const example = readFileSync(join(root, 'packages/cdk/examples/three-environments/environments.ts'), 'utf8');
    // The names this file relies on are the example app's: runner stacks and deploy-role outputs per environment.
    expect(example).toContain('`GitLabRunner-${name}`');
    expect(example).toContain('`${name}DeployRoleArn`');
    for (const environment of ENVIRONMENTS) {
      const deploy = job(`deploy ${environment}`);
      const commands = commandsOf(deploy);
      const tokenFile = commands.findIndex((c) => c.includes('export AWS_WEB_IDENTITY_TOKEN_FILE'));
      const writeToken = commands.findIndex((c) => c.includes('"$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"'));
      const cdkDeploy = commands.findIndex((c) => /npx cdk deploy "GitLabRunner-\$CI_ENVIRONMENT_NAME"/.test(c));
      expect(tokenFile).toBeGreaterThanOrEqual(0);
      expect(writeToken).toBeGreaterThan(tokenFile);
      expect(cdkDeploy).toBeGreaterThan(writeToken);
      expect(commands[cdkDeploy]).toContain('--require-approval never');
      expect(commands.some((c) => c.includes('AWS_ROLE_ARN is not set')), 'clear error without the role').toBe(true);
      expect(deploy.interruptible).toBe(false);
      expect(deploy.resource_group).toBe(`deploy-${environment}`);
    }
  });

  it("gives each deploy job one ID token, with its own environment's audience and no other's", async () => {
    // The audience GitLabOidcDeployRole trusts by default, from the construct itself (its one home).
    const role = pathToFileURL(join(root, 'packages/cdk/src/deploy/gitlab-oidc-deploy-role.ts')).href;
    const { GitLabOidcDeployRole } = (await import(role)) as {
      GitLabOidcDeployRole: { defaultAudience(gitlabHost: string, environment: string): string };
    };
    const audiences = ENVIRONMENTS.map((environment) => {
      const tokens = job(`deploy ${environment}`).id_tokens ?? {};
      expect(Object.keys(tokens), `deploy ${environment}: id_tokens`).toEqual(['AWS_ID_TOKEN']);
      const aud = tokens.AWS_ID_TOKEN?.aud;
      expect(typeof aud, `deploy ${environment}: one audience, not a list`).toBe('string');
      // GitLab expands $CI_SERVER_URL (https://<host>) when it signs the token.
      const signed = String(aud).replace('$CI_SERVER_URL', 'https://gitlab.example.com');
      expect(signed, `deploy ${environment}`).toBe(GitLabOidcDeployRole.defaultAudience('gitlab.example.com', environment));
      return String(aud);
    });
    expect(audiences).toEqual(['$CI_SERVER_URL/deploy/dev', '$CI_SERVER_URL/deploy/staging', '$CI_SERVER_URL/deploy/production']);
    // The shared .deploy template declares none: a token there would reach every environment's job.
    expect((raw.templates.get('.deploy') as { id_tokens?: unknown }).id_tokens).toBeUndefined();
  });

  it('gives ID tokens and AWS commands to deploy jobs only', () => {
    const deployNames = deployJobs().map(([name]) => name);
    expect(deployNames.sort()).toEqual(ENVIRONMENTS.map((e) => `deploy ${e}`).sort());
    for (const [name, j] of jobs()) {
      if (deployNames.includes(name)) continue;
      expect(j.id_tokens, name).toBeUndefined();
      for (const command of commandsOf(j)) expect(command, name).not.toMatch(/\bcdk deploy\b|\baws\s|AWS_ROLE_ARN/);
    }
  });

  it('installs dependencies with npm ci --ignore-scripts in every job that installs', () => {
    const installs = jobs().flatMap(([name, j]) =>
      commandsOf(j)
        .filter((command) => /\bnpm\s+(ci|install|i|clean-install|install-clean)\b/.test(command))
        .map((command) => ({ name, command })),
    );
    expect(installs.map(({ name }) => name).sort()).toEqual(
      ['validate', 'test', 'mutation', ...ENVIRONMENTS.flatMap((e) => [`build ${e}`, `deploy ${e}`])].sort(),
    );
    for (const { name, command } of installs) expect(command, name).toMatch(/\bnpm ci --ignore-scripts\b/);
  });

  it('names, where it installs, every dependency that has an install script and why no job needs it', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript === true)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.length, 'package-lock.json marks install scripts with hasInstallScript').toBeGreaterThan(0);
    const text = readFileSync(pipelineFile, 'utf8');
    const reasons = text.slice(text.lastIndexOf('\n\n', text.indexOf('\n.node:')), text.indexOf('\n.node:'));
    for (const name of withScripts) {
      expect(reasons, `${name} runs an install script: say above .node in .gitlab-ci.yml why CI does without it`).toContain(
        name,
      );
    }
  });

  it('builds no image in a job (a Fargate task cannot): cdk deploy publishes the stacks\' images', () => {
    expect(expanded.jobs.has('images')).toBe(false);
    for (const [name, j] of jobs()) {
      const programs = commandsOf(j)
        .flatMap(programsOf)
        .map((program) => program.slice(program.lastIndexOf('/') + 1));
      for (const builder of ['buildah', 'docker', 'podman', 'kaniko', 'executor']) expect(programs, name).not.toContain(builder);
      expect(Object.keys(j.variables ?? {}), name).not.toContain('CDK_DOCKER');
    }
  });

  it('runs no target that needs a Docker engine in a Fargate job unless the job sets DOCKER_HOST', () => {
    // Every job runs on an environment's Fargate runner (checked above), where ensure-engine cannot start dockerd.
    const workspace = loadWorkspaceTasks(root);
    expect(workspace.dockerTargets.has('test'), "the check sees the packages' Docker target").toBe(true);
    for (const [name, j] of jobs()) {
      if (j.variables?.DOCKER_HOST !== undefined) continue;
      for (const command of commandsOf(j)) {
        expect(dockerTargetsOf(command, workspace), `${name} runs "${command}" without DOCKER_HOST: run test:unit`).toEqual([]);
      }
    }
    const text = readFileSync(pipelineFile, 'utf8');
    const header = text.slice(0, text.indexOf('\nstages:'));
    for (const topic of ['test:unit', 'DOCKER_HOST', '*.int.test.ts']) expect(header, topic).toContain(topic);
  });

  it("deploys every environment with the ci-tools job image, generated from the images package's spec", async () => {
    const app = readFileSync(join(root, 'packages/cdk/examples/three-environments/app.ts'), 'utf8');
    expect(app, "the example app takes the job image's build context from -c jobImage").toMatch(/context\('jobImage'\)/);
    for (const environment of ENVIRONMENTS) {
      const cdkDeploy = commandsOf(job(`deploy ${environment}`)).find((c) => c.includes('npx cdk deploy'));
      expect(cdkDeploy, `deploy ${environment}`).toContain(`-c jobImage="$CI_PROJECT_DIR/${CI_TOOLS_CONTEXT}"`);
    }
    // What the deploys build from is what the spec generates now: the images package's own stale check.
    const { findStaleFiles, generateImages } = await imagesSource<{
      generateImages(): GeneratedFile[];
      findStaleFiles(outDir: string, files: readonly GeneratedFile[]): Promise<{ path: string; reason: string }[]>;
    }>('generate.ts');
    const ciTools = generateImages().filter((file) => file.path.startsWith('ci-tools/'));
    expect(ciTools.map((file) => file.path)).toContain('ci-tools/Dockerfile');
    expect(await findStaleFiles(join(root, 'images'), ciTools)).toEqual([]);
  });

  it("synthesizes every runner stack with ci-tools as the job image, from the deploy jobs' own -c values", async () => {
    const command = commandsOf(job('deploy dev')).find((c) => c.includes('npx cdk deploy')) ?? '';
    for (const environment of ENVIRONMENTS) {
      expect(commandsOf(job(`deploy ${environment}`)), environment).toContain(command);
    }
    const ci = { CI_SERVER_URL: 'https://gitlab.example.com', CI_PROJECT_PATH: 'group/project', CI_PROJECT_DIR: root };
    const context = Object.fromEntries(Object.entries(contextOf(command)).map(([key, value]) => [key, expandVariables(value, ci)]));
    expect(Object.keys(context).sort()).toEqual(['gitlabUrl', 'jobImage', 'projectPath']);
    const example = join(root, 'packages/cdk/examples/three-environments/build-context.ts');
    const { MANAGER_CONTEXT_FILES } = (await import(pathToFileURL(example).href)) as { MANAGER_CONTEXT_FILES: string[] };
    const { JobTask } = (await import(pathToFileURL(join(root, 'packages/cdk/src/job/job-task.ts')).href)) as {
      JobTask: { DEFAULT_CONTAINER_NAME: string };
    };
    const manager = managerContextStub(root, MANAGER_CONTEXT_FILES);
    const out = await synthesizeExampleApp(root, { ...context, managerImage: manager.dir }).finally(manager.remove);
    try {
      for (const environment of ENVIRONMENTS) {
        const read = (suffix: string): unknown => JSON.parse(readFileSync(join(out, `GitLabRunner-${environment}.${suffix}`), 'utf8'));
        const { dockerImages } = read('assets.json') as { dockerImages: Record<string, { source: { directory: string } }> };
        const ciTools = Object.entries(dockerImages)
          .filter(([, asset]) => readFileSync(join(out, asset.source.directory, 'Dockerfile'), 'utf8').startsWith('# ci-tools:'))
          .map(([hash]) => hash);
        expect(ciTools, `${environment}: one image asset built from images/ci-tools`).toHaveLength(1);
        const { Resources } = read('template.json') as { Resources: Record<string, { Type: string; Properties: never }> };
        const jobContainers = Object.values(Resources)
          .filter((resource) => resource.Type === 'AWS::ECS::TaskDefinition')
          .flatMap((resource) => (resource.Properties as { ContainerDefinitions: { Name: string; Image: unknown }[] }).ContainerDefinitions)
          .filter((container) => container.Name === JobTask.DEFAULT_CONTAINER_NAME);
        expect(jobContainers.length, environment).toBeGreaterThan(0);
        for (const container of jobContainers) expect(JSON.stringify(container.Image), environment).toContain(ciTools[0]);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 240_000);

  it('calls no program that the ci-tools image lacks (CI_TOOLS_COMMANDS, which its integration test runs)', async () => {
    const { CI_TOOLS_COMMANDS } = await imagesSource<{ CI_TOOLS_COMMANDS: readonly string[] }>('spec/ci-tools.ts');
    const allowed = new Set([...CI_TOOLS_COMMANDS, ...SHELL_BUILTINS]);
    const called = new Set<string>();
    for (const [name, j] of jobs()) {
      for (const program of commandsOf(j).flatMap(programsOf)) {
        called.add(program);
        expect(allowed.has(program), `${name} calls ${program}: add it to the ciTools spec and CI_TOOLS_COMMANDS`).toBe(true);
      }
    }
    // The check sees the jobs' real programs, not an empty list.
    expect([...called]).toEqual(expect.arrayContaining(['npm', 'npx', 'git', 'node', 'mktemp']));
  });

  it('runs mutation testing on the default branch only, where a Docker engine answers, and keeps the Stryker reports', async () => {
    const mutation = job('mutation');
    expect(commandsOf(mutation)).toContain('npm run mutation');
    // Its Stryker run includes the driver's sshd (testcontainers) tests: no engine on Fargate without DOCKER_HOST.
    expect(mutation.rules).toEqual([{ if: `${DEFAULT_BRANCH_ONLY} && $DOCKER_HOST` }]);
    expect(neededJobs(mutation)).toEqual([]);
    expect(mutation.artifacts?.when).toBe('always');
    // Where the reports land: each mutated package's stryker.config.mjs, its one home.
    for (const pkg of ['config', 'driver']) {
      const config = pathToFileURL(join(root, `packages/${pkg}/stryker.config.mjs`)).href;
      const { default: stryker } = (await import(config)) as { default: { jsonReporter: { fileName: string } } };
      const report = stryker.jsonReporter.fileName;
      expect(mutation.artifacts?.paths, pkg).toContain(`packages/${pkg}/${report.slice(0, report.lastIndexOf('/') + 1)}`);
    }
  });

  it('deploys production only by hand from the default branch, and the pipeline waits for it', () => {
    expect(job('deploy production').rules).toEqual([{ if: DEFAULT_BRANCH_ONLY, when: 'manual', allow_failure: false }]);
    expect(job('build production').rules).toEqual([{ if: DEFAULT_BRANCH_ONLY }]);
    for (const environment of ['dev', 'staging']) {
      expect(job(`deploy ${environment}`).rules, environment).toEqual([{ if: DEFAULT_BRANCH_ONLY }]);
    }
  });

  it('runs one pipeline per change: merge requests get theirs, a branch with an open one gets none', () => {
    expect(raw.workflowRules).toEqual([
      { if: '$CI_PIPELINE_SOURCE == "merge_request_event"' },
      { if: '$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS', when: 'never' },
      { if: '$CI_COMMIT_BRANCH' },
    ]);
  });

  it('says how to adopt it: the CI/CD variable, the protected environment, the local check', () => {
    const text = readFileSync(pipelineFile, 'utf8');
    const header = text.slice(0, text.indexOf('\nstages:'));
    expect(header.split('\n').every((line) => line === '' || line.startsWith('#'))).toBe(true);
    for (const topic of ['AWS_ROLE_ARN', 'Protected environments', 'gitlab-ci-local', CI_TOOLS_CONTEXT, 'replaces the manager']) {
      expect(header, topic).toContain(topic);
    }
  });
});
