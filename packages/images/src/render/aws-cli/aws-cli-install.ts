import { PGP_VERIFY_COMMAND, PGP_VERIFY_FUNCTION } from '../pgp-verify.js';
import { runInstruction } from '../shell.js';
import { AWS_CLI_KEY_FILE, AWS_CLI_KEY_FINGERPRINT } from './aws-cli-key.js';

/** Where the image keeps AWS's signing key (a public key: nothing secret stays in the layer). */
export const AWS_CLI_KEY_PATH = `/usr/share/keyrings/${AWS_CLI_KEY_FILE}`;

/**
 * The `COPY` of AWS's key and the `RUN` that installs AWS CLI v2 when `INSTALL_AWS_CLI` is true: the installer zip
 * and its detached signature are downloaded, the signature is checked against the key from the build context (its
 * fingerprint pinned) before anything is unzipped, and a bad or missing signature fails the build. `uname -m`
 * follows the build platform, so the same Dockerfile builds linux/amd64 and linux/arm64.
 */
export function awsCliInstall(): string {
  return [
    `COPY ${AWS_CLI_KEY_FILE} ${AWS_CLI_KEY_PATH}`,
    runInstruction([
      ...PGP_VERIFY_FUNCTION,
      'if [ "$INSTALL_AWS_CLI" = true ]; then',
      '  apt-get update;',
      '  apt-get install -y --no-install-recommends ca-certificates curl gpg unzip;',
      '  work=$(mktemp -d);',
      '  url="https://awscli.amazonaws.com/awscli-exe-linux-$(uname -m).zip";',
      '  curl -fsSL --retry 3 "$url" -o "$work/awscliv2.zip";',
      '  curl -fsSL --retry 3 "$url.sig" -o "$work/awscliv2.zip.sig";',
      `  ${PGP_VERIFY_COMMAND} ${AWS_CLI_KEY_PATH} ${AWS_CLI_KEY_FINGERPRINT} "$work/awscliv2.zip" "$work/awscliv2.zip.sig" \\`,
      '    || { echo "the AWS CLI installer from $url failed its signature check (above): not installing it" >&2; exit 1; };',
      '  unzip -q "$work/awscliv2.zip" -d "$work";',
      '  "$work/aws/install";',
      '  rm -rf "$work" /var/lib/apt/lists/*;',
      '  aws --version;',
      'fi',
    ]),
  ].join('\n');
}
