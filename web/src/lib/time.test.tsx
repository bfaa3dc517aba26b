// @vitest-environment jsdom
import { act, cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Countdown } from '../components/Countdown';
import { renderWithProviders } from '../test/render';
import { durationOptions } from './durations';
import { formatDuration, formatRemaining, secondsUntil } from './time';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('time left', () => {
  it('formats hours, minutes and seconds, and says expired at zero or below', () => {
    expect(formatRemaining(3725)).toBe('1h 02m 05s');
    expect(formatRemaining(249)).toBe('4m 09s');
    expect(formatRemaining(12)).toBe('12s');
    expect(formatRemaining(0)).toBe('expired');
    expect(formatRemaining(-5)).toBe('expired');
  });

  it('rounds a partial second up, so a grant never shows 0s while it is still open', () => {
    expect(secondsUntil('2026-01-01T00:00:10.000Z', Date.parse('2026-01-01T00:00:09.200Z'))).toBe(1);
  });

  it('the countdown ticks every second down to expired', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    renderWithProviders(<Countdown expiresAt="2026-01-01T00:00:03Z" />);
    const clock = screen.getByTestId('countdown');
    expect(clock.textContent).toBe('3s');
    expect(clock.getAttribute('datetime')).toBe('2026-01-01T00:00:03Z');
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(clock.textContent).toBe('2s');
    act(() => {
      vi.advanceTimersByTime(3000);
    });
    expect(clock.textContent).toBe('expired');
  });
});

describe('durations', () => {
  it('offers steps below the knoc maximum and the maximum itself, never more', () => {
    const options = durationOptions(4 * 3600);
    expect(options.map((o) => Number(o.value))).toEqual([900, 1800, 3600, 7200, 14_400]);
    expect(options.at(-1)?.label).toBe('4 h (maximum)');
    expect(durationOptions(600).map((o) => o.value)).toEqual(['600']);
  });

  it('names durations in the largest whole unit', () => {
    expect(formatDuration(86_400)).toBe('1 d');
    expect(formatDuration(7200)).toBe('2 h');
    expect(formatDuration(90)).toBe('90 s');
    expect(formatDuration(120)).toBe('2 min');
  });
});
