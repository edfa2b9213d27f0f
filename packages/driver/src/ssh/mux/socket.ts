import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Unix socket paths longer than this do not fit `sockaddr_un` (108 bytes with the terminator, 104 on BSD). */
const MAX_SOCKET_PATH_BYTES = 100;

/** Prefix of the private folders made for sockets whose path beside the state file would be too long. */
const SOCKET_FOLDER_PREFIX = 'gitlab-fargate-mux-';

/**
 * The socket beside the job's state file (in its 0700 directory), or, when that path is too long for a socket, in
 * a fresh 0700 folder of the temp directory (never a guessable name there: another user could bind it first).
 */
export function muxSocketPath(statePath: string): string {
  return muxSocketBesideState(statePath) ?? join(mkdtempSync(join(tmpdir(), SOCKET_FOLDER_PREFIX)), 'mux.sock');
}

/**
 * The socket path beside the job's state file, which a stage can know before prepare ran (the config stage hands it
 * to the native run client); `undefined` when it would be too long for a socket ({@link muxSocketPath} then makes a
 * private folder, whose name only the state file knows).
 */
export function muxSocketBesideState(statePath: string): string | undefined {
  const beside = statePath.replace(/\.json$/, '') + '.sock';
  return Buffer.byteLength(beside) <= MAX_SOCKET_PATH_BYTES ? beside : undefined;
}

/** Removes a multiplexer's socket, and the private folder {@link muxSocketPath} made for it, if any. */
export function removeMuxSocket(socketPath: string): void {
  rmSync(socketPath, { force: true });
  const folder = dirname(socketPath);
  if (basename(folder).startsWith(SOCKET_FOLDER_PREFIX)) rmSync(folder, { recursive: true, force: true });
}
