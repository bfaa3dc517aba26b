/**
 * VLANs (`gateway.view`): a site's canonical state — VLANs (created, edited and deleted; their DHCP scopes and
 * reservations in a drawer), DNS host overrides (created, edited, deleted) — and the org's VLAN templates, applied
 * to the site with one click. Every refusal the server names a field of (VLAN id taken, overlapping subnet, scope
 * outside the subnet, duplicate MAC …) shows under that input. Controls the person's permissions on the site
 * (`gateway.manage_vlans|dhcp|dns`) do not allow are not shown.
 */
import { Button, Drawer, Group, Modal, NumberInput, Select, Stack, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, must } from '../../api/client';
import type { CanonicalVlan, DhcpReservation, DhcpScope, DnsRecord, VlanTemplate } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { optionsOf, useSites } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';

const vlansKey = (siteId: string) => ['vlans', siteId];
const dnsKey = (siteId: string) => ['dns-records', siteId];
const templatesKey = ['vlan-templates'];
const blankToNull = (text: string) => (text.trim() === '' ? null : text.trim());

export function VlansPage() {
  const sites = useSites();
  const [siteId, setSiteId] = useState<string | null>(null);
  useEffect(() => {
    if (siteId === null && sites.data?.items[0]) setSiteId(sites.data.items[0].id);
  }, [siteId, sites.data]);
  return (
    <Page title="VLANs">
      <Select label="Site" data={optionsOf(sites.data?.items, (s) => s.name)} value={siteId} onChange={setSiteId} w={320} allowDeselect={false} />
      {siteId ? (
        <Tabs defaultValue="vlans" keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="vlans">VLANs</Tabs.Tab>
            <Tabs.Tab value="dns">DNS records</Tabs.Tab>
            <Tabs.Tab value="templates">Templates</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="vlans" pt="md">
            <SiteVlans key={siteId} siteId={siteId} />
          </Tabs.Panel>
          <Tabs.Panel value="dns" pt="md">
            <DnsRecords key={siteId} siteId={siteId} />
          </Tabs.Panel>
          <Tabs.Panel value="templates" pt="md">
            <Templates siteId={siteId} />
          </Tabs.Panel>
        </Tabs>
      ) : (
        <Text size="sm">No site you can see.</Text>
      )}
    </Page>
  );
}

