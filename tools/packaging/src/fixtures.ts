/** A driver configuration as a runner manager would have it (the dev example's keys, with our defaults elsewhere). */
export const DRIVER_TOML = `LogLevel = "info"
LogFormat = "text"

[Fargate]
  Cluster = "gitlab-runner-dev"
  Region = "eu-west-1"
  Subnet = "subnet-0a1b2c3d4e5f60718"
  SecurityGroup = "sg-0123456789abcdef0"
  TaskDefinition = "gitlab-runner-dev-task"

[TaskMetadata]
  Directory = "/opt/gitlab-runner/metadata"

[SSH]
  Username = "root"
  Port = 22
`;

/** The same with a misspelt key, which the config CLI must name. */
export const MISSPELT_DRIVER_TOML = DRIVER_TOML.replace('  Cluster = ', '  Clustre = ');
