/**
 * Five-field unix cron (`minute hour day-of-month month day-of-week`), the dialect of gitlab-runner's
 * `[[runners.autoscaler.policy]] periods` ("An array of unix-cron formatted strings",
 * https://docs.gitlab.com/runner/configuration/advanced-configuration/#the-runnersautoscalerpolicy-sections).
 * gitlab-runner reads periods with github.com/gorhill/cronexpr
 * (https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/helpers/timeperiod/period.go); the subset accepted
 * here is the one both that library and Vixie cron read the same way: `*`, `?` (as `*`), numbers, `a-b` ranges,
 * `/step` on `*` or a range, `,` lists, month names `jan`–`dec` and day names `sun`–`sat` (case-insensitive), day of
 * week 0–7 with 0 and 7 both Sunday. When both day fields are restricted, a day matches if either does (Vixie
 * cron's rule). cronexpr's extras (`L`, `W`, `#`, a seconds or a year field, `@` macros) are refused with a message.
 *
 * A period "matches" during the whole minute its fields name.
 */

/** One parsed expression: the allowed values of each field. */
export interface CronSchedule {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday … 6 = Saturday (7 is read as 0). */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Whether the day-of-month field was `*` (or `?`): then only the day of week decides, and vice versa. */
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
}

/** The wall-clock fields of one instant in one time zone. */
export interface ZonedMinute {
  readonly minute: number;
  readonly hour: number;
  readonly dayOfMonth: number;
  /** 1–12 */
  readonly month: number;
  /** 0 = Sunday */
  readonly dayOfWeek: number;
}

/** A cron expression that cannot be read: `message` says what and how to fix it. */
export class CronSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronSyntaxError';
  }
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  { name: 'day of week', min: 0, max: 7, names: DAY_NAMES },
];

/**
 * Reads one expression.
 * @throws CronSyntaxError naming the field and the part that is wrong
 */
export function parseCron(source: string): CronSchedule {
  if (source.trim().startsWith('@')) throw new CronSyntaxError(`${JSON.stringify(source)}: @ macros are not supported; write the five fields, e.g. "* 8-17 * * mon-fri"`);
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronSyntaxError(
      `${JSON.stringify(source)} has ${parts.length} field${parts.length === 1 ? '' : 's'}; a period has five: minute hour day-of-month month day-of-week ` +
        '(no seconds or year field), e.g. "* 8-17 * * mon-fri"',
    );
  }
  const sets = parts.map((part, index) => parseField(part, FIELDS[index] as FieldSpec, source));
  const daysOfWeek = new Set([...(sets[4] as Set<number>)].map((d) => (d === 7 ? 0 : d)));
  return {
    source,
    minutes: sets[0] as Set<number>,
    hours: sets[1] as Set<number>,
    daysOfMonth: sets[2] as Set<number>,
    months: sets[3] as Set<number>,
    daysOfWeek,
    anyDayOfMonth: isAny(parts[2] as string),
    anyDayOfWeek: isAny(parts[4] as string),
  };
}

function isAny(part: string): boolean {
  return part === '*' || part === '?';
}

function parseField(part: string, spec: FieldSpec, source: string): Set<number> {
  const values = new Set<number>();
  for (const item of part.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '') throw fieldError(source, spec, item, 'is not a value, a range or a range/step');
    const step = stepText === undefined ? 1 : readNumber(stepText, spec, source, item);
    if (step < 1) throw fieldError(source, spec, item, 'has a step below 1');
    const [from, to] = readRange(range, spec, source, item, stepText !== undefined);
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

function readRange(range: string, spec: FieldSpec, source: string, item: string, stepped: boolean): [number, number] {
  if (isAny(range)) return [spec.min, spec.max];
  const [fromText, toText, extra] = range.split('-');
  if (extra !== undefined || fromText === undefined) throw fieldError(source, spec, item, 'is not a value or a range a-b');
  const from = readValue(fromText, spec, source, item);
  // cronexpr and Vixie cron read "5/15" as "5-max/15".
  const to = toText === undefined ? (stepped ? spec.max : from) : readValue(toText, spec, source, item);
  if (to < from) throw fieldError(source, spec, item, `runs backwards (${from} > ${to}); write the range low-high`);
  return [from, to];
}

function readValue(text: string, spec: FieldSpec, source: string, item: string): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return spec.names === MONTH_NAMES ? named + 1 : named;
  const value = readNumber(text, spec, source, item);
  if (value < spec.min || value > spec.max) throw fieldError(source, spec, item, `is outside ${spec.min}-${spec.max}`);
  return value;
}

function readNumber(text: string, spec: FieldSpec, source: string, item: string): number {
  if (!/^\d{1,2}$/.test(text)) {
    const names = spec.names === undefined ? '' : ` or a name (${spec.names[0]}…${spec.names.at(-1)})`;
    throw fieldError(source, spec, item, `has ${JSON.stringify(text)}, which is not a number${names} (L, W and # are not supported)`);
  }
  return Number(text);
}

function fieldError(source: string, spec: FieldSpec, item: string, problem: string): CronSyntaxError {
  return new CronSyntaxError(`${JSON.stringify(source)}: the ${spec.name} field's ${JSON.stringify(item)} ${problem}`);
}

/** Whether the minute matches the expression (Vixie cron's day rule: either day field, when both are restricted). */
export function cronMatches(schedule: CronSchedule, at: ZonedMinute): boolean {
  if (!schedule.minutes.has(at.minute) || !schedule.hours.has(at.hour) || !schedule.months.has(at.month)) return false;
  const dom = schedule.daysOfMonth.has(at.dayOfMonth);
  const dow = schedule.daysOfWeek.has(at.dayOfWeek);
  if (schedule.anyDayOfMonth || schedule.anyDayOfWeek) return dom && dow;
  return dom || dow;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `zone` is an IANA time zone this Node knows (`UTC`, `Europe/Berlin`, …). */
export function isKnownTimeZone(zone: string): boolean {
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      minute: 'numeric',
      hour: 'numeric',
      day: 'numeric',
      month: 'numeric',
      weekday: 'short',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/**
 * The wall-clock minute of `epochMs` in `zone`.
 * @throws RangeError for a zone Intl does not know (check with {@link isKnownTimeZone} first)
 */
export function zonedMinute(epochMs: number, zone: string): ZonedMinute {
  const parts = Object.fromEntries(formatterFor(zone).formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  return {
    minute: Number(parts.minute),
    hour: Number(parts.hour),
    dayOfMonth: Number(parts.day),
    month: Number(parts.month),
    dayOfWeek: DAY_NAMES.indexOf((parts.weekday ?? '').toLowerCase()),
  };
}
