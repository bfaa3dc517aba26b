/**
 * The configuration a policy page judges: a config.xml backup or the JSON policy model, pasted or read from a
 * file in the browser (nothing is uploaded until the form is sent).
 */
import { FileInput, Stack, Textarea } from '@mantine/core';
import { type ReactNode, useState } from 'react';

export function ConfigSource({
  value,
  onChange,
  error,
  label = 'Configuration',
}: {
  value: string;
  onChange: (text: string) => void;
  error?: ReactNode;
  label?: string;
}) {
  const [file, setFile] = useState<File | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const load = (picked: File | null) => {
    setFile(picked);
    setReadError(null);
    if (!picked) return;
    picked.text().then(onChange, (err: unknown) => setReadError(`The file could not be read (${String(err)}).`));
  };
  return (
    <Stack gap="xs">
      <FileInput label={`${label} file`} description="A config.xml backup or the JSON policy model" placeholder="Pick a file" clearable clearButtonProps={{ 'aria-label': 'Clear the file' }} value={file} onChange={load} error={readError} />
      <Textarea
        label={label}
        description="Or paste it here"
        autosize
        minRows={4}
        maxRows={12}
        styles={MONO}
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        error={error}
      />
    </Stack>
  );
}

/** Monospace for what is typed (configs, packets, JSON), not for the label. */
export const MONO = { input: { fontFamily: 'var(--mantine-font-family-monospace)' } };
