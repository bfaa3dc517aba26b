/**
 * @module RouterOS time intervals (docs/reference/routeros-api.md §3): parse what a client sends (`1h`, `1d2h3m`,
 * `00:05:00`, `300`, `1w`, `500ms`) and print the way RouterOS prints remaining time and uptime (`4m59s`,
 * `1d2h3m4s`, `1w`).
 */

const UNIT_MS: Record<string, number> = {
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};

/** Milliseconds of a RouterOS interval, or null when it is not one. A bare number counts seconds. */
export function parseDuration(text: string): number | null {
  const value = text.trim();
  if (value === '') return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // `[Nw][Nd] hh:mm:ss` (what older versions print) or the unit form.
  const clock = /^(?:(\d+)w)?(?:(\d+)d)?\s*(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,3}))?$/.exec(value);
  if (clock !== null) {
    const [, w, d, h, m, s, frac] = clock;
    return (
      Number(w ?? 0) * UNIT_MS.w! +
      Number(d ?? 0) * UNIT_MS.d! +
      Number(h) * UNIT_MS.h! +
      Number(m) * UNIT_MS.m! +
      Number(s) * 1000 +
      (frac === undefined ? 0 : Number(frac.padEnd(3, '0')))
    );
  }
  const unitPattern = /(\d+)(ms|w|d|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = unitPattern.exec(value); match !== null; match = unitPattern.exec(value)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    consumed = unitPattern.lastIndex;
  }
  return consumed === value.length && consumed > 0 ? total : null;
}

/** RouterOS's print form, whole seconds rounded down: `4m59s`, `1d2h3m4s`, `1w`, `0s`. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['w', 604_800],
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
