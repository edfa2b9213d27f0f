/**
 * Default `[[runners]] builds_dir`: where jobs check out inside the job container. gitlab-runner takes it from
 * config.toml (the driver's config stage does not override it), and the ci-coordinator image creates this folder
 * by default, so the two agree unless one of them is changed.
 */
export const DEFAULT_BUILDS_DIR = '/opt/gitlab-runner/builds';

/** Default `[[runners]] cache_dir` inside the job container, created by the ci-coordinator image like {@link DEFAULT_BUILDS_DIR}. */
export const DEFAULT_CACHE_DIR = '/opt/gitlab-runner/cache';
