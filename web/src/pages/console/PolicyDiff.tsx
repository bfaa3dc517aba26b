/**
 * The semantic diff of two configurations (`POST /api/v1/policy/diff`, docs/policy.md "Semantic diff"): paste a
 * config.xml backup or the JSON policy model before and after a change and see exactly which flows newly pass or
 * block, and — given the management path — whether the change would lock you out. Nothing is stored.
 */
import { Alert, Badge, Button, Card, Group, NumberInput, SimpleGrid, Stack, Switch, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { PolicyDiff } from '../../api/types';
import { DataTable, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useApiForm } from '../../lib/forms';

type Region = PolicyDiff['diff']['regions'][number];
const list = (values: string[] | null) => (values === null ? 'any' : values.join(', '));
const CHANGE_COLOR: Record<Region['change'], string> = { 'newly-pass': 'orange', 'newly-block': 'red', 'reply-changed': 'yellow', unknown: 'gray' };

export function PolicyDiffPage() {
  const [result, setResult] = useState<PolicyDiff | null>(null);
  const form = useForm({
    initialValues: {
      before: '',
      after: '',
      check_lockout: false,
      management: { interface: 'lan', source: '', address: '', port: 443 },
    },
  });
  const diff = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/policy/diff', {
          body: {
            before: v.before,
            after: v.after,
            ...(v.check_lockout ? { management: { interface: v.management.interface.trim(), source: v.management.source.trim(), address: v.management.address.trim(), port: Number(v.management.port) } } : {}),
          },
        }),
      ),
    { onSuccess: setResult },
  );
  return (
    <Page title="Policy diff">
      <form onSubmit={diff.onSubmit} noValidate>
        <Stack>
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <Textarea label="Before" description="config.xml backup or JSON policy model" autosize minRows={8} maxRows={16} ff="monospace" {...form.getInputProps('before')} />
            <Textarea label="After" description="The same after the change" autosize minRows={8} maxRows={16} ff="monospace" {...form.getInputProps('after')} />
          </SimpleGrid>
          <Switch label="Check that the management path stays open" {...form.getInputProps('check_lockout', { type: 'checkbox' })} />
          {form.getValues().check_lockout ? (
            <Group align="start">
              <TextInput label="Interface" {...form.getInputProps('management.interface')} />
              <TextInput label="Your address" {...form.getInputProps('management.source')} />
              <TextInput label="Firewall address" {...form.getInputProps('management.address')} />
              <NumberInput label="Port" allowDecimal={false} clampBehavior="none" {...form.getInputProps('management.port')} />
            </Group>
          ) : null}
          <ProblemAlert problem={diff.problem} />
          <Group>
            <Button type="submit" loading={diff.pending}>
              Compare
            </Button>
          </Group>
        </Stack>
      </form>
      {result ? <DiffResult result={result} /> : null}
    </Page>
  );
}

function DiffResult({ result }: { result: PolicyDiff }) {
  const { counts, regions } = result.diff;
  return (
    <Stack>
      <Title order={2} size="h3">
        What changes
      </Title>
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        {(Object.keys(counts) as (keyof typeof counts)[]).map((k) => (
          <Card key={k} withBorder padding="sm">
            <Text size="sm" c="dimmed">
              {k}
            </Text>
            <Text fz={22} fw={700}>
              {counts[k]}
            </Text>
          </Card>
        ))}
      </SimpleGrid>
      {result.lockout ? (
        <Alert color={result.lockout.status === 'passes' ? 'green' : result.lockout.status === 'unknown' ? 'gray' : 'red'} title={`Management path: ${result.lockout.status}`} role="status">
          <Text size="sm">{result.lockout.packet}</Text>
          <Text size="sm">Before: {result.lockout.before.explanation}</Text>
          <Text size="sm">After: {result.lockout.after.explanation}</Text>
        </Alert>
      ) : null}
      <DataTable<Region & { n: number }>
        caption="Regions of traffic whose verdict changes"
        rows={regions.map((r, n) => ({ ...r, n }))}
        rowKey={(r) => String(r.n)}
        empty="No traffic changes its verdict."
        columns={[
          { header: 'Change', cell: (r) => <Badge color={CHANGE_COLOR[r.change]} variant="light">{r.change}</Badge> },
          { header: 'Interface', cell: (r) => `${r.interface} ${r.direction} ${r.family}` },
          { header: 'Protocols', cell: (r) => list(r.protocols) },
          { header: 'Source', cell: (r) => `${list(r.source)} port ${list(r.sourcePorts)}` },
          { header: 'Destination', cell: (r) => `${list(r.destination)} port ${list(r.destinationPorts)}` },
          { header: 'Before', cell: (r) => `${r.before.verdict}${r.before.rule ? ` (${r.before.rule.descr || r.before.rule.tab})` : ''}` },
          { header: 'After', cell: (r) => `${r.after.verdict}${r.after.rule ? ` (${r.after.rule.descr || r.after.rule.tab})` : ''}` },
        ]}
      />
    </Stack>
  );
}
