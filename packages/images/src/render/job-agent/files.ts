import type { GeneratedFile } from '../../generate.js';
import { JOB_AGENT_ENTRY, JOB_AGENT_SESSION_SHELL } from '../../spec/job-agent-contract.js';
import type { ResolvedJobAgentSpec } from '../../spec/job-agent.js';
import { generatedNotice } from '../shell.js';
import { jobAgentDockerfile } from './dockerfile.js';
import { DROPBEAR_OPTIONS_FILE, dropbearLocalOptions } from './dropbear-options.js';
import { jobAgentEntry } from './entry.js';
import { jobAgentSession } from './session.js';

/** A file of /opt/gf by its name in the build context, e.g. `job-agent/gf-entry`. */
const inContext = (path: string): string => `job-agent/${path.slice(path.lastIndexOf('/') + 1)}`;

/** The job-agent image's build context, below `job-agent/`. */
export function jobAgentFiles(spec: ResolvedJobAgentSpec): GeneratedFile[] {
  const notice = generatedNotice("job-agent: dropbear's compile-time options.");
  return [
    { path: 'job-agent/Dockerfile', content: jobAgentDockerfile(spec), executable: false },
    { path: `job-agent/${DROPBEAR_OPTIONS_FILE}`, content: dropbearLocalOptions(notice), executable: false },
    { path: inContext(JOB_AGENT_ENTRY), content: jobAgentEntry(), executable: true },
    { path: inContext(JOB_AGENT_SESSION_SHELL), content: jobAgentSession(), executable: true },
  ];
}
