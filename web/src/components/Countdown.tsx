import { Text } from '@mantine/core';
import { formatRemaining, secondsUntil, useNow } from '../lib/time';

/** Time left until `expiresAt`, ticking every second (not announced on every tick: no aria-live). */
export function Countdown({ expiresAt }: { expiresAt: string }) {
  const now = useNow();
  const left = secondsUntil(expiresAt, now);
  return (
    <Text component="time" dateTime={expiresAt} size="sm" ff="monospace" data-testid="countdown" title={new Date(expiresAt).toLocaleString()}>
      {formatRemaining(left)}
    </Text>
  );
}
