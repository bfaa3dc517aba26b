/**
 * Outbound webhooks (`firewall.admin`): create one (its signing secret is shown once, then only its use is
 * visible), turn it on or off, delete it, and read its delivery log. Event types are the stream's catalog.
 */
import { Badge, Button, Drawer, Group, Modal, MultiSelect, Select, Stack, Switch, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { CreatedWebhook, EventType, Webhook, WebhookDelivery } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { SecretOnce } from '../../components/Secrets';
import { useAction, useApiForm } from '../../lib/forms';
import { EVENT_TYPES } from '../../lib/live';
import { nameOf, optionsOf, useSites } from '../../lib/lookups';
import { formatTime } from '../../lib/time';

const key = ['webhooks'];

export function WebhooksPage() {
  const hooks = useQuery({ queryKey: key, queryFn: () => must(api.GET('/api/v1/webhooks', { params: { query: { limit: 500 } } })) });
  const sites = useSites();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const [open, setOpen] = useState<Webhook | null>(null);
  const toggle = useAction((w: Webhook) => must(api.PATCH('/api/v1/webhooks/{id}', { params: { path: { id: w.id } }, body: { enabled: !w.enabled } })), { invalidate: [key] });
  const remove = useAction((w: Webhook) => must(api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id: w.id } } })), { invalidate: [key] });
  return (
    <Page title="Webhooks" actions={<Button onClick={() => setCreating(true)}>New webhook</Button>}>
      {created ? <SecretOnce title={`Signing secret of ${created.name}`} values={[{ label: 'Signing secret', value: created.secret }]} /> : null}
      <ProblemAlert problem={toggle.problem ?? remove.problem} />
      <Loaded query={hooks}>
        {(data) => (
          <DataTable<Webhook>
            caption="Webhooks: events sent to a URL, signed with the webhook's secret"
            rows={data.items}
            rowKey={(w) => w.id}
            empty="No webhooks yet."
            columns={[
              { header: 'Name', cell: (w) => w.name },
              { header: 'URL', cell: (w) => <code>{w.url}</code> },
              { header: 'Events', cell: (w) => (w.event_types.length === 0 ? 'all' : w.event_types.join(', ')) },
              { header: 'Sites', cell: (w) => (w.site_ids === null ? 'all' : w.site_ids.map((id) => nameOf(sites.data?.items, id, (s) => s.name)).join(', ')) },
              {
                header: 'State',
                cell: (w) =>
                  w.enabled ? (
                    <Badge color="green" variant="light">on</Badge>
                  ) : (
                    <Badge color="gray" variant="light" title={w.disabled_reason ?? undefined}>
                      off{w.disabled_reason ? ` · ${w.disabled_reason}` : ''}
                    </Badge>
                  ),
              },
              {
                header: 'Actions',
                cell: (w) => (
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="light" aria-label={`Deliveries of webhook ${w.name}`} onClick={() => setOpen(w)}>
                      Deliveries
                    </Button>
                    <Button size="xs" variant="default" aria-label={`${w.enabled ? 'Turn off' : 'Turn on'} webhook ${w.name}`} onClick={() => toggle.mutate(w)}>
                      {w.enabled ? 'Turn off' : 'Turn on'}
                    </Button>
                    <Button size="xs" color="red" variant="subtle" aria-label={`Delete webhook ${w.name}`} onClick={() => window.confirm(`Delete webhook ${w.name}?`) && remove.mutate(w)}>
                      Delete
                    </Button>
                  </Group>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New webhook" size="lg">
        <NewWebhook
          sites={optionsOf(sites.data?.items, (s) => s.name)}
          onDone={(w) => {
            setCreated(w);
            setCreating(false);
          }}
        />
      </Modal>
      <Drawer opened={open !== null} onClose={() => setOpen(null)} title={`Deliveries of ${open?.name ?? ''}`} position="right" size="xl">
        {open ? <Deliveries webhook={open} /> : null}
      </Drawer>
    </Page>
  );
}

function NewWebhook({ sites, onDone }: { sites: { value: string; label: string }[]; onDone: (w: CreatedWebhook) => void }) {
  const form = useForm({ initialValues: { name: '', url: 'https://', event_types: [] as string[], site_ids: [] as string[], enabled: true } });
  const create = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/webhooks', {
          body: {
            name: v.name.trim(),
            url: v.url.trim(),
            event_types: v.event_types as EventType[],
            // No sites picked: the whole org.
            site_ids: v.site_ids.length > 0 ? v.site_ids : null,
            enabled: v.enabled,
          },
        }),
      ),
    { invalidate: [key], onSuccess: onDone },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <TextInput label="URL" required description="Where events are POSTed (https)" {...form.getInputProps('url')} />
        <MultiSelect label="Event types" description="None picked: every type you may read" data={[...EVENT_TYPES]} searchable {...form.getInputProps('event_types')} />
        <MultiSelect label="Sites" description="None picked: the whole organisation" data={sites} searchable {...form.getInputProps('site_ids')} />
        <Switch label="Enabled" {...form.getInputProps('enabled', { type: 'checkbox' })} />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            Create webhook
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const STATUS_COLOR: Record<WebhookDelivery['status'], string> = { pending: 'yellow', succeeded: 'green', failed: 'red' };

function Deliveries({ webhook }: { webhook: Webhook }) {
  const [status, setStatus] = useState<WebhookDelivery['status'] | null>(null);
  const deliveries = useQuery({
    queryKey: [...key, webhook.id, 'deliveries', status],
    refetchInterval: 10_000,
    queryFn: () => must(api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: webhook.id }, query: { limit: 100, ...(status ? { status } : {}) } } })),
  });
  return (
    <Stack>
      <Select label="Status" placeholder="All" clearable data={['pending', 'succeeded', 'failed']} value={status} onChange={(v) => setStatus(v)} w={200} />
      <Loaded query={deliveries}>
        {(data) => (
          <DataTable<WebhookDelivery>
            caption="The newest deliveries first"
            rows={data.items}
            rowKey={(d) => String(d.id)}
            empty="No deliveries yet."
            columns={[
              { header: 'Event', cell: (d) => <code>{d.event_type}</code> },
              { header: 'Status', cell: (d) => <Badge color={STATUS_COLOR[d.status]} variant="light">{d.status}</Badge> },
              { header: 'Attempts', cell: (d) => d.attempts },
              { header: 'Answer', cell: (d) => d.response_status ?? d.error ?? '—' },
              { header: 'Took', cell: (d) => (d.duration_ms === null ? '—' : `${d.duration_ms} ms`) },
              { header: 'Last attempt', cell: (d) => (d.last_attempt_at ? formatTime(d.last_attempt_at) : '—') },
            ]}
          />
        )}
      </Loaded>
    </Stack>
  );
}
