import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GitLabCiLocalProject } from './gitlab-ci-local.js';
import { parsePipeline } from './pipeline.js';
import { workspaceRoot } from './workspace.js';

const root = workspaceRoot();
const pipelineFile = join(root, '.gitlab-ci.yml');
const projects: GitLabCiLocalProject[] = [];
/** What GitLab sets in a merge request pipeline (and CI_COMMIT_BRANCH it leaves unset). */
const MERGE_REQUEST = {
  CI_PIPELINE_SOURCE: 'merge_request_event',
  CI_MERGE_REQUEST_IID: '7',
  CI_MERGE_REQUEST_DIFF_BASE_SHA: '0000000000000000000000000000000000000000',
};
const project = (options: { branch?: string; link?: boolean } = {}) => {
  const created = GitLabCiLocalProject.create({
    pipelineFile,
    branch: options.branch,
    // What the `validate` job reads, and the installed tools it runs (tsx).
    link: options.link ? { from: root, entries: ['packages', 'examples', 'images', 'node_modules', 'package.json'] } : undefined,
  });
  projects.push(created);
  return created;
};
afterAll(() => {
  for (const created of projects) created.remove();
});

interface ListedJob {
  name: string;
  stage: string;
  when: string;
  allow_failure: boolean;
}
/** The jobs gitlab-ci-local's rule evaluation keeps for a pipeline: `when: never` ones are left out. */
async function pipelineJobs(
  created: GitLabCiLocalProject,
  variables: Record<string, string> = {},
  unset: string[] = [],
): Promise<ListedJob[]> {
  const result = await created.run(['--list-json', '--no-json-schema-validation'], variables, unset);
  expect(result.exitCode, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as ListedJob[]).filter((job) => job.when !== 'never');
}
const names = (listed: ListedJob[]) => listed.map((job) => job.name);

describe('gitlab-ci-local', () => {
  it('--list: the file passes GitLab JSON schema validation and lists the default branch pipeline', async () => {
    const result = await project().run(['--list']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/json schema validated/);
    // The throwaway project has an origin and a default branch: no fallback git data.
    expect(result.stderr).not.toMatch(/fallback|Unable to retrieve/i);
    const listed = result.stdout.split('\n').slice(1).filter((line) => line.trim() !== '');
    expect(listed.map((line) => line.split(/\s{2,}/)[0])).toEqual([
      'validate',
      'build dev',
      'deploy dev',
      'build staging',
      'deploy staging',
      'build production',
      'deploy production',
    ]);
    expect(listed.find((line) => line.startsWith('deploy production'))).toMatch(/\bmanual\b/);
  });

  it('--preview: expands extends, anchors and !reference into plain jobs', async () => {
    const result = await project().run(['--preview', '--no-json-schema-validation']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/!reference|^\s+extends:/m);
    const expanded = parsePipeline(result.stdout, 'preview');
    expect(expanded.jobs.get('deploy staging')?.before_script).toContain(
      'test -d node_modules || npm ci --ignore-scripts --no-audit --no-fund',
    );
  });

  it('a merge request pipeline runs only the AWS-free checks', async () => {
    const listed = await pipelineJobs(project({ branch: 'feature/change' }), MERGE_REQUEST, ['CI_COMMIT_BRANCH']);
    expect(names(listed)).toEqual(['validate', 'test']);
  });

  it('a branch pipeline builds on the dev runner and deploys nothing', async () => {
    const listed = await pipelineJobs(project({ branch: 'feature/change' }));
    expect(names(listed)).toEqual(['validate', 'build dev']);
  });

  it('the default branch promotes dev, staging, then production by hand', async () => {
    const listed = await pipelineJobs(project());
    expect(names(listed).sort()).toEqual(
      [
        'validate',
        'build dev',
        'deploy dev',
        'build staging',
        'deploy staging',
        'build production',
        'deploy production',
      ].sort(),
    );
    expect(listed.filter((job) => job.when === 'manual')).toEqual([
      expect.objectContaining({ name: 'deploy production', allow_failure: false }),
    ]);
  });

  it('every job a pipeline runs finds the jobs it needs in that same pipeline', async () => {
    const scenarios: [string, GitLabCiLocalProject, Record<string, string>, string[]][] = [
      ['default branch', project(), {}, []],
      ['feature branch', project({ branch: 'feature/change' }), {}, []],
      ['merge request', project({ branch: 'feature/change' }), MERGE_REQUEST, ['CI_COMMIT_BRANCH']],
    ];
    for (const [scenario, created, variables, unset] of scenarios) {
      const result = await created.run(['--validate-dependency-chain', '--no-json-schema-validation'], variables, unset);
      expect(result.exitCode, `${scenario}: ${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout, scenario).toContain('All job dependencies are valid');
    }
  });

  it('runs the validate job with the shell executor', async () => {
    const result = await project({ link: true }).run(['validate', '--no-json-schema-validation']);
    const log = result.stdout + result.stderr;
    expect(result.exitCode, log).toBe(0);
    expect(log).toMatch(/examples\/dev\/fargate\.toml: valid driver configuration/);
    expect(log).toMatch(/examples\/dev\/config\.toml: valid runner configuration/);
    expect(log).toMatch(/images: \d+ generated files are up to date/);
    expect(log).toMatch(/PASS\s+validate/);
  });

  it('fails the validate job on an unknown key in an example (validate --strict)', async () => {
    // The workspace without its examples, and the examples with one misspelt key.
    const created = GitLabCiLocalProject.create({
      pipelineFile,
      link: { from: root, entries: ['packages', 'images', 'node_modules', 'package.json'] },
    });
    projects.push(created);
    const examples = join(created.dir, 'examples', 'dev');
    mkdirSync(examples, { recursive: true });
    copyFileSync(join(root, 'examples/dev/config.toml'), join(examples, 'config.toml'));
    const driver = readFileSync(join(root, 'examples/dev/fargate.toml'), 'utf8');
    expect(driver).toMatch(/^\[Fargate\]$/m);
    writeFileSync(join(examples, 'fargate.toml'), driver.replace(/^\[Fargate\]$/m, '[Fargate]\n  Clustre = "typo"'));
    const result = await created.run(['validate', '--no-json-schema-validation']);
    const log = result.stdout + result.stderr;
    expect(result.exitCode, log).not.toBe(0);
    expect(log).toMatch(/examples\/dev\/fargate\.toml:\d+:\d+: error: Fargate\.Clustre: expected a known key, found unknown key "Clustre"/);
    expect(log).toMatch(/FAIL\s+validate/);
  });
});
