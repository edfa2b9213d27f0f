/** The file name dropbear's build reads its compile-time options from (before its `default_options.h`). */
export const DROPBEAR_OPTIONS_FILE = 'localoptions.h';

/**
 * dropbear's compile-time options, each with why. Password authentication must go: a static musl build has no
 * `crypt()` and stops with "DROPBEAR_SVR_PASSWORD_AUTH requires crypt()" (with it gone, the `-s` flag no longer
 * exists either). The rest match the ci-coordinator's sshd: keys only, no forwarding, no SHA-1 key exchange or MAC.
 */
export const DROPBEAR_OPTIONS: readonly { readonly name: string; readonly value: string; readonly why: string }[] = [
  { name: 'DROPBEAR_SVR_PASSWORD_AUTH', value: '0', why: 'keys only; a static musl build has no crypt()' },
  { name: 'DROPBEAR_CLI_PASSWORD_AUTH', value: '0', why: 'the client is not built, and needs crypt() as well' },
  { name: 'DROPBEAR_SVR_LOCALTCPFWD', value: '0', why: 'jobs run commands; no port forwarding' },
  { name: 'DROPBEAR_SVR_REMOTETCPFWD', value: '0', why: 'no remote forwarding either' },
  { name: 'DROPBEAR_SVR_AGENTFWD', value: '0', why: 'no agent forwarding' },
  { name: 'DROPBEAR_X11FWD', value: '0', why: 'no X11' },
  { name: 'DROPBEAR_DH_GROUP14_SHA1', value: '0', why: 'no SHA-1 key exchange (curve25519 remains)' },
  { name: 'DROPBEAR_SHA1_HMAC', value: '0', why: 'no SHA-1 MAC (hmac-sha2-256/512 remain)' },
];

/** The `localoptions.h` that the job-agent image's builder stage compiles dropbear with. */
export function dropbearLocalOptions(notice: readonly string[]): string {
  return [
    '/*',
    ...notice.map((line) => ` * ${line.replace(/^# ?/, '')}`),
    ' *',
    " * dropbear reads this before its default_options.h, whose values apply only to what is not defined here.",
    ' */',
    ...DROPBEAR_OPTIONS.map((option) => `#define ${option.name} ${option.value} /* ${option.why} */`),
    '',
  ].join('\n');
}
