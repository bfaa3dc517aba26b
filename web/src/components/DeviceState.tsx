import { Alert, Badge, Text } from '@mantine/core';

const STATES: Record<string, { label: string; color: string }> = {
  pending: { label: 'Pending on firewall', color: 'yellow' },
  live: { label: 'Live on firewall', color: 'green' },
  failed: { label: 'Refused by firewall', color: 'red' },
  removed: { label: 'Removed from firewall', color: 'gray' },
};

/** Where a grant stands on the device (the grant's `sync_state`), in words. */
export function SyncBadge({ state }: { state: string }) {
  const known = STATES[state] ?? { label: state, color: 'gray' };
  return (
    <Badge color={known.color} variant="light" data-sync-state={state}>
      {known.label}
    </Badge>
  );
}

/** The firewall's refusal: the vendor code and its message (which ends with what to check). */
export function DeviceError({ error }: { error: { code: string; message: string; since?: string } | null }) {
  if (!error) return null;
  return (
    <Alert color="red" title={`The firewall refuses: ${error.code}`} role="alert">
      <Text size="sm">{error.message}</Text>
      {error.since ? (
        <Text size="xs" c="dimmed">
          since {new Date(error.since).toLocaleString()}
        </Text>
      ) : null}
    </Alert>
  );
}
