/**
 * The config stage's answer, read as gitlab-runner reads it: Go's `encoding/json` into `api.ConfigExecOutput`
 * (https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/executors/custom/api/config.go). Unknown keys are
 * ignored and `null` leaves a field unset, but a value of the wrong JSON type fails the whole answer, as Go's
 * decoder does ("cannot unmarshal string into Go struct field ... of type bool").
 */
export interface ConfigOutput {
  readonly builds_dir?: string;
  readonly cache_dir?: string;
  readonly builds_dir_is_shared?: boolean;
  readonly hostname?: string;
  readonly driver?: { readonly name?: string; readonly version?: string };
  readonly job_env?: Readonly<Record<string, string>>;
  readonly shell?: string;
}

type JsonType = 'string' | 'boolean';
const fields: Record<string, JsonType> = { builds_dir: 'string', cache_dir: 'string', builds_dir_is_shared: 'boolean', hostname: 'string', shell: 'string' };

/** Parses config_exec's stdout; empty output is an empty answer. */
export function parseConfigOutput(stdout: string): { output: ConfigOutput } | { error: string } {
  if (stdout.trim() === '') return { output: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (error) {
    return { error: `error while parsing JSON output: ${(error as Error).message}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: `error while parsing JSON output: json: cannot unmarshal ${goJsonType(parsed)} into Go value of type custom.ConfigExecOutput` };
  }
  const answer = parsed as Record<string, unknown>;
  const mismatch = (field: string, value: unknown, type: string) =>
    ({ error: `error while parsing JSON output: json: cannot unmarshal ${goJsonType(value)} into Go struct field ConfigExecOutput.${field} of type ${type}` });
  for (const [field, type] of Object.entries(fields)) {
    const value = answer[field];
    if (value !== undefined && value !== null && typeof value !== type) return mismatch(field, value, type === 'boolean' ? 'bool' : 'string');
  }
  for (const [field, inner] of [['driver', ['name', 'version']], ['job_env', undefined]] as const) {
    const value = answer[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object' || Array.isArray(value)) return mismatch(field, value, field === 'driver' ? 'api.DriverInfo' : 'map[string]string');
    for (const [key, item] of Object.entries(value)) {
      const checked = inner === undefined || (inner as readonly string[]).includes(key);
      if (checked && item !== null && typeof item !== 'string') return mismatch(`${field}.${key}`, item, 'string');
    }
  }
  const output = withoutNulls(answer);
  // A null map value decodes to "" in Go.
  if (output.job_env) output.job_env = Object.fromEntries(Object.entries(output.job_env).map(([key, item]) => [key, item ?? '']));
  return { output: output as ConfigOutput };
}

function withoutNulls(value: Record<string, unknown>): Record<string, unknown> & { job_env?: Record<string, string | null> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== null));
}

/** How Go's decoder names a JSON value's type in its errors. */
function goJsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'object';
  return typeof value === 'boolean' ? 'bool' : typeof value;
}
