/**
 * @module RouterOS duration strings (docs/reference/routeros-api.md §3): the address-list `timeout` reads back as
 * the remaining time, e.g. `4m59s`, `1d2h3m4s`, `1w2d`, `00:04:59`, `1d 00:00:00` or `3s500ms`. Parsed into
 * milliseconds; written as whole seconds (`3600s`).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  w: 604_800_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 0.001,
};

/** Milliseconds of a RouterOS duration, or null when the text is not one. `0`, `0s` and `` are 0. */
export function parseRosDuration(text: string): number | null {
  let s = text.trim();
  if (s === '' || s === '0') return 0;
  let total = 0;
  // `1d 00:00:00`: the part after the space is a clock; `1w2d 03:04:05` too.
  const clock = /^(?:(.*?)\s+)?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(s);
  if (clock) {
    total += Number(clock[2]) * 3_600_000 + Number(clock[3]) * 60_000 + Math.round(Number(clock[4]) * 1000);
    s = (clock[1] ?? '').trim();
    if (s === '') return total;
  }
  const re = /(\d+(?:\.\d+)?)(ms|us|w|d|h|m|s)/gy;
  let consumed = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
    consumed = re.lastIndex;
  }
  if (consumed !== s.length) {
    // A bare number is seconds (the way a timeout may be written).
    if (/^\d+$/.test(s)) return total + Number(s) * 1000;
    return null;
  }
  return Math.round(total);
}

/** A timeout to write: whole seconds, at least 1 (`3600s`). */
export function formatRosSeconds(seconds: number): string {
  return `${Math.max(1, Math.ceil(seconds))}s`;
}
