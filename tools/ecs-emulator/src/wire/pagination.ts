import { invalidParameter } from './aws-error.js';

/** One page of `items` as List* operations return them, with an opaque `nextToken` when more remain. */
export function paginate<T>(
  items: T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  defaultPageSize = 100,
): { page: T[]; nextToken?: string } {
  const size = maxResults ?? defaultPageSize;
  if (!Number.isInteger(size) || size < 1 || size > 100) throw invalidParameter('maxResults must be between 1 and 100.');
  let start = 0;
  if (nextToken !== undefined) {
    const decoded = /^emu1:(\d+)$/.exec(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!decoded) throw invalidParameter('The nextToken is not valid. Use the nextToken from a previous response.');
    start = Number(decoded[1]);
  }
  const page = items.slice(start, start + size);
  const end = start + page.length;
  return end < items.length ? { page, nextToken: Buffer.from(`emu1:${end}`).toString('base64url') } : { page };
}
