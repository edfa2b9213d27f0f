import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDockerBuild } from '@gitlab-fargate/local-stack';

/**
 * The images of the demo's `image:` job, built here from the local Debian base (no registry): a job image without
 * sshd or bash, and a service the job reaches by its alias.
 */
export const DEMO_IMAGES = {
  /** FROM scratch with Debian's static busybox at /bin/busybox and /bin/sh: no libc, no sshd, no bash. */
  job: 'gitlab-fargate-demo/busybox:local',
  /**
   * The busybox image serving one page with busybox httpd on port 80. Named `httpd` so that the driver knows the port
   * to wait for (a service's `ports:` say nothing here).
   */
  service: 'gitlab-fargate-demo/httpd:local',
} as const;

/** The page the service serves, which the job prints. */
export const SERVICE_PAGE = 'Hello from the web service';

const BASE_IMAGE = 'local/debian:bookworm';

const JOB_IMAGE_DOCKERFILE = [
  `FROM ${BASE_IMAGE} AS busybox`,
  'RUN cd /tmp && apt-get update && apt-get download busybox-static && dpkg-deb -x busybox-static_*.deb extracted \\',
  '    && install -d /out/bin && install -m 0755 extracted/bin/busybox /out/bin/busybox && ln -s busybox /out/bin/sh',
  'FROM scratch',
  'LABEL org.opencontainers.image.title="gitlab-fargate demo: FROM scratch with a static busybox"',
  'COPY --from=busybox /out/ /',
  'CMD ["/bin/sh"]',
];

// busybox httpd as PID 1 would ignore SIGTERM (ECS would kill it after the stop timeout): the shell traps it.
const SERVICE_DOCKERFILE = [
  `FROM ${DEMO_IMAGES.job}`,
  'LABEL org.opencontainers.image.title="gitlab-fargate demo: busybox httpd on port 80"',
  'COPY index.html /www/index.html',
  'CMD ["/bin/busybox", "sh", "-c", "trap \'exit 0\' TERM; /bin/busybox httpd -f -p 80 -h /www & wait"]',
];

async function build(tag: string, files: Readonly<Record<string, string>>, onOutput?: (line: string) => void): Promise<void> {
  const context = await mkdtemp(join(tmpdir(), 'gitlab-fargate-demo-image-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(context, name), content);
    await runDockerBuild(['build', '--tag', tag, context], context, onOutput);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

/**
 * Builds {@link DEMO_IMAGES} (Docker's layer cache makes an unchanged rebuild take about a second).
 * @returns the image tags
 */
export async function buildDemoImages(onOutput?: (line: string) => void): Promise<typeof DEMO_IMAGES> {
  await build(DEMO_IMAGES.job, { Dockerfile: `${JOB_IMAGE_DOCKERFILE.join('\n')}\n` }, onOutput);
  await build(DEMO_IMAGES.service, { Dockerfile: `${SERVICE_DOCKERFILE.join('\n')}\n`, 'index.html': `${SERVICE_PAGE}\n` }, onOutput);
  return DEMO_IMAGES;
}
