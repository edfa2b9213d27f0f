import { existsSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, fileSink, memorySink, parseLogFormat, parseLogLevel } from './log.js';

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
});
