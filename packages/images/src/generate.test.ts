import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.js';
import { dockerfileRunScript } from '../test/dockerfile-runs.js';
import { IMAGES_DIR, PACKAGE_DIR } from '../test/paths.js';
import { findStaleFiles, generateImages, writeGeneratedFiles, type GeneratedFile } from './generate.js';
import { AWS_CLI_PUBLIC_KEY } from './render/aws-cli/aws-cli-key.js';
import { PGP_VERIFY_FUNCTION } from './render/pgp-verify.js';

const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
/** Outside CI a missing shellcheck skips its tests; in CI (CI=true) they run and fail, saying what to install. */
const skipShellcheck = !hasShellcheck && process.env.CI !== 'true';
if (skipShellcheck) {
  console.warn('shellcheck is not installed: the shellcheck tests are skipped (apt-get install shellcheck)');
}
const SHELLCHECK_MISSING = 'shellcheck is not installed: apt-get install shellcheck (CI runs these tests and needs it)';

function file(files: readonly GeneratedFile[], path: string): string {
  const found = files.find((candidate) => candidate.path === path);
  if (!found) {
    throw new Error(`${path} was not generated`);
  }
  return found.content;
}

describe('generateImages', () => {
  const files = generateImages();

  it('writes the files of the four images, entrypoints executable', () => {
    expect(files.map((f) => [f.path, f.executable])).toEqual([
      ['ci-coordinator/Dockerfile', false],
      ['ci-coordinator/docker-entrypoint.sh', true],
      ['ci-coordinator/aws-cli-public-key.asc', false],
      ['runner-manager/Dockerfile', false],
      ['runner-manager/entrypoint', true],
      ['job-agent/Dockerfile', false],
      ['job-agent/localoptions.h', false],
      ['job-agent/gf-entry', true],
      ['job-agent/gf-session', true],
      ['ci-tools/Dockerfile', false],
      ['ci-tools/docker-entrypoint.sh', true],
      ['ci-tools/aws-cli-public-key.asc', false],
    ]);
  });

  it('matches the files committed under images/ (regenerate with: gitlab-fargate-images generate --out images)', async () => {
    expect(await findStaleFiles(IMAGES_DIR, files)).toEqual([]);
  });

  it('runs the job container under tini, with the base image and optional tools as build arguments', () => {
    const dockerfile = file(files, 'ci-coordinator/Dockerfile');
    expect(dockerfile).toMatch(/^ARG BASE_IMAGE=debian:bookworm-slim\nFROM \$\{BASE_IMAGE\}$/m);
    expect(dockerfile).toContain('ARG INSTALL_GITLAB_RUNNER=true\nARG GITLAB_RUNNER_VERSION=\nARG INSTALL_NODEJS=false\nARG INSTALL_AWS_CLI=false');
    expect(dockerfile).toContain('apt-get install -y --no-install-recommends bash ca-certificates git git-lfs openssh-server tini');
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/docker-entrypoint.sh"]');
    // No architecture is spelled out: apt and `uname -m` follow the build platform (amd64 and arm64).
    const instructions = dockerfile.split('\n').filter((line) => !line.startsWith('#'));
    expect(instructions.join('\n')).not.toMatch(/amd64|x86_64|arm64|aarch64/);
    // Host keys are removed from the image and made at start.
    expect(dockerfile).toContain('rm -f /etc/ssh/ssh_host_*;');
  });

  it('hardens sshd: keys only, root only when the SSH user is root, sessions through the entrypoint', () => {
    const root = file(files, 'ci-coordinator/Dockerfile');
    for (const line of [
      'AuthenticationMethods publickey',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowUsers root',
      'ForceCommand /usr/local/bin/docker-entrypoint.sh --ssh-session',
    ]) {
      expect(root).toContain(`'${line}'`);
    }
    const ci = file(generateImages({ ciCoordinator: { sshUser: 'ci', sshPort: 2222, hostKeyTypes: ['ed25519', 'rsa'] } }), 'ci-coordinator/Dockerfile');
    expect(ci).toContain("'PermitRootLogin no'");
    expect(ci).toContain("'AllowUsers ci'");
    expect(ci).toContain("'Port 2222'");
    expect(ci).toContain('EXPOSE 2222');
    expect(ci).toContain("'HostKey /etc/ssh/ssh_host_rsa_key'");
    expect(ci).toContain('useradd --create-home --shell /bin/bash ci;');
    expect(ci).toContain('install -d -m 0755 -o ci -g "$(id -gn ci)" /opt/gitlab-runner/builds /opt/gitlab-runner/cache;');
  });

  it('pins sshd to modern algorithms that the driver’s ssh2 client negotiates, with few and short login attempts', () => {
    const lines = (dockerfile: string): string[] => [...dockerfile.matchAll(/^ {6}'([^']*)' \\$/gm)].map((match) => match[1] ?? '');
    const root = lines(file(files, 'ci-coordinator/Dockerfile'));
    expect(root).toEqual(
      expect.arrayContaining([
        'KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org',
        'Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes128-ctr',
        'MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com',
        'HostKeyAlgorithms ssh-ed25519',
        'PubkeyAcceptedAlgorithms ssh-ed25519',
        'MaxAuthTries 3',
        'LoginGraceTime 20',
      ]),
    );
    // Nothing weak is offered: no SHA-1, CBC, NIST ECDH, non-ETM MAC or SHA-1 RSA signature.
    expect(root.join('\n')).not.toMatch(/sha1|cbc|ecdh-|diffie-hellman|hmac-sha2-(256|512)(,|$)|umac|ssh-rsa/m);
    const all = lines(file(generateImages({ ciCoordinator: { hostKeyTypes: ['ed25519', 'ecdsa', 'rsa'] } }), 'ci-coordinator/Dockerfile'));
    expect(all).toContain('HostKeyAlgorithms ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256');
  });

  it('refuses at start a job key that sshd would never accept', () => {
    const entrypoint = file(files, 'ci-coordinator/docker-entrypoint.sh');
    expect(entrypoint).toContain('job_key_type=ssh-ed25519\n');
    expect(entrypoint).toContain('sshd here accepts only $job_key_type keys');
  });

  it('uses a digest-pinned base image verbatim, in FROM and in the header', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const pinned = generateImages({
      ciCoordinator: { baseImage: `debian:bookworm-slim@${digest}` },
      runnerManager: { baseImage: `registry.example.com:5000/node@${digest}` },
    });
    const ci = file(pinned, 'ci-coordinator/Dockerfile');
    expect(ci).toMatch(new RegExp(`^ARG BASE_IMAGE=debian:bookworm-slim@${digest}\nFROM \\$\\{BASE_IMAGE\\}$`, 'm'));
    expect(ci).toContain(`default debian:bookworm-slim@${digest}`);
    // Its first stage compiles the driver's native run client on the same base.
    const manager = file(pinned, 'runner-manager/Dockerfile');
    expect(manager).toMatch(new RegExp(`^ARG BASE_IMAGE=registry\\.example\\.com:5000/node@${digest}$`, 'm'));
    expect(manager.match(/^FROM .*$/gm)).toEqual(['FROM ${BASE_IMAGE} AS run-client', 'FROM ${BASE_IMAGE}']);
  });

  it('installs the AWS CLI only after checking its PGP signature against AWS’s key from the build context', () => {
    const dockerfile = file(files, 'ci-coordinator/Dockerfile');
    expect(dockerfile).toContain(`COPY aws-cli-public-key.asc /usr/share/keyrings/aws-cli-public-key.asc\n`);
    // The Dockerfile runs the very function the signature tests exercise (src/render/pgp-verify.test.ts).
    expect(dockerfile).toContain(PGP_VERIFY_FUNCTION.map((line) => `    ${line} \\`).join('\n'));
    const install = dockerfile.slice(dockerfile.indexOf('if [ "$INSTALL_AWS_CLI" = true ]'));
    const steps = [
      'curl -fsSL --retry 3 "$url" -o "$work/awscliv2.zip"',
      'curl -fsSL --retry 3 "$url.sig" -o "$work/awscliv2.zip.sig"',
      'verify_pgp_signature /usr/share/keyrings/aws-cli-public-key.asc FB5DB77FD5C118B80511ADA8A6310ACC4672475C "$work/awscliv2.zip" "$work/awscliv2.zip.sig"',
      '|| { echo "the AWS CLI installer from $url failed its signature check (above): not installing it" >&2; exit 1; }',
      'unzip -q "$work/awscliv2.zip"',
      '"$work/aws/install"',
    ].map((step) => install.indexOf(step));
    expect(steps.every((position) => position >= 0)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(file(files, 'ci-coordinator/aws-cli-public-key.asc')).toBe(AWS_CLI_PUBLIC_KEY);
  });

  it('never tells anyone to print the rendered configuration, which holds the runner token', async () => {
    const printsConfig = /\b(cat|less|more|head|tail|type)\b[^\n]*(\$\{?(RUNNER|DRIVER)_CONFIG_PATH|config\.toml|fargate\.toml)/;
    for (const variant of [files, generateImages({ runnerManager: { runAs: 'root', configDir: '/etc/runner' } })]) {
      for (const generated of variant) {
        expect(generated.content, generated.path).not.toMatch(printsConfig);
      }
    }
    expect(await readFile(join(PACKAGE_DIR, 'README.md'), 'utf8')).not.toMatch(printsConfig);
    const entrypoint = file(files, 'runner-manager/entrypoint');
    expect(entrypoint).toContain('#      gitlab-fargate-config validate --print /etc/gitlab-runner/config.toml /etc/gitlab-runner/fargate.toml\n');
  });

  it('bakes nothing environment-specific or secret into the runner manager', () => {
    const dockerfile = file(files, 'runner-manager/Dockerfile');
    const args = [...dockerfile.matchAll(/^ARG (\w+)/gm)].map((match) => match[1]);
    expect(args).toEqual(['BASE_IMAGE', 'INSTALL_GITLAB_RUNNER', 'GITLAB_RUNNER_VERSION', 'DRIVER_BUNDLE', 'CONFIG_CLI', 'DEBIAN_FRONTEND']);
    const envNames = dockerfile.slice(dockerfile.indexOf('ENV ')).match(/\b[A-Z_]+(?==)/g);
    expect(envNames).toEqual(['RUNNER_CONFIG_PATH', 'DRIVER_CONFIG_PATH', 'DRIVER_PATH', 'METADATA_DIR']);
    expect(dockerfile).not.toMatch(/register|TOKEN|SUBNET|SECURITY_GROUP|RUNNER_TAGS/);
  });

  // That gitlab-runner then lets running jobs finish is gitlab-runner's behaviour on SIGQUIT, not tested here.
  it("sets the runner manager's stop signal to SIGQUIT, gitlab-runner's graceful shutdown", () => {
    expect(file(files, 'runner-manager/Dockerfile')).toMatch(/^STOPSIGNAL SIGQUIT$/m);
  });

  it('renders both TOML files at start and then runs the command, gitlab-runner run by default', () => {
    const entrypoint = file(files, 'runner-manager/entrypoint');
    // The private CA first: the settings parameter's read (SSM) and everything after it must trust it.
    const order = [
      'read_secret_file REGISTRATION_TOKEN\n',
      'install_private_ca\n',
      'apply_settings_parameter\n',
      'gitlab-fargate-config render driver --out "$DRIVER_CONFIG_PATH"',
      'register_with_legacy_token\n',
      'gitlab-fargate-config render runner --out "$RUNNER_CONFIG_PATH"',
      'unset RUNNER_TOKEN REGISTRATION_TOKEN',
      'exec setpriv --reuid="$run_as"',
    ].map((step) => entrypoint.lastIndexOf(step));
    expect(order.every((position) => position > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(entrypoint).toContain('set -- gitlab-runner run --config "$RUNNER_CONFIG_PATH"');
  });

  it('generates scripts that bash parses', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'images-bash-n-'));
    try {
      await writeGeneratedFiles(dir, files);
      for (const script of files.filter((f) => f.executable)) {
        const result = spawnSync('bash', ['-n', join(dir, script.path)], { encoding: 'utf8' });
        expect(result.stderr, script.path).toBe('');
        expect(result.status, script.path).toBe(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(skipShellcheck)('generates scripts that shellcheck accepts without a single finding', async () => {
    expect(hasShellcheck, SHELLCHECK_MISSING).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'images-shellcheck-'));
    try {
      const variants = [files, generateImages({ ciCoordinator: { sshUser: 'ci' }, runnerManager: { runAs: 'root' } })];
      for (const [index, variant] of variants.entries()) {
        await writeGeneratedFiles(join(dir, String(index)), variant);
        for (const script of variant.filter((f) => f.executable)) {
          const result = spawnSync('shellcheck', ['--severity=style', join(dir, String(index), script.path)], { encoding: 'utf8' });
          expect(result.stdout, script.path).toBe('');
          expect(result.status, script.path).toBe(0);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the Dockerfiles’ RUN instructions', () => {
  // The production branches (GitLab's package repository, the AWS CLI) cannot be built offline: at least their
  // shell must parse and pass shellcheck.
  const dockerfiles = generateImages().filter((f) => f.path.endsWith('Dockerfile'));
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'images-run-'));
    for (const dockerfile of dockerfiles) {
      await writeFile(join(dir, dockerfile.path.replace('/', '-')), dockerfileRunScript(dockerfile.content));
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parse with bash', () => {
    for (const dockerfile of dockerfiles) {
      const result = spawnSync('bash', ['-n', join(dir, dockerfile.path.replace('/', '-'))], { encoding: 'utf8' });
      expect(result.stderr, dockerfile.path).toBe('');
      expect(result.status, dockerfile.path).toBe(0);
    }
  });

  it.skipIf(skipShellcheck)('pass shellcheck (SC1091 excluded: /etc/os-release exists only in the image)', () => {
    expect(hasShellcheck, SHELLCHECK_MISSING).toBe(true);
    for (const dockerfile of dockerfiles) {
      const file = join(dir, dockerfile.path.replace('/', '-'));
      const result = spawnSync('shellcheck', ['--severity=style', '--exclude=SC1091', file], { encoding: 'utf8' });
      expect(result.stdout, dockerfile.path).toBe('');
      expect(result.status, dockerfile.path).toBe(0);
    }
  });
});

describe('findStaleFiles', () => {
  let dir: string;
  const files = generateImages();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'images-stale-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports missing, edited and non-executable files', async () => {
    expect(await findStaleFiles(dir, files)).toHaveLength(files.length);
    await writeGeneratedFiles(dir, files);
    expect(await findStaleFiles(dir, files)).toEqual([]);
    await writeFile(join(dir, 'ci-coordinator/Dockerfile'), 'FROM scratch\n');
    await chmod(join(dir, 'runner-manager/entrypoint'), 0o644);
    expect(await findStaleFiles(dir, files)).toEqual([
      { path: 'ci-coordinator/Dockerfile', reason: 'content differs' },
      { path: 'runner-manager/entrypoint', reason: 'not executable' },
    ]);
  });
});

describe('gitlab-fargate-images CLI', () => {
  it('generate --check passes on the committed images/ folder', () => {
    const result = runCli(['generate', '--check', '--out', IMAGES_DIR]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${generateImages().length} generated files are up to date`);
  });

  it('generate writes a spec file’s images, and --check then finds them stale against the defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'images-cli-'));
    try {
      await writeFile(join(dir, 'spec.json'), JSON.stringify({ ciCoordinator: { sshUser: 'ci' } }));
      const written = runCli(['generate', '--out', join(dir, 'out'), '--spec', join(dir, 'spec.json')]);
      expect(written.code).toBe(0);
      expect(written.stdout).toContain(`wrote ${join(dir, 'out')}/ci-coordinator/docker-entrypoint.sh`);
      expect(await readFile(join(dir, 'out/ci-coordinator/docker-entrypoint.sh'), 'utf8')).toContain('\nssh_user=ci\n');
      const check = runCli(['generate', '--check', '--out', join(dir, 'out')]);
      expect(check.code).toBe(1);
      expect(check.stderr).toContain(`stale: ${join(dir, 'out')}/ci-coordinator/Dockerfile (content differs)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('explains an invalid spec file and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'images-cli-'));
    try {
      await writeFile(join(dir, 'spec.json'), JSON.stringify({ ciCoordinator: { sshPort: 'twenty-two' } }));
      const result = runCli(['generate', '--out', join(dir, 'out'), '--spec', join(dir, 'spec.json')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('ciCoordinator.sshPort: expected a whole number from 1 to 65535, got "twenty-two"');
      expect(spawnSync('ls', [join(dir, 'out')]).status).not.toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has --help for each command and rejects unknown commands and options', () => {
    expect(runCli(['--help']).stdout).toContain('Usage: gitlab-fargate-images <command>');
    expect(runCli(['generate', '--help']).stdout).toContain('--check');
    expect(runCli(['context', '--help']).stdout).toContain('--driver-bundle FILE');
    const unknown = runCli(['build']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "build"');
    const badOption = runCli(['generate', '--outdir', 'x']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain("Unknown option '--outdir'");
  });
});
