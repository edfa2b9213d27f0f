import { JOB_AGENT_BUSYBOX, JOB_AGENT_SESSION_ENV, JOB_AGENT_SH } from '../../spec/job-agent-contract.js';
import { generatedNotice } from '../shell.js';

/** The job agent's `gf-session`: the login shell of the SSH login, run by dropbear for every session. */
export function jobAgentSession(): string {
  const { home, path } = JOB_AGENT_SESSION_ENV;
  return `#!${JOB_AGENT_BUSYBOX} sh
# shellcheck shell=sh
${generatedNotice('job-agent gf-session: the login shell of every SSH session in the build container.').join('\n')}
#
# dropbear runs it as "gf-session -c COMMAND" (or without arguments for an interactive login). dropbear sets HOME
# and PATH for the session even with -e: this puts back the values gf-entry saved (the container's PATH, the job
# user's HOME), then runs the command with the image's /bin/sh, as docker exec IMAGE sh -c would, or with busybox's
# sh (${JOB_AGENT_SH}) in an image without one.
export HOME="\${${home}:-$HOME}" PATH="\${${path}:-$PATH}"
unset ${home} ${path}
if [ -x /bin/sh ]; then SHELL=/bin/sh; else SHELL=${JOB_AGENT_SH}; fi
export SHELL
cd "$HOME" 2>/dev/null || cd /
unset OLDPWD
if [ "$#" -eq 0 ]; then
  exec "$SHELL" -l
fi
exec "$SHELL" "$@"
`;
}
