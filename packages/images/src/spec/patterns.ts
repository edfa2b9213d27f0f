/** Value shapes shared by both image specs, each with the advice given when a value does not fit. */
export const patterns = {
  /** A POSIX user name that `useradd` accepts. */
  userName: {
    pattern: /^[a-z_][a-z0-9_-]{0,31}$/,
    fix: 'use a lower-case user name such as "root" or "ci" (letters, digits, "_" and "-", at most 32 characters)',
  },
  /** A Debian package name, optionally pinned as `name=version`. */
  debianPackage: {
    pattern: /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/,
    fix: 'use a Debian package name such as "jq" or "jq=1.6-2.1"',
  },
  /** A gitlab-runner package version such as `18.6.2`; empty means the newest in the repository. */
  runnerVersion: {
    pattern: /^\d+\.\d+\.\d+$/,
    fix: 'give a version such as "18.6.2", or "" for the newest',
    allowEmpty: true,
  },
  /** A file name inside the build context's `dist/` folder, possibly in a sub-folder, never escaping it. */
  contextRelativeFile: {
    pattern: /^(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\.(c|m)?js$/,
    fix: 'give a path inside dist/ ending in .js, .cjs or .mjs, such as "gitlab-fargate-driver.mjs"',
  },
  /** An absolute path without spaces or shell metacharacters. */
  absolutePath: {
    pattern: /^\/[A-Za-z0-9._\-/]*$/,
    fix: 'give an absolute path such as "/etc/gitlab-runner" (letters, digits, ".", "_", "-" and "/")',
  },
} as const;
