/** What is wrong with a value, and what to write instead. */
export interface ValueProblem {
  readonly message: string;
  readonly fix: string;
}

// The grammar of github.com/distribution/reference, which `FROM` follows, without variables.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

const EXAMPLES = '"debian:bookworm-slim", "registry.example.com:5000/base/ubuntu:24.04"';
/** The advice for a base image that is not a string at all. */
export const IMAGE_REFERENCE_TYPE_FIX = `give an image reference such as ${EXAMPLES}, optionally pinned as NAME:TAG@sha256:<digest>`;
const PIN_FIX =
  'pin as NAME[:TAG]@sha256:<64 lower-case hex digits>, the digest that ' +
  '`docker buildx imagetools inspect NAME:TAG` (or `docker inspect --format "{{index .RepoDigests 0}}" NAME:TAG`) shows';

/**
 * Checks an image reference as `FROM` takes it: `NAME[:TAG][@sha256:DIGEST]`, the name optionally with a registry
 * host and port. A digest pins the exact image (a tag can be moved to other content); only sha256 digests exist in
 * practice, so anything else after `@` is reported as a malformed pin.
 * @returns undefined when the reference is valid.
 */
export function imageReferenceProblem(value: string): ValueProblem | undefined {
  const parts = value.split('@');
  if (parts.length > 2) {
    return { message: `${JSON.stringify(value)} has more than one "@"`, fix: PIN_FIX };
  }
  const [nameAndTag = '', digest] = parts;
  return nameAndTagProblem(value, nameAndTag) ?? (digest === undefined ? undefined : digestProblem(value, digest));
}

function nameAndTagProblem(value: string, nameAndTag: string): ValueProblem | undefined {
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : undefined;
  if (!NAME.test(name)) {
    return {
      message: `${JSON.stringify(value)} does not start with a valid image name`,
      fix: `give an image reference such as ${EXAMPLES} (lower-case name, no spaces or variables)`,
    };
  }
  if (tag !== undefined && !TAG.test(tag)) {
    return {
      message: `${JSON.stringify(value)} has an invalid tag ${JSON.stringify(tag)}`,
      fix: 'a tag is 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"',
    };
  }
  return undefined;
}

function digestProblem(value: string, digest: string): ValueProblem | undefined {
  if (SHA256_DIGEST.test(digest)) {
    return undefined;
  }
  const hex = digest.startsWith('sha256:') ? digest.slice('sha256:'.length) : undefined;
  let found: string;
  if (hex === undefined) {
    found = `${JSON.stringify(digest)} is not a sha256 digest`;
  } else if (hex.length !== 64) {
    found = `the sha256 digest has ${hex.length} hex digits instead of 64`;
  } else {
    found = 'the sha256 digest holds characters other than the lower-case hex digits 0-9 and a-f';
  }
  return { message: `${JSON.stringify(value)}: ${found}`, fix: PIN_FIX };
}
