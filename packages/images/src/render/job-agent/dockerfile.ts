import {
  JOB_AGENT_BUSYBOX,
  JOB_AGENT_DIR,
  JOB_AGENT_DROPBEAR,
  JOB_AGENT_ENTRY,
  JOB_AGENT_ENTRY_POINT,
  JOB_AGENT_LICENSES_DIR,
  JOB_AGENT_SESSION_SHELL,
  JOB_AGENT_SH,
} from '../../spec/job-agent-contract.js';
import type { ResolvedJobAgentSpec } from '../../spec/job-agent.js';
import { generatedNotice, runInstruction } from '../shell.js';
import { DROPBEAR_OPTIONS_FILE } from './dropbear-options.js';

/** The file in the image listing the Debian packages the binaries come from, with their exact versions. */
export const JOB_AGENT_SOURCES_FILE = `${JOB_AGENT_LICENSES_DIR}/SOURCES`;

/** The generated files the final stage copies from the build context, beside the built binaries. */
export const JOB_AGENT_SCRIPT_FILES = [JOB_AGENT_ENTRY, JOB_AGENT_SESSION_SHELL].map((path) => path.slice(JOB_AGENT_DIR.length + 1));

/** SPDX expression of what the image holds: the scripts (this project), dropbear, busybox. */
export const JOB_AGENT_LICENSES = 'Apache-2.0 AND MIT AND GPL-2.0-only';

/** The job-agent Dockerfile for a resolved spec. */
export function jobAgentDockerfile(spec: ResolvedJobAgentSpec): string {
  return [
    ...header(spec),
    `ARG BASE_IMAGE=${spec.baseImage}`,
    '# BuildKit sets BUILDPLATFORM: this stage runs natively and cross-compiles for TARGETARCH, with no emulation.',
    "# The legacy builder sets neither: \"linux\" is the engine's own platform, and the target its architecture.",
    'FROM --platform=${BUILDPLATFORM:-linux} ${BASE_IMAGE} AS build',
    'ARG DEBIAN_FRONTEND=noninteractive',
    'ARG TARGETARCH',
    'ARG TARGETPLATFORM',
    'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
    '',
    '# The target architecture and its tool names, kept for the later steps.',
    runInstruction(targetArchitecture()),
    '',
    "# Build tools for the target, and source packages from the base's own apt sources (one-line and deb822 formats).",
    runInstruction(buildTools()),
    '',
    '# After the tools, so that another version reuses their layer.',
    `ARG DROPBEAR_VERSION=${spec.dropbearVersion}`,
    `ARG BUSYBOX_VERSION=${spec.busyboxVersion}`,
    'WORKDIR /build',
    '# apt checks both downloads against the signed archive indexes.',
    runInstruction(downloads()),
    '',
    `COPY ${DROPBEAR_OPTIONS_FILE} /build/${DROPBEAR_OPTIONS_FILE}`,
    runInstruction(dropbearBuild()),
    '',
    runInstruction(assembly()),
    '',
    'FROM scratch',
    'COPY --from=build /out/ /',
    `COPY ${JOB_AGENT_SCRIPT_FILES.join(' ')} ${JOB_AGENT_DIR}/`,
    ...labels(),
    `VOLUME ${JOB_AGENT_DIR}`,
    '# The init container prints what it carries and exits 0 (the build container depends on its SUCCESS).',
    `CMD ["${JOB_AGENT_BUSYBOX}", "cat", "${JOB_AGENT_SOURCES_FILE}"]`,
    '',
  ].join('\n');
}

function header(spec: ResolvedJobAgentSpec): string[] {
  return [
    ...generatedNotice('job-agent: the init container of a job task; it brings an SSH server to any job image.'),
    '#',
    `# ECS copies ${JOB_AGENT_DIR} (a VOLUME) into a task volume that the build container mounts read-only there:`,
    `#   ${JOB_AGENT_DROPBEAR}  dropbear, static (musl), from Debian's source package, built for the target`,
    `#   ${JOB_AGENT_BUSYBOX}        static busybox (Debian's busybox-static); ${JOB_AGENT_SH} is a hard link to it`,
    `#   ${JOB_AGENT_ENTRY}       the build container's entry point: ${JOB_AGENT_ENTRY_POINT.join(' ')}`,
    `#   ${JOB_AGENT_SESSION_SHELL}     the SSH login's shell`,
    `#   ${JOB_AGENT_LICENSES_DIR}/      licences, and SOURCES: the exact Debian packages and versions`,
    '#',
    '# Build arguments:',
    `#   BASE_IMAGE        Debian image of the builder stage                 default ${spec.baseImage}`,
    `#   DROPBEAR_VERSION  Debian version of the dropbear source package     default "${spec.dropbearVersion}" (newest)`,
    `#   BUSYBOX_VERSION   Debian version of busybox-static                  default "${spec.busyboxVersion}" (newest)`,
    '# Offline, only the Debian mirror reachable:',
    '#   docker build --build-arg BASE_IMAGE=local/debian:bookworm .',
    '# linux/amd64 and linux/arm64: BuildKit cross-compiles on the build machine, without emulation:',
    '#   docker buildx build --platform linux/amd64,linux/arm64 .',
  ];
}

