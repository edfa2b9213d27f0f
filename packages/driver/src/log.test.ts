import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_FORMATS, LOG_LEVELS } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { LOG_FILE_ROTATE_BYTES, createLogger, fileSink, memorySink, parseLogFormat, parseLogLevel, rotateLogFile } from './log.js';

const at = () => Date.UTC(2026, 10, 28, 9, 0, 0);

describe('logger', () => {
  it('writes text records at or above its level, with fields', () => {
    const sink = memorySink();
    const log = createLogger({ level: 'info', sink, now: at, fields: { command: 'prepare_exec' } });
    log.debug('hidden');
    log.info('Starting task', { taskArn: 'arn:aws:ecs:x', attempts: 2, note: 'has spaces' });
    expect(sink.lines).toEqual(['2026-11-28T09:00:00.000Z INFO  Starting task command=prepare_exec taskArn=arn:aws:ecs:x attempts=2 note="has spaces"\n']);
  });

  it('writes a document as one JSON line whatever the format and level, masked', () => {
    const sink = memorySink();
    const log = createLogger({ level: 'error', format: 'text', sink, now: at });
    log.addSecret('glcbt-secret-token');
    log.document({ msg: 'job metrics', Jobs: 1, note: 'glcbt-secret-token' });
    expect(sink.lines).toEqual(['{"msg":"job metrics","Jobs":1,"note":"[MASKED]"}\n']);
  });

  it('writes one JSON object per record', () => {
    const sink = memorySink();
    createLogger({ format: 'json', sink, now: at }).child({ stage: 'build_script' }).warn('slow', { seconds: 3 });
    expect(JSON.parse(sink.lines[0]!)).toEqual({ time: '2026-11-28T09:00:00.000Z', level: 'warn', msg: 'slow', stage: 'build_script', seconds: 3 });
  });

  it('never prints registered secrets or private keys, in records or progress lines', () => {
    const sink = memorySink();
    const progress = memorySink();
    const log = createLogger({ level: 'debug', sink, progress });
    const token = 'glcbt-64_eyJhbGciOiJSUzI1NiJ9.payload.signature';
    log.addSecret(token);
    log.addSecret('abc'); // too short to mask safely: ignored
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    log.error(`failed with ${token}`, { key });
    log.progress(`token=${token}`);
    const all = sink.lines.join('') + progress.lines.join('');
    expect(all).not.toContain('eyJhbGciOiJSUzI1NiJ9');
    expect(all).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
    expect(all).toContain('[MASKED]');
    expect(progress.lines).toEqual(['token=[MASKED]\n']);
  });

  it('copies progress lines into the structured log at debug level only', () => {
    const sink = memorySink();
    const progress = memorySink();
    createLogger({ level: 'info', sink, progress }).progress('Task is RUNNING after 12.0 s');
    expect(sink.lines).toEqual([]);
    expect(progress.lines).toEqual(['Task is RUNNING after 12.0 s\n']);
  });

  it("parses upstream's level and format names", () => {
    expect(parseLogLevel('Warning')).toBe('warn');
    expect(parseLogLevel('fatal')).toBe('error');
    expect(parseLogLevel('verbose')).toBeUndefined();
    expect(parseLogFormat('text-simple')).toBe('text');
    expect(parseLogFormat('yaml')).toBeUndefined();
  });

  it('maps every level and format the config accepts, and no name an object merely inherits', () => {
    for (const level of LOG_LEVELS) expect(parseLogLevel(level), level).toMatch(/^(debug|info|warn|error)$/);
    for (const format of LOG_FORMATS) expect(parseLogFormat(format), format).toMatch(/^(text|json)$/);
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(parseLogLevel(name), name).toBeUndefined();
      expect(parseLogFormat(name), name).toBeUndefined();
    }
  });

  it('appends to a LogFile it creates with mode 0600', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'driver-log-')), 'driver.log');
    for (const line of ['one\n', 'two\n']) {
      const sink = fileSink(path);
      sink.write(line);
      sink.close?.();
    }
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('never follows a symbolic link as LogFile, to an existing file or a new one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-log-'));
    const existing = join(dir, 'authorized_keys');
    writeFileSync(existing, 'ssh-ed25519 AAAA admin\n');
    symlinkSync(existing, join(dir, 'to-existing.log'));
    symlinkSync(join(dir, 'created-elsewhere'), join(dir, 'to-new.log'));
    expect(() => fileSink(join(dir, 'to-existing.log'))).toThrow(/to-existing\.log is a symbolic link, which the driver never follows/);
    expect(() => fileSink(join(dir, 'to-new.log'))).toThrow(/symbolic link/);
    expect(readFileSync(existing, 'utf8')).toBe('ssh-ed25519 AAAA admin\n');
    expect(existsSync(join(dir, 'created-elsewhere'))).toBe(false);
  });

  it("refuses a LogFile someone else owns or others can read, so nobody reads the log or forges records in it", () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-log-'));
    const open = join(dir, 'open.log');
    writeFileSync(open, '');
    chmodSync(open, 0o666);
    expect(() => fileSink(open)).toThrow(/open\.log has mode 666, readable or writable by others: chmod 600 it/);
    const foreign = join(dir, 'foreign.log');
    writeFileSync(foreign, '', { mode: 0o600 });
    chownSync(foreign, 65534, 65534);
    expect(() => fileSink(foreign)).toThrow(/foreign\.log belongs to uid 65534, not to this user/);
    expect(statSync(foreign).size).toBe(0);
  });

  describe('rotation', () => {
    /** A LogFile of `size` bytes (sparse: no disk is written) that starts with `head`, in a fresh directory. */
    const logOfSize = (size: number, head = 'old\n'): string => {
      const path = join(mkdtempSync(join(tmpdir(), 'driver-log-')), 'driver.log');
      writeFileSync(path, head, { mode: 0o600 });
      truncateSync(path, size);
      return path;
    };
    const appendOnce = (path: string, line: string): void => {
      const sink = fileSink(path);
      sink.write(line);
      sink.close?.();
    };

    it('renames a LogFile over the limit to <file>.1, replacing an older one, and starts a new file with mode 0600', () => {
      const path = logOfSize(LOG_FILE_ROTATE_BYTES + 1);
      writeFileSync(`${path}.1`, 'older generation\n');
      appendOnce(path, 'new\n');
      // Sizes first: a failing assertion must not print the 64 MiB file.
      expect(statSync(path).size).toBe(4);
      expect(readFileSync(path, 'utf8')).toBe('new\n');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(`${path}.1`).size).toBe(LOG_FILE_ROTATE_BYTES + 1);
      expect(readFileSync(`${path}.1`).subarray(0, 4).toString()).toBe('old\n');
    });

    it('appends to a LogFile at the limit', () => {
      const path = logOfSize(LOG_FILE_ROTATE_BYTES);
      appendOnce(path, 'new\n');
      expect(statSync(path).size).toBe(LOG_FILE_ROTATE_BYTES + 4);
      expect(existsSync(`${path}.1`)).toBe(false);
    });

    it('leaves the name alone when a concurrent stage rotated first, so the rotated file is not replaced', () => {
      const path = logOfSize(LOG_FILE_ROTATE_BYTES + 1);
      // Another stage opened the big file too, then this one rotated it and wrote to the new file.
      const otherStage = openSync(path, 'a');
      try {
        appendOnce(path, 'first\n');
        expect(rotateLogFile(path, otherStage)).toBe(false);
        // The other stage's sink then appends to the new file, under the name a follower reads.
        appendOnce(path, 'second\n');
        expect(statSync(path).size).toBe(13);
        expect(readFileSync(path, 'utf8')).toBe('first\nsecond\n');
        expect(statSync(`${path}.1`).size).toBe(LOG_FILE_ROTATE_BYTES + 1);
      } finally {
        closeSync(otherStage);
      }
    });

    it('does not fail when a concurrent stage renamed the file before creating the new one', () => {
      const path = logOfSize(LOG_FILE_ROTATE_BYTES + 1);
      const otherStage = openSync(path, 'a');
      try {
        renameSync(path, `${path}.1`);
        expect(rotateLogFile(path, otherStage)).toBe(false);
        expect(statSync(`${path}.1`).size).toBe(LOG_FILE_ROTATE_BYTES + 1);
      } finally {
        closeSync(otherStage);
      }
    });

    it('keeps appending, with one line saying why, when the rotation fails: logging never fails a stage', () => {
      const path = logOfSize(LOG_FILE_ROTATE_BYTES + 1);
      // A directory where <file>.1 should go makes the rename fail (EISDIR), whoever runs the test.
      mkdirSync(`${path}.1`);
      writeFileSync(join(`${path}.1`, 'keep'), '');
      appendOnce(path, 'new\n');
      expect(statSync(path).size).toBeGreaterThan(LOG_FILE_ROTATE_BYTES + 4);
      const tail = readFileSync(path).subarray(LOG_FILE_ROTATE_BYTES + 1).toString();
      expect(tail).toMatch(/^gitlab-fargate-driver: cannot rotate .*driver\.log to .*driver\.log\.1 \(.*\); still appending.*\nnew\n$/);
    });

    it('keeps refusing a symbolic link, and rotates only what it opened', () => {
      const path = logOfSize(LOG_FILE_ROTATE_BYTES + 1);
      const link = `${path}.link`;
      symlinkSync(path, link);
      expect(() => fileSink(link)).toThrow(/symbolic link/);
      expect(existsSync(`${link}.1`)).toBe(false);
      expect(statSync(path).size).toBe(LOG_FILE_ROTATE_BYTES + 1);
    });
  });
});
