import { formatDuration } from './time';

const STEPS = [15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 7 * 86_400];

/** Duration choices up to `maxSeconds` (the knoc maximum), always including the maximum itself. */
export function durationOptions(maxSeconds: number): { value: string; label: string }[] {
  const picks = STEPS.filter((s) => s < maxSeconds);
  picks.push(maxSeconds);
  return picks.map((s) => ({ value: String(s), label: s === maxSeconds ? `${formatDuration(s)} (maximum)` : formatDuration(s) }));
}