/** Where the builder stage keeps the target's facts, one line of four words (the last may hold spaces). */
const TARGET_FILE = '/etc/gitlab-fargate-target';
const TARGET_FACTS = 'build_arch target_arch gnu_type elf_machine';
/** Every later step reads them into its own variables: each RUN is a shell of its own. */
const LOAD_TARGET = `read -r ${TARGET_FACTS} < ${TARGET_FILE};`;

/**
 * The target architecture (Fargate's two), the GNU type its cross tools are named by, and the ELF machine its binaries
 * must have. BuildKit passes TARGETARCH and TARGETPLATFORM together; a TARGETARCH alone (a build argument given to the
 * legacy builder) would put foreign binaries into an image recorded with the engine's own platform, so it is refused.
 */
function targetArchitecture(): string[] {
  return [
    'build_arch=$(dpkg --print-architecture);',
    'target_arch=${TARGETARCH:-$build_arch};',
    'if [ -z "${TARGETPLATFORM:-}" ] && [ "$target_arch" != "$build_arch" ]; then',
    '  echo "job-agent: error: TARGETARCH=$target_arch without BuildKit: the image would be recorded as $build_arch" >&2;',
    '  echo "job-agent: how to fix: build with BuildKit: docker buildx build --platform linux/$target_arch" >&2; exit 1;',
    'fi;',
    'case "$target_arch" in',
    '  amd64) gnu_type=x86_64-linux-gnu; elf_machine="Advanced Micro Devices X86-64";;',
    '  arm64) gnu_type=aarch64-linux-gnu; elf_machine=AArch64;;',
    '  *) echo "job-agent: error: Fargate runs linux/amd64 and linux/arm64, not $target_arch: build for one of those" >&2; exit 1;;',
    'esac;',
    `echo "${TARGET_FACTS.split(' ').map((name) => `$${name}`).join(' ')}" > ${TARGET_FILE}`,
  ];
}

function buildTools(): string[] {
  return [
    LOAD_TARGET,
    'for list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do',
    '  if [ -f "$list" ]; then sed -n "s/^deb /deb-src /p" "$list"; fi;',
    'done > /tmp/deb-src.list;',
    'mv /tmp/deb-src.list /etc/apt/sources.list.d/gitlab-fargate-deb-src.list;',
    'for sources in /etc/apt/sources.list.d/*.sources; do',
    '  if [ -f "$sources" ]; then sed -i "s/^Types: deb$/Types: deb deb-src/" "$sources"; fi;',
    'done;',
    // A cross build takes Debian's cross compiler and the target's musl (multiarch), which ships <gnu type>-musl-gcc.
    'compiler=gcc;',
    'if [ "$target_arch" != "$build_arch" ]; then dpkg --add-architecture "$target_arch"; compiler="gcc-${gnu_type//_/-}"; fi;',
    'apt-get update;',
    'apt-get install -y --no-install-recommends ca-certificates dpkg-dev make "$compiler" "musl-dev:$target_arch"',
  ];
}

function downloads(): string[] {
  return [
    LOAD_TARGET,
    'apt-get source "dropbear${DROPBEAR_VERSION:+=$DROPBEAR_VERSION}";',
    'apt-get download "busybox-static:$target_arch${BUSYBOX_VERSION:+=$BUSYBOX_VERSION}";',
    'mv busybox-static_*.deb busybox-static.deb;',
    'dpkg-deb -x busybox-static.deb busybox-static;',
    'mv dropbear-*/ dropbear/',
  ];
}

function dropbearBuild(): string[] {
  return [
    LOAD_TARGET,
    'cd /build/dropbear;',
    `cp /build/${DROPBEAR_OPTIONS_FILE} ${DROPBEAR_OPTIONS_FILE};`,
    './configure --host="$gnu_type" --enable-static --disable-zlib --disable-wtmp --disable-lastlog --disable-utmp \\',
    '  --disable-utmpx --disable-wtmpx --disable-pututline --disable-pututxline CC="${gnu_type%-gnu}-musl-gcc" \\',
    '  > configure.log 2>&1 || { tail -n 40 configure.log; exit 1; };',
    // Upstream's own -Wundef warnings fill thousands of lines: only a failure shows the log.
    'make -j"$(nproc)" PROGRAMS="dropbear dropbearkey" MULTI=1 STATIC=1 > make.log 2>&1 || { tail -n 60 make.log; exit 1; };',
    '"$gnu_type-strip" dropbearmulti;',
    // A cross-built binary cannot run here (no emulation); the assembly checks its ELF header instead.
    'if [ "$target_arch" = "$build_arch" ]; then ./dropbearmulti dropbear -V; fi',
  ];
}

