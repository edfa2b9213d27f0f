/** Settings given on the command line; they win over the config file (the runner's administrator wrote both). */
export interface CommandLineOverrides {
  /** `--task-def` */
  readonly taskDefinition?: string;
  /** `--platform-version` */
  readonly platformVersion?: string;
}
