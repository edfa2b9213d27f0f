import { runInstruction } from './shell.js';

/**
 * Fingerprint of the key that signs GitLab's package repositories (docs.gitlab.com/omnibus/update/package_signatures,
 * "GitLab B.V. package repository signing key", valid until 2028-02-06).
 */
export const GITLAB_PACKAGES_KEY_FINGERPRINT = 'F6403F6544A38863DAA0B6E03F01618A51312F3F';

/**
 * The `RUN` that installs gitlab-runner from GitLab's apt repository when `INSTALL_GITLAB_RUNNER` is true.
 *
 * Only the binary is taken from the signed package: the package hard-depends on gitlab-runner-helper-images
 * (about 500 MB of Docker helper images that the custom executor never uses, and a slower Fargate start for every
 * job). apt picks the architecture of the build platform, so the same Dockerfile builds linux/amd64 and linux/arm64.
 * The repository is removed afterwards so that a job's `apt-get update` does not depend on packages.gitlab.com.
 */
export function gitlabRunnerInstall(): string {
  return runInstruction([
    'if [ "$INSTALL_GITLAB_RUNNER" != true ]; then',
    '  echo "INSTALL_GITLAB_RUNNER=$INSTALL_GITLAB_RUNNER: gitlab-runner left out of this image";',
    'else',
    '  apt-get update;',
    '  apt-get install -y --no-install-recommends ca-certificates curl gpg;',
    '  . /etc/os-release;',
    '  key=/usr/share/keyrings/gitlab-runner.asc;',
    '  curl -fsSL --retry 3 https://packages.gitlab.com/runner/gitlab-runner/gpgkey -o "$key";',
    `  gpg --show-keys --with-colons "$key" | grep -q '^fpr:*${GITLAB_PACKAGES_KEY_FINGERPRINT}:' \\`,
    `    || { echo "packages.gitlab.com served a key without fingerprint ${GITLAB_PACKAGES_KEY_FINGERPRINT}" >&2; exit 1; };`,
    '  echo "deb [signed-by=$key] https://packages.gitlab.com/runner/gitlab-runner/$ID/ $VERSION_CODENAME main" \\',
    '    > /etc/apt/sources.list.d/gitlab-runner.list;',
    '  apt-get update;',
    '  package=gitlab-runner${GITLAB_RUNNER_VERSION:+=$GITLAB_RUNNER_VERSION-1};',
    '  work=$(mktemp -d);',
    '  (cd "$work" && apt-get download "$package" && dpkg-deb -x gitlab-runner_*.deb root);',
    '  install -m 0755 "$(find "$work/root" -type f -name gitlab-runner -perm -u+x | head -n 1)" /usr/local/bin/gitlab-runner;',
    '  rm -rf "$work" /etc/apt/sources.list.d/gitlab-runner.list "$key" /var/lib/apt/lists/*;',
    '  gitlab-runner --version;',
    'fi',
  ]);
}
