/** A duration as GitLab writes job timeouts: `3600`, `90s`, `10m`, `1h 30m`, `2 hours`. */
const unitSeconds: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
};

/**
 * Parses a duration into seconds.
 * @returns undefined when the text is not a duration
 */
export function parseDurationSeconds(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? text : undefined;
  const trimmed = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) > 0 ? Number(trimmed) : undefined;
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;
  let total = 0;
  let matched = 0;
  for (const piece of trimmed.split(/\s*,?\s+(?=\d)/)) {
    part.lastIndex = 0;
    const match = part.exec(piece);
    if (!match || part.lastIndex !== piece.length) return undefined;
    const seconds = unitSeconds[match[2]!];
    if (seconds === undefined) return undefined;
    total += Number(match[1]) * seconds;
    matched += 1;
  }
  return matched > 0 && total > 0 ? total : undefined;
}
