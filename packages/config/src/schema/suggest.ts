function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The known key closest to an unknown one, compared case-insensitively and ignoring `_`/`-`, or undefined
 * when nothing is close enough to be a likely typo.
 */
export function nearestKey(unknown: string, known: readonly string[]): string | undefined {
  const simplify = (key: string): string => key.toLowerCase().replace(/[_-]/g, '');
  const target = simplify(unknown);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const simple = simplify(candidate);
    const distance =
      simple.startsWith(target) || target.startsWith(simple) ? Math.abs(simple.length - target.length) * 0.5 : editDistance(target, simple);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  const tolerance = Math.max(2, Math.floor(target.length / 3));
  return bestDistance <= tolerance ? best : undefined;
}
