import type { GeneratedFile } from '../../generate.js';
import type { ResolvedJobAgentSpec } from '../../spec/job-agent.js';
import { generatedNotice } from '../shell.js';
import { jobAgentDockerfile } from './dockerfile.js';
import { DROPBEAR_OPTIONS_FILE, dropbearLocalOptions } from './dropbear-options.js';
import { jobAgentEntry } from './entry.js';
import { jobAgentSession } from './session.js';

/** The job-agent image's build context, below `job-agent/`. */
export function jobAgentFiles(spec: ResolvedJobAgentSpec): GeneratedFile[] {
  const notice = generatedNotice("job-agent: dropbear's compile-time options.");
  return [
    { path: 'job-agent/Dockerfile', content: jobAgentDockerfile(spec), executable: false },
    { path: `job-agent/${DROPBEAR_OPTIONS_FILE}`, content: dropbearLocalOptions(notice), executable: false },
    { path: 'job-agent/gf-entry', content: jobAgentEntry(), executable: true },
    { path: 'job-agent/gf-session', content: jobAgentSession(), executable: true },
  ];
}
