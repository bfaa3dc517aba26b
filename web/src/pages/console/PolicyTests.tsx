/**
 * Policy tests: flows that must pass or be blocked, run against a configuration (file or pasted). A gateway's
 * saved tests can be loaded, edited, saved (every pending change's after-configuration must then pass them) and
 * run; or any test document runs at once without saving.
 */
import { Badge, Button, Group, Select, Stack, Text, Textarea, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, must } from '../../api/client';
import type { PolicyTestReport } from '../../api/changes-types';
import { ApiProblem } from '../../api/problem';
import { ConfigSource, MONO } from '../../components/ConfigSource';
import { DataTable, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction } from '../../lib/forms';
import { optionsOf, useGateways } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';
import { formatTime } from '../../lib/time';
import { ruleText, VERDICT_COLOR } from './Tracer';

const EXAMPLE = JSON.stringify(
  {
    version: 1,
    flows: [
      { name: 'LAN reaches the web', interface: 'lan', protocol: 'tcp', source: '192.168.1.50', destination: '8.8.8.8', destination_port: 443, expect: 'pass' },
    ],
  },
  null,
  2,
);

export function PolicyTestsPage() {
  const me = useMe();
  const gateways = useGateways();
  const [gatewayId, setGatewayId] = useState<string | null>(null);
  const [config, setConfig] = useState('');
  const [tests, setTests] = useState(EXAMPLE);
  const [report, setReport] = useState<PolicyTestReport | null>(null);
  const stored = useQuery({
    queryKey: ['policy-tests', gatewayId],
    enabled: gatewayId !== null,
    queryFn: () => must(api.GET('/api/v1/firewall/gateways/{id}/policy-tests', { params: { path: { id: gatewayId ?? '' } } })),
  });
  // Load a gateway's tests when it is picked or they were saved (`loaded` names that version), not on every
  // refetch: that would drop edits.
  const loaded = stored.data ? `${stored.data.gateway_id}@${stored.data.updated_at ?? ''}` : null;
  useEffect(() => {
    if (stored.data) setTests(JSON.stringify(stored.data.document, null, 2));
  }, [loaded]);

  const run = useAction(() => must(api.POST('/api/v1/policy/test', { body: { config, tests } })), { onSuccess: setReport });
  const runSaved = useAction(
    (id: string) => must(api.POST('/api/v1/firewall/gateways/{id}/policy-tests/run', { params: { path: { id } }, body: { config } })),
    { onSuccess: setReport },
  );
  const save = useAction(
    (id: string) => {
      let document: Record<string, unknown>;
      try {
        document = JSON.parse(tests) as Record<string, unknown>;
      } catch (err) {
        return Promise.reject(new ApiProblem(0, 'PC_ERR_VALIDATION', `The tests are not JSON: ${String(err)}`, 'tests', null));
      }
      return must(api.PUT('/api/v1/firewall/gateways/{id}/policy-tests', { params: { path: { id } }, body: document }));
    },
    { invalidate: [['policy-tests', gatewayId]] },
  );
  const problems = [run.problem, runSaved.problem, save.problem].filter((p): p is ApiProblem => p !== null);
  const configError = problems.find((p) => p.field?.startsWith('config'))?.message;
  const testsError = problems.find((p) => p.field !== null && !p.field.startsWith('config'))?.message;
  const other = problems.find((p) => p.field === null) ?? null;
  const mayEdit = gatewayId !== null && can(me.data, 'firewall.manage_rules', gateways.data?.items.find((g) => g.id === gatewayId)?.site_id);
  const needsConfig = !config.trim();
  return (
    <Page title="Policy tests">
      <Stack>
        <Select
          label="Gateway"
          description="Load and save a gateway's policy tests; none: try a document without saving"
          placeholder="None"
          clearable
          data={optionsOf(gateways.data?.items, (g) => g.name)}
          value={gatewayId}
          onChange={setGatewayId}
        />
        {stored.data?.updated_at ? <Text size="sm" c="dimmed">Saved {formatTime(stored.data.updated_at)}</Text> : null}
        <Textarea label="Policy tests (JSON)" autosize minRows={6} maxRows={20} styles={MONO} value={tests} onChange={(e) => setTests(e.currentTarget.value)} error={testsError} />
        <ConfigSource value={config} onChange={setConfig} error={configError} />
        <ProblemAlert problem={other} />
        <Group>
          <Button onClick={() => run.mutate(undefined)} loading={run.isPending} disabled={needsConfig}>
            Run these tests
          </Button>
          {gatewayId !== null ? (
            <Button variant="light" onClick={() => runSaved.mutate(gatewayId)} loading={runSaved.isPending} disabled={needsConfig}>
              Run the saved tests
            </Button>
          ) : null}
          {mayEdit ? (
            <Button variant="light" onClick={() => save.mutate(gatewayId)} loading={save.isPending}>
              Save tests to the gateway
            </Button>
          ) : null}
        </Group>
        {needsConfig ? <Text size="xs" c="dimmed">Running needs a configuration.</Text> : null}
        {save.isSuccess ? <Text size="sm" role="status">Saved.</Text> : null}
      </Stack>
      {report ? <ReportView report={report} /> : null}
    </Page>
  );
}

const STATUS_COLOR: Record<string, string> = { ok: 'green', failed: 'red', unknown: 'yellow', error: 'orange' };

function ReportView({ report }: { report: PolicyTestReport }) {
  return (
    <Stack gap="sm" aria-live="polite">
      <Group gap="sm">
        <Title order={2} size="h3">
          Report
        </Title>
        <Badge color={report.passed ? 'green' : 'red'} data-testid="tests-passed">
          {report.passed ? 'all passed' : 'not passed'}
        </Badge>
        <Text size="sm">
          {report.counts.ok} ok · {report.counts.failed} failed · {report.counts.unknown} unknown · {report.counts.error} error of {report.total}
        </Text>
      </Group>
      <DataTable
        caption="Every flow judged"
        rows={report.results}
        rowKey={(r) => r.name}
        empty="The document has no flows."
        columns={[
          { header: 'Flow', cell: (r) => r.name },
          { header: 'Status', cell: (r) => <Badge color={STATUS_COLOR[r.status]} variant="light" miw="max-content">{r.status}</Badge> },
          { header: 'Expected', cell: (r) => r.expected },
          { header: 'Verdict', cell: (r) => (r.verdict ? <Badge color={VERDICT_COLOR[r.verdict]} variant="light">{r.verdict}</Badge> : '—') },
          { header: 'Rule', cell: (r) => ruleText(r.rule) },
          { header: 'Why', cell: (r) => r.explanation ?? r.why },
        ]}
      />
    </Stack>
  );
}
