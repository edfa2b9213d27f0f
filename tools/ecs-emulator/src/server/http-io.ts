import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WireResponse } from '../wire/json-protocol.js';

/** Bodies above this are refused: RunTask overrides are capped at 8 KiB, task definitions at 64 KiB. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError(`Request body is larger than ${MAX_BODY_BYTES} bytes.`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(res: ServerResponse, response: WireResponse): void {
  const body = Buffer.from(response.body);
  res.writeHead(response.statusCode, { ...response.headers, 'Content-Length': body.length });
  res.end(body);
}

export function sendJson(res: ServerResponse, statusCode: number, body: unknown): void {
  send(res, { statusCode, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body, null, 2) });
}
