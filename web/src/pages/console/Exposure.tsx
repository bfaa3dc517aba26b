/**
 * What the policy engine says about access, where the console needs it: what a grant on a knoc opens on its
 * gateway as configured now (`GET /api/v1/access/knocs/{id}/exposure`) and, for a blocked packet in the tracer,
 * the smallest edits that would let it pass (`POST /api/v1/policy/fix`), each re-verified by the engine.
 */
import { Badge, Button, Group, Stack, Text, Title } from '@mantine/core';
import { api, must } from '../../api/client';
import { DataTable } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction } from '../../lib/forms';

const list = (values: readonly string[] | null | undefined) => (values && values.length > 0 ? values.join(', ') : 'any');

export function KnocExposure({ knocId, knocName }: { knocId: string; knocName: string }) {
  const read = useAction(() => must(api.GET('/api/v1/access/knocs/{id}/exposure', { params: { path: { id: knocId } } })));
  const result = read.data;
  return (
    <Stack gap="xs">
      <Title order={3} size="h5">
        What a grant opens
      </Title>
      <Group>
        <Button size="sm" variant="light" onClick={() => read.mutate(undefined)} loading={read.isPending}>
          Compute on the gateway now
        </Button>
      </Group>
      <ProblemAlert problem={read.problem} />
      {result ? (
        <DataTable
          caption={`What an address on ${result.alias} reaches beyond any address (knoc ${knocName})`}
          rows={result.regions}
          rowKey={(r) => `${r.change}-${r.interface}-${r.direction}-${r.family}-${list(r.destination)}-${list(r.destinationPorts)}`}
          empty="A grant on this knoc opens nothing beyond what any address reaches already."
          columns={[
            { header: 'Change', cell: (r) => <Badge variant="light" color={r.change === 'newly-pass' ? 'green' : r.change === 'unknown' ? 'yellow' : 'red'}>{r.change}</Badge> },
            { header: 'Where', cell: (r) => `${r.interface} ${r.direction} ${r.family}` },
            { header: 'Protocols', cell: (r) => list(r.protocols) },
            { header: 'To', cell: (r) => list(r.destination) },
            { header: 'Ports', cell: (r) => list(r.destinationPorts) },
            { header: 'Deciding rule', cell: (r) => r.rule.rule?.descr ?? 'default' },
          ]}
        />
      ) : null}
    </Stack>
  );
}

export function FixSuggestions({ config, packet }: { config: string; packet: string }) {
  const propose = useAction(() => must(api.POST('/api/v1/policy/fix', { body: { config, packet } })));
  const result = propose.data;
  return (
    <Stack gap="xs">
      <Title order={2} size="h3">
        Why blocked: the smallest fix
      </Title>
      <Group>
        <Button variant="light" onClick={() => propose.mutate(undefined)} loading={propose.isPending}>
          Suggest the smallest fix
        </Button>
      </Group>
      <ProblemAlert problem={propose.problem} />
      {result ? (
        <>
          {result.note ? <Text size="sm">{result.note}</Text> : null}
          <DataTable
            caption="Edits that make the packet pass, smallest first (each re-verified)"
            rows={result.fixes}
            rowKey={(f) => f.description}
            empty="No edit of the user rules or aliases makes this packet pass."
            columns={[
              { header: 'Edit', cell: (f) => f.description },
              { header: 'Verified', cell: (f) => f.verified.verdict },
              { header: 'Also opens', cell: (f) => f.opens.beyond },
            ]}
          />
        </>
      ) : null}
    </Stack>
  );
}
