import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { parseDurationSeconds } from './duration.js';
import { type JobImageSpec, type JobServiceSpec, readImage, readServices } from './job-image.js';

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
  /**
   * `image:` (a name, or `{name, entrypoint, docker: {user, platform}}`): into the payload and `CI_JOB_IMAGE`.
   * @default - none (the payload's `image.name` is empty)
   */
  readonly image?: JobImageSpec;
  /**
   * `services:` (names, or `{name, alias, entrypoint, command, variables}`): into the payload.
   * @default []
   */
  readonly services?: readonly JobServiceSpec[];
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

const knownKeys = ['script', 'after_script', 'variables', 'timeout', 'cache', 'artifacts', 'dependencies', 'file_variables', 'image', 'services', 'name', 'stage', 'tags'];
const whenValues = ['on_success', 'on_failure', 'always'] as const;

/** Reads a job from YAML text; `file` names it in error messages. */
export function parseJobSpec(text: string, file: string, defaultName = 'job'): JobSpec {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const syntax = document.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return `${file}:${line}:${col}: ${error.message.split('\n')[0]}`;
  });
  if (syntax.length > 0) throw new JobSpecError(syntax);
  const reader = new JobReader(file, lineCounter, defaultName);
  const root = document.contents;
  if (!isMap(root)) {
    throw new JobSpecError([`${reader.at(root)}: a job must be a mapping with at least "script" (found ${describe(root)})`]);
  }
  for (const pair of root.items) reader.read(isScalar(pair.key) ? String(pair.key.value) : '', pair.key as Node, pair.value);
  if (!root.has('script')) reader.problems.push(`${file}: the job has no "script" (add script: ["echo hello"])`);
  return reader.result();
}

/** Collects one job's fields and every problem with them, each with its file:line:column. */
class JobReader {
  readonly problems: string[] = [];
  private script: string[] | undefined;
  private afterScript: string[] = [];
  private readonly variables: Record<string, string> = {};
  private readonly fileVariables: Record<string, string> = {};
  private timeoutSeconds = 3600;
  private name: string;
  private readonly saved: { cache?: SavedFiles; artifacts?: SavedFiles } = {};
  private dependencies: string[] = [];
  private image: JobImageSpec | undefined;
  private services: JobServiceSpec[] = [];

  constructor(
    private readonly file: string,
    private readonly lineCounter: LineCounter,
    defaultName: string,
  ) {
    this.name = defaultName;
  }

  at(node: Node | null | undefined): string {
    const offset = node?.range?.[0];
    if (offset === undefined) return this.file;
    const { line, col } = this.lineCounter.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** One top-level key of the job. */
  read(key: string, keyNode: Node, value: unknown): void {
    switch (key) {
      case 'script':
        this.script = this.strings(key, value);
        if (isSeq(value) && value.items.length === 0) this.problems.push(`${this.at(value as Node)}: "script" is empty: give at least one command`);
        return;
      case 'after_script':
        this.afterScript = this.strings(key, value) ?? [];
        return;
      case 'variables':
      case 'file_variables':
        return this.readVariables(key, value);
      case 'timeout':
        return this.readTimeout(value);
      case 'cache':
      case 'artifacts':
        return this.readSavedFiles(key, value);
      case 'dependencies':
        this.dependencies = this.strings(key, value) ?? [];
        return;
      case 'name':
        this.name = isScalar(value) ? String(value.value) : this.name;
        return;
      case 'image':
        this.image = readImage(value, (node, message) => this.problems.push(`${this.at(node as Node)}: ${message}`));
        return;
      case 'services':
        this.services = readServices(value, (node, message) => this.problems.push(`${this.at(node as Node)}: ${message}`));
        return;
      default:
        if (!knownKeys.includes(key)) {
          this.problems.push(`${this.at(keyNode)}: unknown key "${key}" (the harness reads ${knownKeys.slice(0, 11).join(', ')})`);
        }
    }
  }

  result(): JobSpec {
    if (this.problems.length > 0) throw new JobSpecError(this.problems);
    return {
      name: this.name,
      script: this.script!,
      afterScript: this.afterScript,
      variables: this.variables,
      timeoutSeconds: this.timeoutSeconds,
      ...this.saved,
      ...(this.dependencies.length > 0 ? { dependencies: this.dependencies } : {}),
      ...(Object.keys(this.fileVariables).length > 0 ? { fileVariables: this.fileVariables } : {}),
      ...(this.image === undefined ? {} : { image: this.image }),
      ...(this.services.length > 0 ? { services: this.services } : {}),
    };
  }

  /** A command or a list of commands (numbers read as commands, as GitLab does). */
  private strings(key: string, node: unknown): string[] | undefined {
    if (node === undefined) return undefined;
    if (isScalar(node) && typeof node.value === 'string') return [node.value];
    if (!isSeq(node)) {
      this.problems.push(`${this.at(node as Node)}: "${key}" must be a list of commands (found ${describe(node)})`);
      return undefined;
    }
    const commands: string[] = [];
    node.items.forEach((item, index) => {
      if (isScalar(item) && (typeof item.value === 'string' || typeof item.value === 'number')) {
        commands.push(String(item.value));
      } else {
        this.problems.push(`${this.at(item as Node)}: ${key}[${index}] must be a command string (found ${describe(item)})`);
      }
    });
    return commands;
  }

  private readVariables(key: 'variables' | 'file_variables', value: unknown): void {
    if (!isMap(value)) {
      this.problems.push(`${this.at(value as Node)}: "${key}" must be a mapping of NAME: value (found ${describe(value)})`);
      return;
    }
    const target = key === 'variables' ? this.variables : this.fileVariables;
    for (const variable of value.items) {
      const variableName = isScalar(variable.key) ? String(variable.key.value) : '';
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variableName)) {
        this.problems.push(`${this.at(variable.key as Node)}: variable name ${JSON.stringify(variableName)} is not a valid name (letters, digits, _)`);
      } else if (isScalar(variable.value) && ['string', 'number', 'boolean'].includes(typeof variable.value.value)) {
        target[variableName] = String(variable.value.value);
      } else {
        this.problems.push(`${this.at(variable.value as Node)}: ${key}.${variableName} must be a string (found ${describe(variable.value)})`);
      }
    }
  }

  private readTimeout(value: unknown): void {
    const raw = isScalar(value) ? value.value : undefined;
    const seconds = typeof raw === 'string' || typeof raw === 'number' ? parseDurationSeconds(raw) : undefined;
    if (seconds === undefined) {
      this.problems.push(`${this.at(value as Node)}: "timeout" must be a duration such as 600, "10m" or "1h 30m" (found ${describe(value)})`);
    } else {
      this.timeoutSeconds = seconds;
    }
  }

  private readSavedFiles(key: 'cache' | 'artifacts', node: unknown): void {
    if (!isMap(node)) {
      this.problems.push(`${this.at(node as Node)}: "${key}" must be a mapping with "paths" (found ${describe(node)})`);
      return;
    }
    const paths = this.strings(`${key}.paths`, node.get('paths', true)) ?? [];
    const when = node.get('when') ?? 'on_success';
    if (!whenValues.includes(when as SavedFiles['when'])) {
      this.problems.push(`${this.at(node.get('when', true) as Node)}: ${key}.when must be one of ${whenValues.join(', ')} (found ${JSON.stringify(when)})`);
      return;
    }
    if (paths.length > 0) this.saved[key] = { paths, when: when as SavedFiles['when'] };
  }
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
