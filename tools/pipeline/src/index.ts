export { GitLabCiLocalProject, gitlabCiLocalBin } from './gitlab-ci-local.js';
export type { CommandResult, ProjectOptions } from './gitlab-ci-local.js';
export { commandsOf, environmentOf, neededJobs, parsePipeline, programsOf, SHELL_BUILTINS } from './pipeline.js';
export type { Job, Pipeline, Rule } from './pipeline.js';
export { workspaceRoot } from './workspace.js';
