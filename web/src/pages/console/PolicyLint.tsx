/**
 * Lint findings: a configuration (file or pasted) → what `portcullis policy lint` finds in it (rules that never
 * decide a packet, reject on WAN, floating rules overriding defaults, missing aliases, disabled rules), grouped by
 * severity, each with the rule it names, the rules involved and why (docs/policy-lint.md).
 */
import { Badge, Button, Group, List, Stack, Text, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { LintReport } from '../../api/changes-types';
import { ConfigSource } from '../../components/ConfigSource';
import { DataTable, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useApiForm } from '../../lib/forms';

type Finding = LintReport['findings'][number];
type Severity = Finding['severity'];

const SEVERITIES: ReadonlyArray<{ severity: Severity; heading: string; one: string; color: string }> = [
  { severity: 'error', heading: 'Errors', one: 'error', color: 'red' },
  { severity: 'warning', heading: 'Warnings', one: 'warning', color: 'orange' },
  { severity: 'info', heading: 'Notes', one: 'note', color: 'blue' },
];

/** As the CLI names a rule: `lan #3 "Allow web"` or `system rule "Default deny rule IPv4"`. */
function refText(ref: Finding['rule']): string {
  return ref.kind === 'system' ? `system rule "${ref.descr}"` : `${ref.tab} #${ref.position} "${ref.descr}"`;
}

export function PolicyLintPage() {
  const [report, setReport] = useState<LintReport | null>(null);
  const form = useForm({
    initialValues: { config: '' },
    validate: { config: (v) => (v.trim() ? null : 'Pick or paste a configuration') },
  });
  const submit = useApiForm(form, (v) => must(api.POST('/api/v1/policy/lint', { body: { config: v.config } })), {
    onSuccess: setReport,
  });
  return (
    <Page title="Lint findings">
      <form noValidate onSubmit={submit.onSubmit}>
        <Stack>
          <ConfigSource value={form.getValues().config} onChange={(t) => form.setFieldValue('config', t)} error={form.errors.config} />
          <ProblemAlert problem={submit.problem} />
          <Group>
            <Button type="submit" loading={submit.pending}>
              Lint configuration
            </Button>
          </Group>
        </Stack>
      </form>
      {report ? <FindingsView report={report} /> : null}
    </Page>
  );
}

function FindingsView({ report }: { report: LintReport }) {
  const groups = SEVERITIES.map((s) => ({ ...s, findings: report.findings.filter((f) => f.severity === s.severity) })).filter(
    (g) => g.findings.length > 0,
  );
  return (
    <Stack gap="sm" aria-live="polite">
      <Title order={2} size="h3">
        Findings
      </Title>
      <Text size="sm" data-testid="lint-summary">
        {report.findings.length === 0
          ? 'No findings.'
          : `${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}: ${groups.map((g) => `${g.findings.length} ${g.findings.length === 1 ? g.one : g.heading.toLowerCase()}`).join(', ')}`}
      </Text>
      {groups.map((g) => (
        <Stack gap="xs" key={g.severity}>
          <Group gap="xs">
            <Title order={3} size="h4">
              {g.heading}
            </Title>
            <Badge color={g.color} variant="light">
              {g.findings.length}
            </Badge>
          </Group>
          <DataTable
            caption={`${g.heading}: the rule each finding names, the rules involved and why`}
            rows={g.findings}
            rowKey={(f) => `${f.code}-${f.rule.kind}-${f.rule.tab}-${f.rule.position}-${f.ruleIndexes.join(',')}`}
            empty=""
            columns={[
              {
                header: 'Finding',
                cell: (f) => (
                  <Badge color={g.color} variant="light" miw="max-content">
                    {f.code} {f.kind}
                  </Badge>
                ),
              },
              { header: 'Rule', cell: (f) => `${refText(f.rule)}${f.rule.tracker ? ` (tracker ${f.rule.tracker})` : ''}` },
              { header: 'Involves', cell: (f) => [...new Set(f.related.map(refText))].join(', ') || '—' },
              { header: 'Why', cell: (f) => f.why },
            ]}
          />
        </Stack>
      ))}
      {report.warnings.length > 0 ? (
        <Stack gap="xs">
          <Title order={3} size="h4">
            Import warnings
          </Title>
          <List size="sm">
            {report.warnings.map((w, i) => (
              <List.Item key={`${w.code}-${i}`}>
                {w.code}: {w.message}
              </List.Item>
            ))}
          </List>
        </Stack>
      ) : null}
    </Stack>
  );
}
