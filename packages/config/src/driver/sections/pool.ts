import { child, element, type At, type Checker } from '../../schema/checker.js';
import { decimal, integer, list, refine, section, string, type Schema } from '../../schema/schema.js';
import { CronSyntaxError, isKnownTimeZone, parseCron } from '../cron.js';
import type { PoolDefaults, PoolPolicy, PoolSettings } from '../model.js';

const DAY = 86_400;
/** Pool names become directory names and tag values: short, plain. */
const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** A unix-cron period; a bad one is reported with the field that is wrong. */
const period: Schema<string> = refine(
  string({ expected: 'a five-field unix-cron period like "* 8-17 * * mon-fri"' }),
  (text, at, checker) => {
    try {
      parseCron(text);
      return text;
    } catch (error) {
      if (!(error instanceof CronSyntaxError)) throw error;
      return void checker.error(at, 'a five-field unix-cron period like "* 8-17 * * mon-fri"', JSON.stringify(text), error.message);
    }
  },
);

/** An IANA time zone, checked with the Intl database of the Node that runs the keeper. */
const timeZone: Schema<string> = refine(string({ expected: 'an IANA time zone like "Europe/Berlin" or "UTC"' }), (zone, at, checker) =>
  isKnownTimeZone(zone) ? zone : void checker.error(at, 'an IANA time zone like "Europe/Berlin" or "UTC"', JSON.stringify(zone), 'use a name from the tz database (https://www.iana.org/time-zones)'),
);

const idleCount = integer({ min: 0, max: 100, expected: 'a number of idle tasks from 0 to 100' });
const idleTime = integer({ min: 60, max: DAY, expected: 'seconds from 60 to 86400 (1 day)' });

interface PolicyRaw {
  periods: string[];
  timezone: string;
  idleCount: number;
  idleTime: number;
}

const policy: Schema<PoolPolicy> = refine(
  section<PolicyRaw>(
    {
      periods: { key: 'Periods', schema: list(period, { min: 1, max: 50 }), default: ['* * * * *'] },
      timezone: { key: 'Timezone', schema: timeZone, default: 'UTC' },
      idleCount: { key: 'IdleCount', schema: idleCount, required: true },
      idleTime: { key: 'IdleTime', schema: idleTime, default: 0 },
    },
    { expected: 'a [[Pool.Policy]] table with Periods, Timezone, IdleCount and IdleTime' },
  ),
  ({ idleTime: time, ...rest }): PoolPolicy => (time === 0 ? rest : { ...rest, idleTime: time }),
);

interface PoolRaw {
  name: string;
  idleCount: number;
  idleTime: number;
  maxIdle: number;
  maxAge: number;
  policies: PoolPolicy[];
}

/** An IdleCount above MaxIdle is clamped by the keeper: almost certainly not what was meant. */
function checkMaxIdle(raw: Partial<PoolRaw>, failed: ReadonlySet<keyof PoolRaw>, at: At, checker: Checker): boolean {
  if (failed.has('maxIdle') || failed.has('idleCount') || failed.has('policies') || raw.maxIdle === undefined) return true;
  const counts: [At, number][] = [[child(at, 'IdleCount', 'IdleCount'), raw.idleCount ?? 0]];
  (raw.policies ?? []).forEach((p, index) => counts.push([child(element(child(at, 'Policy', 'Policy'), index), 'IdleCount', 'IdleCount'), p.idleCount]));
  for (const [where, count] of counts) {
    if (count > raw.maxIdle) checker.warn(where, `at most MaxIdle (${raw.maxIdle})`, String(count), `the keeper keeps at most ${raw.maxIdle} idle tasks: raise MaxIdle or lower IdleCount`);
  }
  return true;
}

const pool: Schema<PoolSettings> = section<PoolRaw>(
  {
    name: { key: 'Name', schema: string({ pattern: POOL_NAME, expected: 'a pool name: letters, digits, _ and -, 1 to 63 characters, starting with a letter or digit' }), required: true },
    idleCount: { key: 'IdleCount', schema: idleCount, default: 0 },
    idleTime: { key: 'IdleTime', schema: idleTime, default: 1200 },
    maxIdle: { key: 'MaxIdle', schema: integer({ min: 0, max: 100, expected: 'a number of idle tasks from 0 to 100' }), default: 10 },
    maxAge: { key: 'MaxAge', schema: integer({ min: 60, max: 7 * DAY, expected: 'seconds from 60 to 604800 (7 days)' }), default: 4 * 3600 },
    policies: { key: 'Policy', schema: list(policy, { max: 50 }), default: [] },
  },
  { expected: 'a [[Pool]] table', check: checkMaxIdle },
);

/** Two pools of one name would share a directory and their tasks' tags. */
function checkUniqueNames(pools: PoolSettings[], at: At, checker: Checker): PoolSettings[] | undefined {
  const seen = new Set<string>();
  let valid = true;
  pools.forEach((p, index) => {
    if (seen.has(p.name)) {
      checker.error(child(element(at, index), 'Name', 'Name'), 'each pool Name once', JSON.stringify(p.name), 'give every [[Pool]] its own Name');
      valid = false;
    }
    seen.add(p.name);
  });
  return valid ? pools : undefined;
}

/** `[[Pool]]`: warm pools of idle tasks (none by default). */
export const pools: Schema<PoolSettings[]> = refine(list(pool, { max: 20 }), checkUniqueNames);

interface PoolDefaultsRaw {
  directory: string;
  reconcileInterval: number;
  claimMargin: number;
  metricsPort: number;
}

/** `[PoolSettings]`: what all pools share. `Directory` is "" here until the parser fills its default. */
export const poolDefaults: Schema<PoolDefaults> = refine(
  section<PoolDefaultsRaw>(
    {
      directory: { key: 'Directory', schema: string({ minLength: 0, expected: 'a directory path' }), default: '' },
      reconcileInterval: { key: 'ReconcileInterval', schema: decimal({ min: 1, max: 3600, expected: 'seconds from 1 to 3600' }), default: 20 },
      claimMargin: { key: 'ClaimMargin', schema: integer({ min: 0, max: 3600, expected: 'seconds from 0 to 3600' }), default: 120 },
      metricsPort: { key: 'MetricsPort', schema: integer({ min: 0, max: 65535, expected: 'a TCP port from 1 to 65535, or 0 for no metrics endpoint' }), default: 0 },
    },
    { expected: 'a [PoolSettings] table' },
  ),
  ({ directory, metricsPort, ...rest }): PoolDefaults => ({
    ...rest,
    ...(directory === '' ? {} : { directory }),
    ...(metricsPort === 0 ? {} : { metricsPort }),
  }),
);
