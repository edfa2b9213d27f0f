import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { ConfigFileError, MAX_CONFIG_FILE_BYTES } from './errors.js';

const EXPECTED = `expected a regular file of at most ${MAX_CONFIG_FILE_BYTES / 1024 / 1024} MiB`;
const HINT = 'give the path of the TOML file itself';

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'something other than a regular file';
}

function tooLarge(path: string): ConfigFileError {
  return new ConfigFileError(path, `${EXPECTED}, found a larger file; ${HINT}`);
}

/**
 * Reads a configuration file as UTF-8 text, refusing anything but a regular file of at most
 * {@link MAX_CONFIG_FILE_BYTES}. The file is opened non-blocking and checked through the open descriptor, so a
 * named pipe is refused instead of waiting for a writer, and a file swapped after a check cannot slip through.
 * @throws ConfigFileError, or the file system's error (e.g. `ENOENT`).
 */
export async function readConfigFile(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ConfigFileError(path, `${EXPECTED}, found ${kindOf(stats)}; ${HINT}`);
    if (stats.size > MAX_CONFIG_FILE_BYTES) throw tooLarge(path);
    const chunks: Buffer[] = [];
    let total = 0;
    // Read to the end rather than trusting the size: the file may grow while it is read.
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(stats.size + 1, 4096), MAX_CONFIG_FILE_BYTES + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > MAX_CONFIG_FILE_BYTES) throw tooLarge(path);
      // A short read of a regular file is its end: no extra read to see 0 bytes.
      if (bytesRead < chunk.length) break;
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await handle.close();
  }
}
