import { nextDelaySeconds } from './poll-interval.js';
import type { RenderOutcome } from './rerender.js';
import { changedSettingNames, parseSettings, SettingsError, type ManagerSettings } from './settings.js';
import type { ParameterValue } from './aws/ssm.js';
import { DRAIN_STARTED_TAG } from './drain-tag.js';

/** What the watcher does to the world; the CLI wires SSM, the config CLI and signals in. */
export interface WatcherDependencies {
  /** Reads the settings parameter. */
  read(): Promise<ParameterValue>;
  /** Renders both files from the manager's environment with these settings laid over it. */
  render(settings: ManagerSettings): Promise<RenderOutcome>;
  /** Asks gitlab-runner to stop taking jobs and exit when its running jobs end (SIGQUIT). */
  drain(): void;
  /**
   * The value of the manager controller's drain tag on this manager's own ECS task, undefined while it has none.
   * Absent outside ECS (no task metadata endpoint): then only a version change drains.
   */
  drainTag?(): Promise<string | undefined>;
  /** Whether gitlab-runner still runs; the watcher ends with it. */
  runnerAlive(): boolean;
  sleep(ms: number): Promise<void>;
  log(line: string): void;
}

/** How the watcher is set up. */
export interface WatcherOptions {
  /** The parameter's name, for messages. */
  readonly parameterName: string;
  readonly pollSeconds: number;
  /** This manager's version; a parameter naming another one drains it. Undefined: no version drains. */
  readonly ownVersion?: string;
  /** The parameter version the entrypoint rendered from at start: reading it again renders nothing. */
  readonly appliedVersion?: number;
}

/** What one poll led to. */
export type PollResult = 'watching' | 'drained';

/**
 * Polls the settings parameter and applies each new value: re-renders config.toml and the driver TOML (gitlab-runner
 * reloads config.toml by itself), or drains the manager when the value names another manager version. Each poll also
 * drains it when the manager controller tagged its task to drain (a manager beyond the managers' count, whose version
 * still matches). A value that cannot be used is logged once and changes nothing; a failed read is logged and retried,
 * later and later, without ever stopping the manager.
 */
export class SettingsWatcher {
  private failures = 0;
  private drainTagUnreadable = false;
  private seenValue: string | undefined;
  private applied: ManagerSettings | undefined;

  constructor(
    private readonly options: WatcherOptions,
    private readonly deps: WatcherDependencies,
  ) {}

  /** Seconds until the next poll: the poll interval, longer after failed reads. */
  get delaySeconds(): number {
    return nextDelaySeconds(this.options.pollSeconds, this.failures);
  }

  /** Polls until gitlab-runner is gone or drained. */
  async run(): Promise<void> {
    while (this.deps.runnerAlive()) {
      await this.deps.sleep(this.delaySeconds * 1000);
      if (!this.deps.runnerAlive()) return;
      if ((await this.poll()) === 'drained') return;
    }
  }

  /** Reads the parameter and the drain tag once and acts on what they hold. */
  async poll(): Promise<PollResult> {
    if ((await this.pollParameter()) === 'drained') return 'drained';
    return this.pollDrainTag();
  }

  private async pollParameter(): Promise<PollResult> {
    const parameter = await this.read();
    if (parameter === undefined || parameter.value === this.seenValue) return 'watching';
    this.seenValue = parameter.value;
    const source = `SSM parameter ${this.options.parameterName} (version ${parameter.version})`;
    let settings: ManagerSettings;
    try {
      settings = parseSettings(parameter.value, source);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      this.deps.log(`${error.message}; nothing re-rendered, the current configuration stays`);
      return 'watching';
    }
    if (this.drainsFor(settings)) {
      this.deps.log(
        `${source} names manager version ${settings.version}, this manager is ${this.options.ownVersion}: draining ` +
          '(SIGQUIT to gitlab-runner: it takes no more jobs and exits when its running jobs end; the container then exits 0)',
      );
      this.deps.drain();
      return 'drained';
    }
    if (this.applied === undefined && parameter.version === this.options.appliedVersion) {
      this.applied = settings;
      return 'watching';
    }
    await this.apply(settings, source);
    return 'watching';
  }

  /** Drains when the controller tagged this manager's task; a failed read is logged once and changes nothing. */
  private async pollDrainTag(): Promise<PollResult> {
    if (this.deps.drainTag === undefined) return 'watching';
    let tagged: string | undefined;
    try {
      tagged = await this.deps.drainTag();
    } catch (error) {
      if (!this.drainTagUnreadable) {
        this.deps.log(`cannot read this manager's ${DRAIN_STARTED_TAG} tag: ${(error as Error).message}; it keeps taking jobs, and tries again each poll`);
      }
      this.drainTagUnreadable = true;
      return 'watching';
    }
    if (this.drainTagUnreadable) this.deps.log(`read this manager's ${DRAIN_STARTED_TAG} tag again`);
    this.drainTagUnreadable = false;
    if (tagged === undefined) return 'watching';
    this.deps.log(
      `the manager controller tagged this manager's task ${DRAIN_STARTED_TAG}=${tagged} (an old manager, or one beyond the managers' count): ` +
        'draining (SIGQUIT to gitlab-runner: it takes no more jobs and exits when its running jobs end; the container then exits 0)',
    );
    this.deps.drain();
    return 'drained';
  }

  private async read(): Promise<ParameterValue | undefined> {
    try {
      const parameter = await this.deps.read();
      if (this.failures > 0) this.deps.log(`read ${this.options.parameterName} again after ${this.failures} failed attempt(s)`);
      this.failures = 0;
      return parameter;
    } catch (error) {
      this.failures++;
      this.deps.log(
        `cannot read ${this.options.parameterName} (attempt ${this.failures}): ${(error as Error).message}; ` +
          `the current configuration stays, next attempt in ${this.delaySeconds} s`,
      );
      return undefined;
    }
  }

  private drainsFor(settings: ManagerSettings): boolean {
    return this.options.ownVersion !== undefined && settings.version !== undefined && settings.version !== this.options.ownVersion;
  }

  private async apply(settings: ManagerSettings, source: string): Promise<void> {
    const outcome = await this.deps.render(settings);
    if (!outcome.ok) {
      this.deps.log(`${source}: ${outcome.message}; nothing re-rendered, the current configuration stays`);
      return;
    }
    const changed = changedSettingNames(this.applied, settings);
    this.applied = settings;
    const what = changed.length === 0 ? 'no setting changed' : `changed: ${changed.join(', ')}`;
    this.deps.log(
      outcome.replaced.length === 0
        ? `${source} applied (${what}); both files came out as they were, nothing re-rendered`
        : `${source} applied (${what}); re-rendered ${outcome.replaced.join(' and ')}`,
    );
  }
}