function assembly(): string[] {
  const out = `/out${JOB_AGENT_DIR}`;
  return [
    LOAD_TARGET,
    `install -d ${out} /out${JOB_AGENT_LICENSES_DIR};`,
    `install -m 0755 /build/dropbear/dropbearmulti /out${JOB_AGENT_DROPBEAR};`,
    `install -m 0755 /build/busybox-static/bin/busybox /out${JOB_AGENT_BUSYBOX};`,
    // A hard link, not a symbolic one: it survives any copy of the volume, and busybox goes by the name.
    `ln /out${JOB_AGENT_BUSYBOX} /out${JOB_AGENT_SH};`,
    `for binary in /out${JOB_AGENT_DROPBEAR} /out${JOB_AGENT_BUSYBOX}; do`,
    '  if "$gnu_type-readelf" -l "$binary" | grep -q INTERP; then echo "$binary is not statically linked" >&2; exit 1; fi;',
    '  if ! "$gnu_type-readelf" -h "$binary" | grep -q "Machine: *$elf_machine$"; then',
    '    echo "$binary is not an $target_arch binary" >&2; exit 1;',
    '  fi;',
    'done;',
    `cp /build/dropbear/LICENSE /out${JOB_AGENT_LICENSES_DIR}/dropbear.LICENSE;`,
    `cp /build/dropbear/debian/copyright /out${JOB_AGENT_LICENSES_DIR}/dropbear.copyright;`,
    `cp /build/busybox-static/usr/share/doc/busybox-static/copyright /out${JOB_AGENT_LICENSES_DIR}/busybox.copyright;`,
    'dropbear_version=$(dpkg-parsechangelog -l /build/dropbear/debian/changelog -S Version);',
    'busybox_version=$(dpkg-deb -f /build/busybox-static.deb Version);',
    'busybox_source=$(dpkg-deb -f /build/busybox-static.deb Source);',
    'busybox_source_version=$(sed -n "s/.*(\\(.*\\))$/\\1/p" <<<"$busybox_source");',
    'busybox_source_version=${busybox_source_version:-$busybox_version};',
    'printf "%s\\n" \\',
    `  "${JOB_AGENT_DROPBEAR}: Debian source package dropbear $dropbear_version, built statically with musl for $target_arch" \\`,
    `  "  options: ${DROPBEAR_OPTIONS_FILE} (password auth, forwarding, SHA-1 key exchange and MAC compiled out)" \\`,
    '  "  source: apt-get source dropbear=$dropbear_version, or https://snapshot.debian.org/package/dropbear/" \\',
    '  "  licence: MIT-style (dropbear.LICENSE, dropbear.copyright)" \\',
    `  "${JOB_AGENT_BUSYBOX}, ${JOB_AGENT_SH}: Debian package busybox-static $busybox_version ($target_arch)" \\`,
    '  "  source: apt-get source busybox=$busybox_source_version, or https://snapshot.debian.org/package/busybox/" \\',
    '  "  licence: GPL-2.0-only (busybox.copyright)" \\',
    `  "${JOB_AGENT_ENTRY}, ${JOB_AGENT_SESSION_SHELL}: gitlab-fargate, Apache-2.0" \\`,
    `  > /out${JOB_AGENT_SOURCES_FILE}`,
  ];
}

function labels(): string[] {
  const entries: [string, string][] = [
    ['org.opencontainers.image.title', 'gitlab-fargate job-agent'],
    [
      'org.opencontainers.image.description',
      `Init container of a job task: static dropbear, busybox and the entry of the build container, in the VOLUME ${JOB_AGENT_DIR}`,
    ],
    ['org.opencontainers.image.licenses', JOB_AGENT_LICENSES],
    ['org.opencontainers.image.source', 'https://gitlab.com/gitlab-fargate/gitlab-fargate'],
    ['org.opencontainers.image.documentation', 'https://gitlab.com/gitlab-fargate/gitlab-fargate/-/blob/main/packages/images/README.md'],
    ['org.gitlab-fargate.job-agent.sources', `Debian source packages dropbear and busybox; exact versions in ${JOB_AGENT_SOURCES_FILE}`],
  ];
  return entries.map(([key, value], index) => {
    const prefix = index === 0 ? 'LABEL ' : '      ';
    const suffix = index === entries.length - 1 ? '' : ' \\';
    return `${prefix}${key}=${JSON.stringify(value)}${suffix}`;
  });
}
