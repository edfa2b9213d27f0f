import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { parseDurationSeconds } from './duration.js';

/** One CI job, written as a job in `.gitlab-ci.yml` is: the subset the harness runs. */
export interface JobSpec {
  /** The job's name (`CI_JOB_NAME`). */
  readonly name: string;
  /** The main script's commands (the `build_script` stage). */
  readonly script: readonly string[];
  /**
   * Commands run after the script, whatever its result, in a separate shell.
   * @default []
   */
  readonly afterScript: readonly string[];
  /**
   * Job variables; each reaches the driver as `CUSTOM_ENV_<NAME>` and the job's shell as `<NAME>`.
   * @default {}
   */
  readonly variables: Readonly<Record<string, string>>;
  /**
   * File-type variables (set in GitLab's project settings, not in `.gitlab-ci.yml`; `file_variables:` in the
   * harness's job file): each stage writes the value to a file with `printf` and the variable holds its path.
   * @default {}
   */
  readonly fileVariables?: Readonly<Record<string, string>>;
  /**
   * How long the whole job may take, in seconds.
   * @default 3600
   */
  readonly timeoutSeconds: number;
  /**
   * `cache:` (paths and when it is saved). Without it gitlab-runner skips `restore_cache` and `archive_cache*`.
   * @default - no cache
   */
  readonly cache?: SavedFiles;
  /**
   * `artifacts:` (paths and when they are uploaded). Without it gitlab-runner skips `upload_artifacts_*`.
   * @default - no artifacts
   */
  readonly artifacts?: SavedFiles;
  /**
   * Earlier jobs whose artifacts this job downloads (`dependencies:`). Without any, gitlab-runner skips
   * `download_artifacts`.
   * @default []
   */
  readonly dependencies?: readonly string[];
}

/** Files a job keeps (its cache or its artifacts) and after which script result. */
export interface SavedFiles {
  readonly paths: readonly string[];
  /** `when:` as in `.gitlab-ci.yml`. */
  readonly when: 'on_success' | 'on_failure' | 'always';
}

/** A job file that cannot be run, with every problem found and where. */
export class JobSpecError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid job:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'JobSpecError';
  }
}

const knownKeys = ['script', 'after_script', 'variables', 'timeout', 'cache', 'artifacts', 'dependencies', 'file_variables', 'name', 'stage', 'tags', 'image'];
const whenValues = ['on_success', 'on_failure', 'always'] as const;

