import { describe, expect, it } from 'vitest';
import { generateImages } from '../../generate.js';
import { resolveImagesSpec } from '../../spec/images-spec.js';
import { SpecValidationError } from '../../spec/issues.js';
import {
  JOB_AGENT_DIR,
  JOB_AGENT_ENTRY_POINT,
  JOB_AGENT_ENV,
  JOB_AGENT_LOGIN_NAME,
  JOB_AGENT_SESSION_ENV,
  JOB_AGENT_SESSION_SHELL,
} from '../../spec/job-agent-contract.js';
import { JOB_AGENT_DEFAULTS, resolveJobAgentSpec } from '../../spec/job-agent.js';
import { jobAgentDockerfile } from './dockerfile.js';
import { DROPBEAR_OPTIONS } from './dropbear-options.js';
import { jobAgentEntry } from './entry.js';
import { jobAgentSession } from './session.js';

function file(path: string, spec: unknown = {}): string {
  const found = generateImages(spec).find((candidate) => candidate.path === path);
  if (!found) {
    throw new Error(`${path} was not generated`);
  }
  return found.content;
}

describe('job-agent spec', () => {
  it('defaults to the newest packages of debian:bookworm-slim and keeps given versions', () => {
    expect(resolveJobAgentSpec()).toEqual({ baseImage: 'debian:bookworm-slim', dropbearVersion: '', busyboxVersion: '' });
    expect(resolveImagesSpec({}).jobAgent).toEqual(JOB_AGENT_DEFAULTS);
    const pinned = { dropbearVersion: '2022.83-1+deb12u3', busyboxVersion: '1:1.35.0-4+deb12u1+b1' };
    expect(resolveJobAgentSpec(pinned)).toMatchObject(pinned);
  });

  it('reports bad versions, base images and unknown fields with their paths', () => {
    try {
      resolveImagesSpec({ jobAgent: { dropbearVersion: 'latest; rm -rf /', baseImage: 'Debian', sshPort: 22 } });
      expect.unreachable('expected a SpecValidationError');
    } catch (error) {
      expect(error).toBeInstanceOf(SpecValidationError);
      expect((error as SpecValidationError).issues.map((issue) => issue.path)).toEqual([
        'jobAgent.sshPort',
        'jobAgent.baseImage',
        'jobAgent.dropbearVersion',
      ]);
    }
  });
});

