import { parseDocument, type Tags } from 'yaml';

/** Top-level keys of `.gitlab-ci.yml` that configure the pipeline rather than name a job. */
const GLOBAL_KEYWORDS = new Set([
  'default',
  'include',
  'stages',
  'variables',
  'workflow',
  'spec',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
]);

/** One entry of a job's or the workflow's `rules`. */
export interface Rule {
  readonly if?: string;
  readonly when?: string;
  readonly allow_failure?: boolean;
  readonly [key: string]: unknown;
}

/** A job as written (or as `gitlab-ci-local --preview` expands it); only the keys the checks read are typed. */
export interface Job {
  readonly stage?: string;
  readonly tags?: string[];
  readonly extends?: string | string[];
  readonly needs?: (string | { job: string })[];
  readonly rules?: Rule[];
  readonly environment?: string | { name: string; deployment_tier?: string };
  readonly id_tokens?: Record<string, { aud: string | string[] }>;
  readonly image?: unknown;
  readonly before_script?: string[];
  readonly script?: string[];
  readonly artifacts?: { paths?: string[]; expire_in?: string; when?: string };
  readonly cache?: unknown;
  readonly interruptible?: boolean;
  readonly resource_group?: string;
  readonly variables?: Record<string, string>;
  readonly [key: string]: unknown;
}

/** A parsed pipeline: its stages, workflow rules and jobs (hidden `.templates` kept apart). */
export interface Pipeline {
  readonly stages: string[];
  readonly workflowRules: Rule[];
  readonly jobs: ReadonlyMap<string, Job>;
  readonly templates: ReadonlyMap<string, unknown>;
}

// GitLab's `!reference [.job, key]`: kept as a marker so a raw parse does not fail; --preview resolves it.
const referenceTag: Tags[number] = {
  tag: '!reference',
  collection: 'seq',
  resolve: (value) => ({ reference: (value as { toJSON(): unknown }).toJSON() }),
};

/**
 * Parses a `.gitlab-ci.yml` text. YAML errors (and duplicate keys, which GitLab would reject) throw with the
 * line of the problem.
 */
export function parsePipeline(text: string, source = '.gitlab-ci.yml'): Pipeline {
  const document = parseDocument(text, { customTags: [referenceTag], uniqueKeys: true, merge: true });
  if (document.errors.length > 0) {
    throw new Error(`${source}: ${document.errors.map((error) => error.message).join('\n')}`);
  }
  const root: unknown = document.toJS({ maxAliasCount: 1000 });
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new Error(`${source}: the top level must be a mapping of keywords and jobs.`);
  }
  const jobs = new Map<string, Job>();
  const templates = new Map<string, unknown>();
  for (const [name, value] of Object.entries(root)) {
    if (name.startsWith('.')) templates.set(name, value);
    else if (!GLOBAL_KEYWORDS.has(name)) jobs.set(name, value as Job);
  }
  const top = root as { stages?: string[]; workflow?: { rules?: Rule[] } };
  return { stages: top.stages ?? [], workflowRules: top.workflow?.rules ?? [], jobs, templates };
}

/** The names of the jobs a job needs, whichever form `needs` takes. */
export function neededJobs(job: Job): string[] {
  return (job.needs ?? []).map((need) => (typeof need === 'string' ? need : need.job));
}

/** The job's environment name, if it deploys to one. */
export function environmentOf(job: Job): string | undefined {
  return typeof job.environment === 'string' ? job.environment : job.environment?.name;
}

/** Every command the job runs, before_script included. */
export function commandsOf(job: Job): string[] {
  return [...(job.before_script ?? []), ...(job.script ?? [])];
}

/** Shell builtins and keywords: what a job's commands may use besides the image's programs. */
export const SHELL_BUILTINS: ReadonlySet<string> = new Set([
  '!', '[', 'cd', 'do', 'done', 'echo', 'elif', 'else', 'exit', 'export', 'false', 'fi', 'for', 'if', 'printf', 'set',
  'test', 'then', 'true', 'unset',
]);

/**
 * The programs a job's command line runs: the first word of each simple command, command substitutions `$(…)`
 * included, quoted text and leading `VAR=value` assignments left out. Enough for the shell `.gitlab-ci.yml` holds;
 * not a shell parser.
 */
export function programsOf(command: string): string[] {
  const substitutions = [...command.matchAll(/\$\(([^()]*)\)/g)].map((match) => match[1] ?? '');
  const unquoted = (text: string) => text.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/'[^']*'/g, "''");
  return [command.replace(/\$\([^()]*\)/g, '""'), ...substitutions]
    .flatMap((text) => unquoted(text).split(/\|\||&&|[;|\n(){}]/))
    .map((simple) => simple.trim().split(/\s+/).find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) ?? '')
    .filter((word) => word !== '' && !/^[<>]|^\d*[<>]/.test(word))
    .map((word) => word.replace(/^["']|["']$/g, ''));
}
