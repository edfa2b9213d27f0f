import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a task or target runs first when it needs a Docker engine (it starts dockerd, which a Fargate task cannot). */
export const ENGINE_SCRIPT = 'tools/docker/ensure-engine';

/** A step of a projen task (`.projen/tasks.json`): a shell command or another task. */
interface TaskStep {
  readonly exec?: string;
  readonly spawn?: string;
}

type Tasks = Readonly<Record<string, { readonly steps?: readonly TaskStep[] }>>;

/** The keys of a package.json this check reads. */
interface PackageJson {
  readonly scripts?: Record<string, string>;
  readonly workspaces?: string[];
  readonly nx?: {
    readonly includedScripts?: string[];
    readonly targets?: Record<string, { readonly command?: string; readonly dependsOn?: string[] }>;
  };
}

/** The workspace's tasks, as far as a CI command line reaches them. */
export interface WorkspaceTasks {
  /** The Nx targets that reach {@link ENGINE_SCRIPT} in some project, themselves or through `dependsOn`. */
  readonly dockerTargets: ReadonlySet<string>;
  /** The root package's projen tasks: what `npm test` or `npm run <task>` at the root runs. */
  readonly rootTasks: Tasks;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const tasksOf = (dir: string): Tasks => readJson<{ tasks: Tasks }>(join(dir, '.projen/tasks.json')).tasks;

/** The projen task a command runs, when it is `projen <task>` (a projen script, or an Nx target's command). */
export function projenTaskOf(command: string): string | undefined {
  return /^(?:npx\s+)?projen\s+([\w:-]+)\s*$/.exec(command.trim())?.[1];
}

/** The shell commands a projen task runs, the tasks it spawns expanded. */
export function taskCommands(tasks: Tasks, name: string, seen: Set<string> = new Set()): string[] {
  const task = tasks[name];
  if (task === undefined || seen.has(name)) return [];
  seen.add(name);
  return (task.steps ?? []).flatMap((step) => {
    if (step.spawn !== undefined) return taskCommands(tasks, step.spawn, seen);
    return step.exec === undefined ? [] : [step.exec];
  });
}

/**
 * The Nx targets a command line runs: `nx run-many|affected -t a b` (also `--targets=a,b`) and
 * `nx run <project>:<target>`. Not a shell parser: enough for `.gitlab-ci.yml` and projen's tasks.
 */
export function nxTargetsOf(command: string): string[] {
  const words = command.split(/\s+/).filter((word) => word !== '');
  const nx = words.findIndex((word) => word === 'nx' || word.endsWith('/nx'));
  if (nx < 0) return [];
  const verb = words[nx + 1];
  if (verb === 'run') return [words[nx + 2]?.split(':').slice(1).join(':') ?? ''].filter((target) => target !== '');
  if (verb !== 'run-many' && verb !== 'affected') return [];
  const targets: string[] = [];
  let listing = false;
  for (const word of words.slice(nx + 2)) {
    const inline = /^(?:-t|--targets?)=(.+)$/.exec(word);
    if (inline) targets.push(...inline[1]!.split(','));
    else if (word === '-t' || word === '--targets' || word === '--target') listing = true;
    else if (word.startsWith('-')) listing = false;
    else if (listing) targets.push(...word.split(','));
  }
  return targets.filter((target) => target !== '');
}

/** An Nx target of one package: the shell commands it runs and the targets it depends on (`^` kept). */
interface Target {
  readonly commands: string[];
  readonly dependsOn: string[];
}

/** Each target's own commands in one package, and the same-project targets it depends on. */
function packageTargets(dir: string, defaults: Record<string, { dependsOn?: string[] }>): Map<string, Target> {
  const pkg = readJson<PackageJson>(join(dir, 'package.json'));
  const tasks = tasksOf(dir);
  const names = new Set([...Object.keys(pkg.nx?.targets ?? {}), ...(pkg.nx?.includedScripts ?? [])]);
  const targets = new Map<string, Target>();
  for (const name of names) {
    const command = pkg.nx?.targets?.[name]?.command ?? pkg.scripts?.[name] ?? '';
    const task = projenTaskOf(command);
    const dependsOn = pkg.nx?.targets?.[name]?.dependsOn ?? defaults[name]?.dependsOn ?? [];
    targets.set(name, { commands: task === undefined ? [command] : taskCommands(tasks, task), dependsOn });
  }
  return targets;
}

/** The workspace packages (root package.json `workspaces`, `dir/*` globs) that projen manages. */
function workspacePackages(root: string): string[] {
  const globs = readJson<PackageJson>(join(root, 'package.json')).workspaces ?? [];
  return globs.flatMap((glob) => {
    const parent = join(root, glob.replace(/\/\*$/, ''));
    return readdirSync(parent)
      .map((name) => join(parent, name))
      .filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, '.projen/tasks.json')));
  });
}

/** Reads every workspace package's targets and finds those that need a Docker engine. */
export function loadWorkspaceTasks(root: string): WorkspaceTasks {
  const nx = readJson<{ targetDefaults?: Record<string, { dependsOn?: string[] }> }>(join(root, 'nx.json'));
  const dockerTargets = new Set<string>();
  for (const dir of workspacePackages(root)) {
    const targets = packageTargets(dir, nx.targetDefaults ?? {});
    const needsDocker = (name: string, path: string[]): boolean => {
      const target = targets.get(name);
      if (target === undefined || path.includes(name)) return false;
      if (target.commands.some((command) => command.includes(ENGINE_SCRIPT))) return true;
      // `^x` is x of the projects this one depends on: also a target named x, which this check covers by name.
      return target.dependsOn.some((dependency) => needsDocker(dependency.replace(/^\^/, ''), [...path, name]));
    };
    for (const name of targets.keys()) if (needsDocker(name, [])) dockerTargets.add(name);
  }
  return { dockerTargets, rootTasks: tasksOf(root) };
}

/** The root task a command line runs: `npm test`, `npm run <task>` or `projen <task>` at the root. */
function rootTaskOf(command: string): string | undefined {
  if (/\bnpm\s+(?:test|t)\b/.test(command)) return 'test';
  return (/\bnpm\s+run(?:-script)?\s+([\w:-]+)/.exec(command) ?? /\bprojen\s+([\w:-]+)/.exec(command))?.[1];
}

/**
 * What in a CI command line needs a Docker engine: the Nx targets it runs (through the root's tasks too) that do,
 * and {@link ENGINE_SCRIPT} when it calls that itself.
 */
export function dockerTargetsOf(command: string, workspace: WorkspaceTasks): string[] {
  const rootTask = rootTaskOf(command);
  const viaRoot = rootTask === undefined ? [] : taskCommands(workspace.rootTasks, rootTask).flatMap(nxTargetsOf);
  const targets = [...nxTargetsOf(command), ...viaRoot].filter((target) => workspace.dockerTargets.has(target));
  return command.includes(ENGINE_SCRIPT) ? [ENGINE_SCRIPT, ...targets] : targets;
}
