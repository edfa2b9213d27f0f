/** The packages published to npm, released together under one version. Tools under tools/ are private. */
export const publishedPackages = [
  '@gitlab-fargate/config',
  '@gitlab-fargate/driver',
  '@gitlab-fargate/images',
  '@gitlab-fargate/cdk',
];

/**
 * nx.json `release`: one fixed group (the driver pins the config package at its own version, so they move together),
 * the next version read from conventional commits since the last `v*` tag, one workspace CHANGELOG.md.
 * The root `release` task is a dry run; a real release is `npx nx release` run by a maintainer.
 */
export const nxRelease = {
  projects: publishedPackages,
  projectsRelationship: 'fixed',
  releaseTag: { pattern: 'v{version}' },
  version: {
    conventionalCommits: true,
    // Before the first tag there is nothing to compare with: start from the version in package.json.
    fallbackCurrentVersionResolver: 'disk',
  },
  changelog: {
    // The first release's changelog starts at the first commit instead of failing for want of a tag.
    automaticFromRef: true,
    workspaceChangelog: { file: 'CHANGELOG.md', createRelease: false },
    projectChangelogs: false,
  },
};
