import { Alert, Button, CopyButton, Group, Stack, TextInput } from '@mantine/core';

/** A read-only value with a labelled copy button. */
export function CopyField({ label, value }: { label: string; value: string }) {
  return (
    <Group gap="xs" align="end" wrap="nowrap">
      <TextInput label={label} value={value} readOnly style={{ flex: 1 }} ff="monospace" />
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Button variant="light" aria-label={`Copy ${label}`} onClick={copy} mb={1}>
            {copied ? 'Copied' : 'Copy'}
          </Button>
        )}
      </CopyButton>
    </Group>
  );
}

/** Secrets the server returns once (API token, feed key): copy them now, they are not kept anywhere here. */
export function SecretOnce({ title, values }: { title: string; values: { label: string; value: string }[] }) {
  return (
    <Alert color="yellow" title={title} role="status">
      <Stack gap="xs">
        Copy it now: it is shown only once and is not stored in this browser.
        {values.map((v) => (
          <CopyField key={v.label} label={v.label} value={v.value} />
        ))}
      </Stack>
    </Alert>
  );
}
