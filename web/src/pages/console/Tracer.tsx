/**
 * The packet tracer: a configuration (file or pasted) and a packet in the CLI line form → the verdict, the rule
 * that decided it, the decision in words, the NAT translations on the way and every rule the packet met.
 */
import { Alert, Badge, Button, Code, Group, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { TraceResult } from '../../api/changes-types';
import { ConfigSource, MONO } from '../../components/ConfigSource';
import { DataTable, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useApiForm } from '../../lib/forms';
import { FixSuggestions } from './Exposure';

export const VERDICT_COLOR: Record<string, string> = { pass: 'green', block: 'red', reject: 'orange', unknown: 'yellow' };

/** Run-time facts as typed: empty is none; anything else must be a JSON object. */
export function parseFacts(text: string): Record<string, unknown> | undefined | 'invalid' {
  if (!text.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : 'invalid';
  } catch {
    return 'invalid';
  }
}

type Rule = TraceResult['rule'];

export function ruleText(rule: Rule): string {
  if (rule === null) return "pf's default (no rule matched)";
  const tracker = rule.tracker ? ` (tracker ${rule.tracker})` : '';
  return `${rule.kind} rule ${rule.tab} #${rule.position} "${rule.descr}"${tracker}`;
}

export function TracerPage() {
  const [result, setResult] = useState<TraceResult | null>(null);
  /** The configuration and packet the shown result was traced with (what the fix suggestions start from). */
  const [traced, setTraced] = useState<{ config: string; packet: string } | null>(null);
  const form = useForm({
    initialValues: { config: '', packet: '', facts: '' },
    validate: {
      config: (v) => (v.trim() ? null : 'Pick or paste a configuration'),
      packet: (v) => (v.trim() ? null : 'Type a packet, e.g. lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S'),
      facts: (v) => (parseFacts(v) === 'invalid' ? 'Run-time facts are a JSON object' : null),
    },
  });
  const submit = useApiForm(
    form,
    (v) => {
      const facts = parseFacts(v.facts);
      return must(
        api.POST('/api/v1/policy/trace', {
          body: { config: v.config, packet: v.packet.trim(), ...(facts && facts !== 'invalid' ? { facts } : {}) },
        }),
      );
    },
    {
      onSuccess: (r) => {
        setResult(r);
        setTraced({ config: form.getValues().config, packet: form.getValues().packet.trim() });
      },
    },
  );
  return (
    <Page title="Packet tracer">
      <form noValidate onSubmit={submit.onSubmit}>
        <Stack>
          <ConfigSource value={form.getValues().config} onChange={(t) => form.setFieldValue('config', t)} error={form.errors.config} />
          <TextInput
            label="Packet"
            description="interface direction protocol source[:port] -> destination[:port] [flags S], e.g. lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S"
            styles={MONO}
            required
            {...form.getInputProps('packet')}
          />
          <Textarea label="Run-time facts (JSON, optional)" autosize minRows={1} maxRows={6} styles={MONO} {...form.getInputProps('facts')} />
          <ProblemAlert problem={submit.problem} />
          <Group>
            <Button type="submit" loading={submit.pending}>
              Trace packet
            </Button>
          </Group>
        </Stack>
      </form>
      {result ? <TraceView result={result} /> : null}
      {result && traced && (result.verdict === 'block' || result.verdict === 'reject') ? (
        <FixSuggestions key={`${traced.packet}|${traced.config.length}`} config={traced.config} packet={traced.packet} />
      ) : null}
    </Page>
  );
}

function TraceView({ result }: { result: TraceResult }) {
  return (
    <Stack gap="sm" aria-live="polite">
      <Title order={2} size="h3">
        Result
      </Title>
      <Group gap="sm">
        <Badge size="lg" color={VERDICT_COLOR[result.verdict]} data-testid="verdict">
          {result.verdict}
        </Badge>
        <Text size="sm">decided by {result.decidedBy}</Text>
        {result.stateCreated ? <Badge variant="light">state created</Badge> : null}
      </Group>
      <Text data-testid="deciding-rule">
        Deciding rule: <b>{ruleText(result.rule)}</b>
      </Text>
      <Text size="sm">{result.explanation}</Text>
      {result.reply ? <Text size="sm">Reply: {result.reply}</Text> : null}
      {result.possibilities && result.possibilities.length > 0 ? (
        <DataTable
          caption="Possible outcomes (run-time contents decide)"
          rows={result.possibilities}
          rowKey={(p) => `${p.verdict}-${p.assuming.join('|')}`}
          empty=""
          columns={[
            { header: 'Verdict', cell: (p) => p.verdict },
            { header: 'Rule', cell: (p) => ruleText(p.rule) },
            { header: 'Assuming', cell: (p) => p.assuming.join('; ') },
          ]}
        />
      ) : null}
      {result.translations && result.translations.length > 0 ? (
        <DataTable
          caption="NAT steps"
          rows={result.translations}
          rowKey={(t) => `${t.stage}-${t.rule.index}-${t.field}`}
          empty=""
          columns={[
            { header: 'Stage', cell: (t) => `${t.stage} (${t.kind})` },
            { header: 'Rule', cell: (t) => <Code>{t.rule.text}</Code> },
            { header: 'Field', cell: (t) => t.field },
            { header: 'Before → after', cell: (t) => `${t.before} → ${t.after}` },
            { header: 'Note', cell: (t) => t.note ?? '' },
          ]}
        />
      ) : null}
      <DataTable
        caption={`Rules the packet met${result.skippedRules > 0 ? ` (${result.skippedRules} skipped as not applicable)` : ''}`}
        rows={result.trace}
        rowKey={(s) => String(s.index)}
        empty="No rule applies to this packet's interface and direction."
        columns={[
          { header: 'Rule', cell: (s) => `${s.tab} #${s.position}` },
          { header: 'Description', cell: (s) => s.descr },
          { header: 'Action', cell: (s) => `${s.action}${s.quick ? ' quick' : ''}` },
          {
            header: 'Result',
            cell: (s) => (
              <Badge variant="light" color={s.result === 'match' ? 'green' : s.result === 'unknown' ? 'yellow' : 'gray'}>
                {s.result}
              </Badge>
            ),
          },
          { header: 'Why', cell: (s) => s.reason },
        ]}
      />
      {result.assumptions.length > 0 ? <Text size="sm">Assumed: {result.assumptions.join('; ')}</Text> : null}
      {result.warnings.map((w) => (
        <Alert key={`${w.code}-${w.element}`} color="yellow" title={w.code}>
          {w.message}
        </Alert>
      ))}
    </Stack>
  );
}
