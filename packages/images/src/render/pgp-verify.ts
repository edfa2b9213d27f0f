/** The shell function {@link PGP_VERIFY_FUNCTION} defines. */
export const PGP_VERIFY_COMMAND = 'verify_pgp_signature';

/**
 * A bash function for a Dockerfile `RUN`: `verify_pgp_signature KEY_FILE FINGERPRINT FILE SIGNATURE` returns 0 only
 * when SIGNATURE is a good detached signature of FILE made by the key whose primary fingerprint is FINGERPRINT,
 * read from KEY_FILE (never from a key server), and that key has not expired. Otherwise it says why on stderr and
 * returns 1. It runs in a throwaway GnuPG home, so nothing is left in the image.
 *
 * One element per line, each a complete command ending in `;` (or the braces), because RUN joins the lines with
 * continuations into one line: a `#` comment would swallow the rest of the instruction.
 */
export const PGP_VERIFY_FUNCTION: readonly string[] = [
  `${PGP_VERIFY_COMMAND}() {`,
  '  local key=$1 fingerprint=$2 file=$3 signature=$4 keys home status;',
  '  [ -s "$key" ] || { echo "the key file $key is missing or empty" >&2; return 1; };',
  '  keys=$(gpg --batch --show-keys --with-colons "$key" 2>/dev/null) || true;',
  '  grep -q "^fpr:*$fingerprint:" <<<"$keys" || { echo "$key does not hold the key with fingerprint $fingerprint" >&2; return 1; };',
  '  home=$(mktemp -d);',
  '  gpg --batch --quiet --homedir "$home" --import "$key" 2>/dev/null || { rm -rf "$home"; echo "gpg cannot import $key" >&2; return 1; };',
  '  status=$(gpg --batch --homedir "$home" --no-auto-key-retrieve --status-fd 1 --verify "$signature" "$file") || true;',
  '  rm -rf "$home";',
  '  if grep -q "^\\[GNUPG:\\] EXPKEYSIG " <<<"$status"; then',
  '    echo "$file is signed by $fingerprint, but that key has expired: update $key from its publisher" >&2; return 1;',
  '  fi;',
  '  if ! grep -q "^\\[GNUPG:\\] GOODSIG " <<<"$status" || ! grep -Eq "^\\[GNUPG:\\] VALIDSIG .* $fingerprint\\$" <<<"$status"; then',
  '    echo "$signature is not a good signature of $file by the key $fingerprint" >&2; return 1;',
  '  fi;',
  '};',
];