describe('job-agent Dockerfile', () => {
  const dockerfile = jobAgentDockerfile(JOB_AGENT_DEFAULTS);

  it('builds in a Debian stage and ships a FROM-scratch image whose /opt/gf is a VOLUME', () => {
    expect(dockerfile).toMatch(/^ARG BASE_IMAGE=debian:bookworm-slim$/m);
    expect(dockerfile).toMatch(/^FROM --platform=\$\{BUILDPLATFORM:-linux\} \$\{BASE_IMAGE\} AS build$/m);
    const final = dockerfile.slice(dockerfile.indexOf('\nFROM scratch\n'));
    expect(final).toContain('COPY --from=build /out/ /\nCOPY gf-entry gf-session /opt/gf/\n');
    expect(final).toMatch(/^VOLUME \/opt\/gf$/m);
    expect(final).toContain('CMD ["/opt/gf/busybox", "cat", "/opt/gf/licenses/SOURCES"]');
    expect(final).toContain('org.opencontainers.image.licenses="Apache-2.0 AND MIT AND GPL-2.0-only"');
  });

  it('orders layers so that a changed script or version reuses the build tools', () => {
    const order = ['apt-get install -y', 'ARG DROPBEAR_VERSION=', 'apt-get source', 'COPY localoptions.h', 'make -j', 'FROM scratch', 'COPY gf-entry'];
    const positions = order.map((step) => dockerfile.indexOf(step));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('cross-compiles on the build platform for TARGETARCH, naming architectures only in the table of the two targets', () => {
    expect(dockerfile).toContain('ARG TARGETARCH\nARG TARGETPLATFORM\n');
    expect(dockerfile).toContain('target_arch=${TARGETARCH:-$build_arch};');
    const instructions = dockerfile.split('\n').filter((line) => !line.startsWith('#'));
    const table = instructions.slice(instructions.findIndex((line) => line.includes('case "$target_arch" in')));
    const tableEnd = table.findIndex((line) => line.includes('esac;'));
    expect(table.slice(1, tableEnd).map((line) => line.trim().split(')')[0])).toEqual(['amd64', 'arm64', '*']);
    const outside = [...instructions.slice(0, instructions.length - table.length), ...table.slice(tableEnd)];
    expect(outside.join('\n')).not.toMatch(/amd64|x86_64|arm64|aarch64/);
    expect(dockerfile).toContain('compiler="gcc-${gnu_type//_/-}"');
    expect(dockerfile).toContain('"musl-dev:$target_arch"');
    expect(dockerfile).toContain('apt-get download "busybox-static:$target_arch${BUSYBOX_VERSION:+=$BUSYBOX_VERSION}";');
  });

  it('builds dropbear statically with musl, without password auth, and links sh to busybox', () => {
    expect(dockerfile).toContain('./configure --host="$gnu_type" --enable-static');
    expect(dockerfile).toContain('CC="${gnu_type%-gnu}-musl-gcc"');
    expect(dockerfile).toContain('make -j"$(nproc)" PROGRAMS="dropbear dropbearkey" MULTI=1 STATIC=1');
    expect(dockerfile).toContain('ln /out/opt/gf/busybox /out/opt/gf/sh;');
    expect(dockerfile).toContain('if "$gnu_type-readelf" -l "$binary" | grep -q INTERP; then');
    expect(dockerfile).toContain('if ! "$gnu_type-readelf" -h "$binary" | grep -q "Machine: *$elf_machine$"; then');
    expect(DROPBEAR_OPTIONS).toContainEqual(expect.objectContaining({ name: 'DROPBEAR_SVR_PASSWORD_AUTH', value: '0' }));
    expect(file('job-agent/localoptions.h')).toContain('#define DROPBEAR_SVR_PASSWORD_AUTH 0 /*');
  });

  it('puts pinned versions and a pinned base into the build arguments’ defaults', () => {
    const pinned = file('job-agent/Dockerfile', {
      jobAgent: { baseImage: `debian:bookworm@sha256:${'ab'.repeat(32)}`, dropbearVersion: '2022.83-1+deb12u3' },
    });
    expect(pinned).toContain(`ARG BASE_IMAGE=debian:bookworm@sha256:${'ab'.repeat(32)}\n`);
    expect(pinned).toContain('ARG DROPBEAR_VERSION=2022.83-1+deb12u3\n');
    expect(pinned).toContain('apt-get source "dropbear${DROPBEAR_VERSION:+=$DROPBEAR_VERSION}";');
  });
});

describe('gf-entry and gf-session', () => {
  const entry = jobAgentEntry();
  const session = jobAgentSession();

  it('run under the agent’s busybox, so the job image needs no shell', () => {
    expect(JOB_AGENT_ENTRY_POINT).toEqual(['/opt/gf/busybox', 'sh', '/opt/gf/gf-entry']);
    expect(entry.startsWith('#!/opt/gf/busybox sh\n')).toBe(true);
    expect(session.startsWith('#!/opt/gf/busybox sh\n')).toBe(true);
  });

  it('check every input before the first write, and unset the inputs before dropbear starts', () => {
    const steps = ['\ncheck_root\n', '\ncheck_public_key\n', '\ncheck_port\n', '\ncheck_hosts\n', '\nresolve_job_user\n', '\nadd_login\n'];
    const positions = steps.map((step) => entry.indexOf(step));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const tail = entry.slice(entry.indexOf('\nadd_login\n'));
    expect(tail).toContain(`unset ${Object.values(JOB_AGENT_ENV).join(' ')}\n`);
    expect(tail.trimEnd().split('\n').pop()).toBe(`exec ${JOB_AGENT_DIR}/dropbearmulti dropbear -F -E -e -r "$host_key" -p "$port"`);
  });

  it('map the fixed login to the job user, with the session shell dropbear must find in /etc/shells', () => {
    expect(entry).toContain(`login=${JOB_AGENT_LOGIN_NAME}\n`);
    expect(entry).toContain(`session_shell=${JOB_AGENT_SESSION_SHELL}\n`);
    expect(entry).toContain('$login:x:$uid:$gid:gitlab-fargate job:$home:$session_shell');
    expect(entry).toContain('grep -qxF "$session_shell" /etc/shells 2>/dev/null || append_line /etc/shells "$session_shell"');
  });

  it('hand HOME and PATH to sessions through variables the session shell removes', () => {
    for (const name of Object.values(JOB_AGENT_SESSION_ENV)) {
      expect(entry).toContain(`${name}=`);
      expect(session).toContain(`\${${name}:-`);
    }
    expect(session).toContain(`unset ${Object.values(JOB_AGENT_SESSION_ENV).join(' ')}\n`);
  });
});
