import { UsageError } from './usage-error.js';

/**
 * Converters from flag and environment strings to TOML-shaped values. A value that does not convert is passed
 * on as the string it was, so the schema reports it with the same message a TOML file would get.
 */

export function asBoolean(text: string): unknown {
  const lower = text.toLowerCase();
  if (['true', '1', 'yes'].includes(lower)) return true;
  if (['false', '0', 'no'].includes(lower)) return false;
  return text;
}

export function asNumber(text: string): unknown {
  return /^[+-]?\d+(?:\.\d+)?$/.test(text.trim()) ? Number(text) : text;
}

export function asList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `FARGATE_SPOT:1,FARGATE:0:1` → strategy items `NAME[:weight[:base]]`. */
export function asStrategy(text: string): Record<string, unknown>[] {
  return asList(text).map((item) => {
    const [provider, weight, base, ...rest] = item.split(':').map((part) => part.trim());
    if (rest.length > 0 || provider === undefined || provider === '') {
      throw new UsageError(`capacity provider strategy: expected NAME[:WEIGHT[:BASE]] items separated by commas, found ${JSON.stringify(item)}`);
    }
    return {
      CapacityProvider: provider,
      ...(weight === undefined ? {} : { Weight: asNumber(weight) }),
      ...(base === undefined ? {} : { Base: asNumber(base) }),
    };
  });
}

/** `team=ci,env=dev` → `{ team: 'ci', env: 'dev' }`. */
export function asTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of asList(text)) {
    const equals = item.indexOf('=');
    if (equals <= 0) throw new UsageError(`tags: expected KEY=VALUE items separated by commas, found ${JSON.stringify(item)}`);
    tags[item.slice(0, equals).trim()] = item.slice(equals + 1).trim();
  }
  return tags;
}

/** Comma-separated doublestar patterns; a comma inside `{a,b}` belongs to its pattern. */
export function asPatternList(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\') i += 1;
    else if (c === '{') depth += 1;
    else if (c === '}') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      items.push(text.slice(from, i));
      from = i + 1;
    }
  }
  items.push(text.slice(from));
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

/** `registry.example.com=arn:aws:secretsmanager:…,…` → `[{ Registry, SecretArn }]`. */
export function asRegistryCredentials(text: string): Record<string, string>[] {
  return asPatternList(text).map((item) => {
    const equals = item.indexOf('=');
    if (equals <= 0) throw new UsageError(`registry credentials: expected REGISTRY=SECRET_ARN items separated by commas, found ${JSON.stringify(item)}`);
    return { Registry: item.slice(0, equals).trim(), SecretArn: item.slice(equals + 1).trim() };
  });
}

/** A JSON value (the schema checks its shape, as for a TOML file). */
export function asJson(flag: string): (text: string) => unknown {
  return (text) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(`${flag}: expected JSON, e.g. [{"Name":"default","IdleCount":2}], found invalid JSON (${(error as Error).message})`);
    }
  };
}