/** Reads a job from YAML text; `file` names it in error messages. */
export function parseJobSpec(text: string, file: string, defaultName = 'job'): JobSpec {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const problems: string[] = [];
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  for (const error of document.errors) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    problems.push(`${file}:${line}:${col}: ${error.message.split('\n')[0]}`);
  }
  if (problems.length > 0) throw new JobSpecError(problems);

  const root = document.contents;
  if (!isMap(root)) {
    throw new JobSpecError([`${at(root)}: a job must be a mapping with at least "script" (found ${describe(root)})`]);
  }
  const strings = (key: string, node: unknown): string[] | undefined => {
    if (node === undefined) return undefined;
    if (isScalar(node) && typeof node.value === 'string') return [node.value];
    if (!isSeq(node)) {
      problems.push(`${at(node as Node)}: "${key}" must be a list of commands (found ${describe(node)})`);
      return undefined;
    }
    const commands: string[] = [];
    node.items.forEach((item, index) => {
      if (isScalar(item) && (typeof item.value === 'string' || typeof item.value === 'number')) {
        commands.push(String(item.value));
      } else {
        problems.push(`${at(item as Node)}: ${key}[${index}] must be a command string (found ${describe(item)})`);
      }
    });
    return commands;
  };

  let script: string[] | undefined;
  let afterScript: string[] = [];
  const variables: Record<string, string> = {};
  const fileVariables: Record<string, string> = {};
  let timeoutSeconds = 3600;
  let name = defaultName;
  const saved: { cache?: SavedFiles; artifacts?: SavedFiles } = {};
  let dependencies: string[] = [];
  const savedFiles = (key: 'cache' | 'artifacts', node: unknown): void => {
    if (!isMap(node)) {
      problems.push(`${at(node as Node)}: "${key}" must be a mapping with "paths" (found ${describe(node)})`);
      return;
    }
    const paths = strings(`${key}.paths`, node.get('paths', true)) ?? [];
    const when = node.get('when') ?? 'on_success';
    if (!whenValues.includes(when as SavedFiles['when'])) {
      problems.push(`${at(node.get('when', true) as Node)}: ${key}.when must be one of ${whenValues.join(', ')} (found ${JSON.stringify(when)})`);
      return;
    }
    if (paths.length > 0) saved[key] = { paths, when: when as SavedFiles['when'] };
  };
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const value = pair.value;
    switch (key) {
      case 'script':
        script = strings(key, value);
        if (isSeq(value) && value.items.length === 0) {
          problems.push(`${at(value as Node)}: "script" is empty: give at least one command`);
        }
        break;
      case 'after_script':
        afterScript = strings(key, value) ?? [];
        break;
      case 'variables':
      case 'file_variables': {
        if (!isMap(value)) {
          problems.push(`${at(value as Node)}: "${key}" must be a mapping of NAME: value (found ${describe(value)})`);
          break;
        }
        const target = key === 'variables' ? variables : fileVariables;
        for (const variable of value.items) {
          const variableName = isScalar(variable.key) ? String(variable.key.value) : '';
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variableName)) {
            problems.push(`${at(variable.key as Node)}: variable name ${JSON.stringify(variableName)} is not a valid name (letters, digits, _)`);
          } else if (isScalar(variable.value) && ['string', 'number', 'boolean'].includes(typeof variable.value.value)) {
            target[variableName] = String(variable.value.value);
          } else {
            problems.push(`${at(variable.value as Node)}: ${key}.${variableName} must be a string (found ${describe(variable.value)})`);
          }
        }
        break;
      }
      case 'timeout': {
        const raw = isScalar(value) ? value.value : undefined;
        const seconds = typeof raw === 'string' || typeof raw === 'number' ? parseDurationSeconds(raw) : undefined;
        if (seconds === undefined) {
          problems.push(`${at(value as Node)}: "timeout" must be a duration such as 600, "10m" or "1h 30m" (found ${describe(value)})`);
        } else {
          timeoutSeconds = seconds;
        }
        break;
      }
      case 'cache':
      case 'artifacts':
        savedFiles(key, value);
        break;
      case 'dependencies':
        dependencies = strings(key, value) ?? [];
        break;
      case 'name':
        name = isScalar(value) ? String(value.value) : name;
        break;
      default:
        if (!knownKeys.includes(key)) {
          problems.push(`${at(pair.key as Node)}: unknown key "${key}" (the harness reads ${knownKeys.slice(0, 9).join(', ')})`);
        }
    }
  }
  if (!root.has('script')) {
    problems.push(`${file}: the job has no "script" (add script: ["echo hello"])`);
  }
  if (problems.length > 0) throw new JobSpecError(problems);
  return { name, script: script!, afterScript, variables, timeoutSeconds, ...saved, ...(dependencies.length > 0 ? { dependencies } : {}),
    ...(Object.keys(fileVariables).length > 0 ? { fileVariables } : {}) };
}

/** Reads a job from a YAML file; the job's name defaults to the file's base name. */
export async function loadJobSpec(path: string): Promise<JobSpec> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new JobSpecError([`${path}: cannot read the job file (${error.code ?? error.message})`]);
  });
  const base = path.split('/').pop()!.replace(/\.ya?ml$/, '');
  return parseJobSpec(text, path, base);
}

function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) return node.value === null ? 'null' : `${typeof node.value} ${JSON.stringify(node.value)}`;
  return 'something else';
}
