/**
 * The firewall module's settings (`firewall.view`; changing them: `firewall.admin` org-wide). Names, ranges and
 * descriptions come from the server's own OpenAPI document (`/api/openapi.json`), so the form never drifts from
 * the API; the range is shown, not enforced here — a value outside it is the server's 400, under that field.
 */
import { Button, Group, NumberInput, Select, Stack, Switch } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { api, must } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import type { FirewallSettings } from '../../api/types';
import { Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useApiForm } from '../../lib/forms';
import { liveKeys } from '../../lib/live';
import { can, useMe } from '../../lib/session';

export type SettingSpec =
  | { name: string; kind: 'bool'; description: string }
  | { name: string; kind: 'int'; description: string; min: number | null; max: number | null }
  | { name: string; kind: 'enum'; description: string; values: string[] };

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  description?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
}

/** The settings' specs from an OpenAPI document: the 200 schema of `GET /api/v1/firewall/settings`. */
export function settingSpecsOf(document: unknown): SettingSpec[] {
  const schema = (document as { paths?: Record<string, { get?: { responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }> } }> } | null)
    ?.paths?.['/api/v1/firewall/settings']?.get?.responses?.['200']?.content?.['application/json']?.schema;
  return Object.entries(schema?.properties ?? {}).map(([name, s]): SettingSpec => {
    const description = s.description ?? '';
    if (s.type === 'boolean') return { name, kind: 'bool', description };
    if (s.type === 'integer' || s.type === 'number') return { name, kind: 'int', description, min: s.minimum ?? null, max: s.maximum ?? null };
    const values = (s.anyOf ?? [s]).flatMap((v) => (v.enum ?? []).map(String));
    return { name, kind: 'enum', description, values };
  });
}

const ACRONYMS: Record<string, string> = { ids: 'IDS', ttl: 'TTL' };

/** `log_retention_days` → `Log retention days`, `ids_mode` → `IDS mode`. */
export function labelOf(name: string): string {
  const words = name.split('_').map((w) => ACRONYMS[w] ?? w);
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function SettingsPage() {
  const me = useMe();
  const specs = useQuery({
    queryKey: ['openapi', 'settings'],
    staleTime: Infinity,
    queryFn: async () => {
      const response = await fetch('/api/openapi.json', { credentials: 'same-origin' });
      if (!response.ok) throw ApiProblem.from(response.status, null);
      return settingSpecsOf(await response.json());
    },
  });
  const settings = useQuery({ queryKey: [...liveKeys.firewall, 'settings'], queryFn: () => must(api.GET('/api/v1/firewall/settings')) });
  const both = { data: specs.data && settings.data ? { specs: specs.data, values: settings.data } : undefined, error: specs.error ?? settings.error, isPending: specs.isPending || settings.isPending };
  return (
    <Page title="Firewall settings">
      <Loaded query={both}>{(d) => <SettingsForm specs={d.specs} values={d.values} editable={can(me.data, 'firewall.admin')} />}</Loaded>
    </Page>
  );
}

function SettingsForm({ specs, values, editable }: { specs: SettingSpec[]; values: FirewallSettings; editable: boolean }) {
  const form = useForm<Record<string, unknown>>({ initialValues: { ...values } });
  const save = useApiForm(
    form,
    // Only what changed goes out, so one bad value names only itself.
    (v) => {
      const changed = Object.fromEntries(Object.entries(v).filter(([k, value]) => value !== (values as Record<string, unknown>)[k]));
      return must(api.PATCH('/api/v1/firewall/settings', { body: changed }));
    },
    { invalidate: [[...liveKeys.firewall, 'settings']], onSuccess: (saved) => form.resetDirty(saved) },
  );
  return (
    <form onSubmit={save.onSubmit} noValidate>
      <Stack gap="sm" maw={560}>
        {specs.map((s) => {
          const common = { label: labelOf(s.name), disabled: !editable };
          if (s.kind === 'bool') return <Switch key={s.name} {...common} description={s.description} {...form.getInputProps(s.name, { type: 'checkbox' })} />;
          if (s.kind === 'enum') return <Select key={s.name} {...common} description={s.description} data={s.values} allowDeselect={false} {...form.getInputProps(s.name)} />;
          const range = s.min !== null && s.max !== null ? ` — ${s.min} to ${s.max}` : '';
          return <NumberInput key={s.name} {...common} description={`${s.description}${range}`} allowDecimal={false} clampBehavior="none" {...form.getInputProps(s.name)} />;
        })}
        <ProblemAlert problem={save.problem} />
        {editable ? (
          <Group>
            <Button type="submit" loading={save.pending} disabled={!form.isDirty()}>
              Save settings
            </Button>
          </Group>
        ) : null}
      </Stack>
    </form>
  );
}
