import { isImageAllowed, type CpuArchitecture, type JobImageSettings } from '@gitlab-fargate/config';
import { SystemFailure } from '../errors.js';
import { isImageReference } from './aliases.js';
import type { JobImageRequest } from './payload.js';

/** A job's image or service the runner's configuration does not allow: the job fails before any task starts. */
export class ImageRefused extends SystemFailure {
  /** The image as the job named it. */
  public readonly image: string;

  constructor(image: string, message: string) {
    super(message);
    this.name = 'ImageRefused';
    this.image = image;
  }
}

/**
 * Images that need Docker's privileged mode, which Fargate does not offer: Docker-in-Docker in any tag (`docker:dind`,
 * `docker:27-dind-rootless`, `…/dind:1`) and BuildKit's daemon image unless rootless.
 */
const PRIVILEGED_IMAGES: readonly { readonly test: (name: string) => boolean; readonly what: string }[] = [
  { test: (name) => /(?:^|[^a-z0-9])dind(?:[^a-z0-9]|$)/i.test(name), what: 'Docker-in-Docker (dind)' },
  { test: (name) => /(?:^|\/)moby\/buildkit(?::|@|$)/i.test(name) && !/rootless/i.test(name), what: "BuildKit's daemon (buildkitd)" },
];

function privilegedReason(name: string, role: string): string | undefined {
  const rule = PRIVILEGED_IMAGES.find((candidate) => candidate.test(name));
  if (rule === undefined) return undefined;
  return (
    `the ${role} ${JSON.stringify(name)} is refused: ${rule.what} needs Docker's privileged mode, and Fargate tasks cannot run ` +
    'privileged containers. Build images with an unprivileged builder that needs no Docker daemon and no user namespaces ' +
    '(Fargate allows neither, so buildah and rootless BuildKit fail too), e.g. kaniko, or hand the build to a build service ' +
    'such as AWS CodeBuild'
  );
}

function patternsText(patterns: readonly string[]): string {
  return patterns.map((pattern) => JSON.stringify(pattern)).join(', ');
}

/** Refuses one image that is not a reference, is privileged, or is not on its allow-list. */
function check(name: string, role: 'image' | 'service', patterns: readonly string[]): void {
  if (!isImageReference(name)) {
    throw new ImageRefused(
      name,
      `the ${role} ${JSON.stringify(name)} is not an image reference: expected [registry/]path[:tag][@digest] with a lowercase path, ` +
        'e.g. "ruby:3.3" or "registry.example.com/group/app@sha256:…"',
    );
  }
  const privileged = privilegedReason(name, role);
  if (privileged !== undefined) throw new ImageRefused(name, privileged);
  if (isImageAllowed(name, patterns)) return;
  const key = role === 'image' ? 'AllowedImages' : 'AllowedServices';
  throw new ImageRefused(
    name,
    `the ${role} ${JSON.stringify(name)} is not allowed by [JobImages] ${key} (${patternsText(patterns)}): ` +
      `use an allowed ${role}, or ask the runner's administrator to add a pattern that matches it ` +
      '(patterns match the whole name as written, e.g. "ruby:*" does not match "docker.io/library/ruby:3")',
  );
}

/** The architecture an `image: docker: platform:` names, or undefined for one Fargate does not run. */
function architectureOf(platform: string): CpuArchitecture | undefined {
  const [os, arch] = platform.toLowerCase().split('/');
  if (os !== 'linux') return undefined;
  if (arch === 'amd64' || arch === 'x86_64') return 'X86_64';
  if (arch === 'arm64' || arch === 'aarch64') return 'ARM64';
  return undefined;
}

/**
 * Refuses what the job may not have, before anything starts: a privileged image or service, one outside the
 * allow-lists, or an `image: docker: platform:` other than the task's architecture.
 * @throws ImageRefused naming the image or service and the patterns (or the reason).
 */
export function checkJobImagePolicy(request: JobImageRequest, settings: JobImageSettings, taskArchitecture: CpuArchitecture): void {
  if (request.image !== undefined) {
    check(request.image.name, 'image', settings.allowedImages);
    const { platform } = request.image;
    if (platform !== undefined && architectureOf(platform) !== taskArchitecture) {
      throw new ImageRefused(
        request.image.name,
        `image: docker: platform: ${JSON.stringify(platform)} does not match the task's architecture ${taskArchitecture} ` +
          `(${taskArchitecture === 'ARM64' ? 'linux/arm64' : 'linux/amd64'}): remove the platform, or ask for the other architecture with ` +
          'FARGATE_CPU_ARCHITECTURE when the runner allows it',
      );
    }
  }
  for (const service of request.services) check(service.name, 'service', settings.allowedServices);
}