function SiteVlans({ siteId }: { siteId: string }) {
  const me = useMe();
  const mayChange = can(me.data, 'gateway.manage_vlans', siteId);
  const vlans = useQuery({
    queryKey: vlansKey(siteId),
    queryFn: () => must(api.GET('/api/v1/firewall/vlans', { params: { query: { site_id: siteId, limit: 500 } } })),
  });
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<CanonicalVlan | null>(null);
  const [editing, setEditing] = useState<CanonicalVlan | null>(null);
  const remove = useAction((v: CanonicalVlan) => must(api.DELETE('/api/v1/firewall/vlans/{id}', { params: { path: { id: v.id } } })), { invalidate: [vlansKey(siteId)] });
  return (
    <Stack>
      {mayChange ? (
        <Group>
          <Button onClick={() => setCreating(true)}>New VLAN</Button>
        </Group>
      ) : null}
      <ProblemAlert problem={remove.problem} />
      <Loaded query={vlans}>
        {(data) => (
          <DataTable<CanonicalVlan>
            caption="Canonical VLANs of the site"
            rows={data.items}
            rowKey={(v) => v.id}
            empty="No VLANs at this site yet."
            columns={[
              { header: 'VLAN', cell: (v) => v.vlan_id },
              { header: 'Name', cell: (v) => v.name },
              { header: 'IPv4 subnet', cell: (v) => (v.ipv4_subnet ? <code>{v.ipv4_subnet}</code> : '—') },
              { header: 'IPv6 subnet', cell: (v) => (v.ipv6_subnet ? <code>{v.ipv6_subnet}</code> : '—') },
              {
                header: 'Actions',
                cell: (v) => (
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="light" aria-label={`DHCP of VLAN ${v.name}`} onClick={() => setOpen(v)}>
                      DHCP
                    </Button>
                    {mayChange ? (
                      <Button size="xs" variant="subtle" aria-label={`Edit VLAN ${v.name}`} onClick={() => setEditing(v)}>
                        Edit
                      </Button>
                    ) : null}
                    {mayChange ? (
                      <Button size="xs" color="red" variant="subtle" aria-label={`Delete VLAN ${v.name}`} onClick={() => window.confirm(`Delete VLAN ${v.name} with its DHCP scopes?`) && remove.mutate(v)}>
                        Delete
                      </Button>
                    ) : null}
                  </Group>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New VLAN">
        <VlanForm siteId={siteId} onDone={() => setCreating(false)} />
      </Modal>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={`Edit VLAN ${editing?.name ?? ''}`}>
        {editing ? <VlanForm siteId={siteId} vlan={editing} onDone={() => setEditing(null)} /> : null}
      </Modal>
      <Drawer opened={open !== null} onClose={() => setOpen(null)} title={`DHCP of VLAN ${open?.name ?? ''}`} position="right" size="xl">
        {open ? <VlanDhcp vlan={open} mayChange={can(me.data, 'gateway.manage_dhcp', siteId)} /> : null}
      </Drawer>
    </Stack>
  );
}

/** A new VLAN, or (given `vlan`) the changed fields of one: only what the form changed is sent. */
function VlanForm({ siteId, vlan, onDone }: { siteId: string; vlan?: CanonicalVlan; onDone: () => void }) {
  const form = useForm({
    initialValues: {
      vlan_id: (vlan?.vlan_id ?? 10) as number | string,
      name: vlan?.name ?? '',
      ipv4_subnet: vlan?.ipv4_subnet ?? '',
      ipv6_subnet: vlan?.ipv6_subnet ?? '',
      description: vlan?.description ?? '',
    },
  });
  const create = useApiForm(
    form,
    (v) => {
      const fields = {
        vlan_id: Number(v.vlan_id),
        name: v.name.trim(),
        description: v.description,
        ipv4_subnet: blankToNull(v.ipv4_subnet),
        ipv6_subnet: blankToNull(v.ipv6_subnet),
      };
      if (!vlan) return must(api.POST('/api/v1/firewall/vlans', { body: { site_id: siteId, ...fields } }));
      const changed = Object.fromEntries(Object.entries(fields).filter(([k, value]) => value !== vlan[k as keyof typeof fields]));
      // Nothing changed: nothing to send (the API refuses an empty change).
      if (Object.keys(changed).length === 0) return Promise.resolve(vlan);
      return must(api.PATCH('/api/v1/firewall/vlans/{id}', { params: { path: { id: vlan.id } }, body: changed }));
    },
    { invalidate: [vlansKey(siteId), ['vlan', vlan?.id ?? '']], onSuccess: onDone },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <NumberInput label="VLAN ID" description="1-4094, unique in the site" required {...form.getInputProps('vlan_id')} />
        <TextInput label="Name" required {...form.getInputProps('name')} />
        <TextInput label="IPv4 subnet" placeholder="10.20.0.0/24" {...form.getInputProps('ipv4_subnet')} />
        <TextInput label="IPv6 subnet" placeholder="2001:db8:20::/64" {...form.getInputProps('ipv6_subnet')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            {vlan ? 'Save VLAN' : 'Create VLAN'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function VlanDhcp({ vlan, mayChange }: { vlan: CanonicalVlan; mayChange: boolean }) {
  const key = ['vlan', vlan.id];
  const detail = useQuery({ queryKey: key, queryFn: () => must(api.GET('/api/v1/firewall/vlans/{id}', { params: { path: { id: vlan.id } } })) });
  const scopeForm = useForm({ initialValues: { range_start: '', range_end: '' } });
  const addScope = useApiForm(
    scopeForm,
    (v) => must(api.POST('/api/v1/firewall/dhcp/scopes', { body: { canonical_vlan_id: vlan.id, range_start: v.range_start.trim(), range_end: v.range_end.trim() } })),
    { invalidate: [key], onSuccess: () => scopeForm.reset() },
  );
  const removeReservation = useAction((r: DhcpReservation) => must(api.DELETE('/api/v1/firewall/dhcp/reservations/{id}', { params: { path: { id: r.id } } })), { invalidate: [key] });
  const removeScope = useAction((scope: DhcpScope) => must(api.DELETE('/api/v1/firewall/dhcp/scopes/{id}', { params: { path: { id: scope.id } } })), { invalidate: [key] });
  return (
    <Loaded query={detail}>
      {(data) => (
        <Stack>
          <Text size="sm">
            VLAN {data.vlan_id}: {data.ipv4_subnet ?? 'no IPv4 subnet'}, {data.ipv6_subnet ?? 'no IPv6 subnet'}
          </Text>
          {data.dhcp_scopes.length === 0 ? <Text size="sm">No DHCP scope yet.</Text> : null}
          {data.dhcp_scopes.map((scope) => (
            <Stack key={scope.id} gap="xs">
              <Group justify="space-between">
                <Title order={3} size="h5">
                  IPv{scope.ip_version} scope {scope.range_start} – {scope.range_end}
                </Title>
                {mayChange ? (
                  <Button
                    size="xs"
                    color="red"
                    variant="subtle"
                    aria-label={`Delete scope IPv${scope.ip_version}`}
                    onClick={() => window.confirm(`Delete the IPv${scope.ip_version} scope with its ${scope.reservations.length} reservations?`) && removeScope.mutate(scope)}
                  >
                    Delete scope
                  </Button>
                ) : null}
              </Group>
              <DataTable<DhcpReservation>
                caption={`Reservations of the IPv${scope.ip_version} scope`}
                rows={scope.reservations}
                rowKey={(r) => r.id}
                empty="No reservations."
                columns={[
                  { header: 'MAC', cell: (r) => <code>{r.mac}</code> },
                  { header: 'Address', cell: (r) => <code>{r.ip_address}</code> },
                  { header: 'Hostname', cell: (r) => r.hostname ?? '—' },
                  {
                    header: 'Actions',
                    cell: (r) =>
                      mayChange ? (
                        <Button size="xs" color="red" variant="subtle" aria-label={`Delete reservation ${r.mac}`} onClick={() => removeReservation.mutate(r)}>
                          Delete
                        </Button>
                      ) : null,
                  },
                ]}
              />
              {mayChange ? <NewReservation scopeId={scope.id} scopeLabel={`IPv${scope.ip_version}`} invalidate={key} /> : null}
            </Stack>
          ))}
          <ProblemAlert problem={removeReservation.problem ?? removeScope.problem} />
          {mayChange ? (
            <form onSubmit={addScope.onSubmit} noValidate aria-label="New DHCP scope">
              <Stack gap="xs">
                <Title order={3} size="h5">
                  New DHCP scope
                </Title>
                <Group align="flex-end">
                  <TextInput label="Range start" {...scopeForm.getInputProps('range_start')} />
                  <TextInput label="Range end" {...scopeForm.getInputProps('range_end')} />
                  <Button type="submit" loading={addScope.pending}>
                    Add scope
                  </Button>
                </Group>
                <ProblemAlert problem={addScope.problem} />
              </Stack>
            </form>
          ) : null}
        </Stack>
      )}
    </Loaded>
  );
}

function NewReservation({ scopeId, scopeLabel, invalidate }: { scopeId: string; scopeLabel: string; invalidate: string[] }) {
  const form = useForm({ initialValues: { mac: '', ip_address: '', hostname: '' } });
  const create = useApiForm(
    form,
    (v) => must(api.POST('/api/v1/firewall/dhcp/reservations', { body: { scope_id: scopeId, mac: v.mac.trim(), ip_address: v.ip_address.trim(), hostname: blankToNull(v.hostname) } })),
    { invalidate: [invalidate], onSuccess: () => form.reset() },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate aria-label={`New ${scopeLabel} reservation`}>
      <Group align="flex-end">
        <TextInput label="MAC" {...form.getInputProps('mac')} />
        <TextInput label="Address" {...form.getInputProps('ip_address')} />
        <TextInput label="Hostname" {...form.getInputProps('hostname')} />
        <Button type="submit" loading={create.pending}>
          Reserve
        </Button>
      </Group>
      <ProblemAlert problem={create.problem} />
    </form>
  );
}

function DnsRecords({ siteId }: { siteId: string }) {
  const me = useMe();
  const mayChange = can(me.data, 'gateway.manage_dns', siteId);
  const records = useQuery({
    queryKey: dnsKey(siteId),
    queryFn: () => must(api.GET('/api/v1/firewall/dns/records', { params: { query: { site_id: siteId, limit: 500 } } })),
  });
  const form = useForm({ initialValues: { host: '', domain: 'home.arpa', ip_address: '' } });
  const create = useApiForm(
    form,
    (v) => must(api.POST('/api/v1/firewall/dns/records', { body: { site_id: siteId, host: v.host.trim(), domain: v.domain.trim(), ip_address: v.ip_address.trim() } })),
    { invalidate: [dnsKey(siteId)], onSuccess: () => form.setValues({ host: '', ip_address: '' }) },
  );
  const remove = useAction((r: DnsRecord) => must(api.DELETE('/api/v1/firewall/dns/records/{id}', { params: { path: { id: r.id } } })), { invalidate: [dnsKey(siteId)] });
  const [editing, setEditing] = useState<DnsRecord | null>(null);
  return (
    <Stack>
      <Loaded query={records}>
        {(data) => (
          <DataTable<DnsRecord>
            caption="DNS host overrides of the site"
            rows={data.items}
            rowKey={(r) => r.id}
            empty="No DNS records at this site yet."
            columns={[
              { header: 'Name', cell: (r) => `${r.host}.${r.domain}` },
              { header: 'Type', cell: (r) => r.record_type },
              { header: 'Address', cell: (r) => <code>{r.ip_address}</code> },
              {
                header: 'Actions',
                cell: (r) =>
                  mayChange ? (
                    <Group gap="xs" wrap="nowrap">
                      <Button size="xs" variant="subtle" aria-label={`Edit DNS record ${r.host}.${r.domain}`} onClick={() => setEditing(r)}>
                        Edit
                      </Button>
                      <Button size="xs" color="red" variant="subtle" aria-label={`Delete DNS record ${r.host}.${r.domain}`} onClick={() => remove.mutate(r)}>
                        Delete
                      </Button>
                    </Group>
                  ) : null,
              },
            ]}
          />
        )}
      </Loaded>
      <ProblemAlert problem={remove.problem} />
      {mayChange ? (
        <form onSubmit={create.onSubmit} noValidate aria-label="New DNS record">
          <Group align="flex-end">
            <TextInput label="Host" {...form.getInputProps('host')} />
            <TextInput label="Domain" {...form.getInputProps('domain')} />
            <TextInput label="Address" {...form.getInputProps('ip_address')} />
            <Button type="submit" loading={create.pending}>
              Add record
            </Button>
          </Group>
          <ProblemAlert problem={create.problem} />
        </form>
      ) : null}
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={`Edit DNS record ${editing ? `${editing.host}.${editing.domain}` : ''}`}>
        {editing ? <EditDnsRecord record={editing} onDone={() => setEditing(null)} /> : null}
      </Modal>
    </Stack>
  );
}

function EditDnsRecord({ record, onDone }: { record: DnsRecord; onDone: () => void }) {
  const form = useForm({ initialValues: { host: record.host, domain: record.domain, ip_address: record.ip_address, description: record.description } });
  const save = useApiForm(
    form,
    (v) => {
      const fields = { host: v.host.trim(), domain: v.domain.trim(), ip_address: v.ip_address.trim(), description: v.description };
      const changed = Object.fromEntries(Object.entries(fields).filter(([k, value]) => value !== record[k as keyof typeof fields]));
      if (Object.keys(changed).length === 0) return Promise.resolve(record);
      return must(api.PATCH('/api/v1/firewall/dns/records/{id}', { params: { path: { id: record.id } }, body: changed }));
    },
    { invalidate: [dnsKey(record.site_id)], onSuccess: onDone },
  );
  return (
    <form onSubmit={save.onSubmit} noValidate>
      <Stack>
        <TextInput label="Host" {...form.getInputProps('host')} />
        <TextInput label="Domain" {...form.getInputProps('domain')} />
        <TextInput label="Address" {...form.getInputProps('ip_address')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <ProblemAlert problem={save.problem} />
        <Group>
          <Button type="submit" loading={save.pending}>
            Save record
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function Templates({ siteId }: { siteId: string }) {
  const me = useMe();
  const templates = useQuery({ queryKey: templatesKey, queryFn: () => must(api.GET('/api/v1/firewall/templates', { params: { query: { limit: 500 } } })) });
  const form = useForm({ initialValues: { name: '', vlan_id: 30 as number | string, vlan_name: '', ipv4_subnet: '' } });
  const create = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/firewall/templates', {
          body: { name: v.name.trim(), vlan_id: Number(v.vlan_id), vlan_name: v.vlan_name.trim(), ipv4_subnet: blankToNull(v.ipv4_subnet) },
        }),
      ),
    { invalidate: [templatesKey], onSuccess: () => form.reset() },
  );
  const apply = useAction(
    (t: VlanTemplate) => must(api.POST('/api/v1/firewall/templates/{id}/apply/{site_id}', { params: { path: { id: t.id, site_id: siteId } }, body: {} })),
    { invalidate: [vlansKey(siteId)] },
  );
  const remove = useAction((t: VlanTemplate) => must(api.DELETE('/api/v1/firewall/templates/{id}', { params: { path: { id: t.id } } })), { invalidate: [templatesKey] });
  const mayApply = can(me.data, 'gateway.manage_vlans', siteId);
  // Templates are org-wide: changing them needs the permission on every site (the route's `scope: 'org'`).
  const mayEdit = me.data?.permissions['gateway.manage_vlans'] === 'all';
  return (
    <Stack>
      <ProblemAlert problem={apply.problem ?? remove.problem} />
      {apply.isSuccess ? (
        <Text size="sm" role="status">
          VLAN {apply.data.vlan_id} ({apply.data.name}) created at this site.
        </Text>
      ) : null}
      <Loaded query={templates}>
        {(data) => (
          <DataTable<VlanTemplate>
            caption="VLAN templates of the organisation"
            rows={data.items}
            rowKey={(t) => t.id}
            empty="No templates yet."
            columns={[
              { header: 'Template', cell: (t) => t.name },
              { header: 'VLAN', cell: (t) => `${t.vlan_id} ${t.vlan_name}` },
              { header: 'IPv4 subnet', cell: (t) => t.ipv4_subnet ?? '—' },
              {
                header: 'Actions',
                cell: (t) => (
                  <Group gap="xs" wrap="nowrap">
                    {mayApply ? (
                      <Button size="xs" variant="light" aria-label={`Apply to site: template ${t.name}`} onClick={() => apply.mutate(t)}>
                        Apply to site
                      </Button>
                    ) : null}
                    {mayEdit ? (
                      <Button size="xs" color="red" variant="subtle" aria-label={`Delete template ${t.name}`} onClick={() => remove.mutate(t)}>
                        Delete
                      </Button>
                    ) : null}
                  </Group>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      {mayEdit ? (
        <form onSubmit={create.onSubmit} noValidate aria-label="New template">
          <Group align="flex-end">
            <TextInput label="Template name" {...form.getInputProps('name')} />
            <NumberInput label="Template VLAN ID" {...form.getInputProps('vlan_id')} />
            <TextInput label="VLAN name" {...form.getInputProps('vlan_name')} />
            <TextInput label="Template IPv4 subnet" {...form.getInputProps('ipv4_subnet')} />
            <Button type="submit" loading={create.pending}>
              Add template
            </Button>
          </Group>
          <ProblemAlert problem={create.problem} />
        </form>
      ) : null}
    </Stack>
  );
}
