/** Where the job log goes: gitlab-runner's job trace, here a stream a person reads. */
export interface JobLogSink {
  write(text: string): void;
}

const colors = { section: '\u001b[36;1m', ok: '\u001b[32;1m', error: '\u001b[31;1m', warn: '\u001b[0;33m', dim: '\u001b[0;m' };
const reset = '\u001b[0;m';

/** Formats harness lines the way gitlab-runner's job log shows them. */
export class JobLog {
  constructor(private readonly sink: JobLogSink) {}

  /** Output of a driver, passed through untouched. */
  raw(text: string | Buffer): void {
    this.sink.write(typeof text === 'string' ? text : text.toString('utf8'));
  }

  section(title: string): void {
    this.sink.write(`${colors.section}${title}${reset}\n`);
  }

  info(text: string): void {
    this.sink.write(`${text}\n`);
  }

  success(text: string): void {
    this.sink.write(`${colors.ok}${text}${reset}\n`);
  }

  warning(text: string): void {
    this.sink.write(`${colors.warn}WARNING: ${text}${reset}\n`);
  }

  error(text: string): void {
    this.sink.write(`${colors.error}ERROR: ${text}${reset}\n`);
  }
}

/** Removes ANSI colour codes: for tests and for logs written to files. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
