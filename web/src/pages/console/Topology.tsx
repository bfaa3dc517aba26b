/**
 * Topology (`gateway.view`; changes `gateway.manage_topology`): a site's role map — exactly one brain (the L3
 * authority: pfSense or OPNsense), its limbs (RouterOS / OpenWrt L2 bridges) and the authority map saying who owns
 * each resource kind. "Check" shows every problem of the form's map without saving; "Save role map" stores it
 * (the server refuses a second brain or a gateway lacking the role's capability, naming the assignment).
 */
import { Alert, Button, Checkbox, Group, List, Loader, Select, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, must } from '../../api/client';
import { isProblem } from '../../api/problem';
import type { Topology, TopologyCheck } from '../../api/types';
import { Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { toProblem, useAction, useApiForm } from '../../lib/forms';
import { optionsOf, useGateways, useSites } from '../../lib/lookups';
import { can, useMe } from '../../lib/session';

const AUTHORITY_KEYS = ['vlan_interface', 'dhcp', 'dns', 'firewall_rule', 'nat', 'vpn', 'vlan_l2', 'port_profile', 'ssid', 'poe'] as const;
type AuthorityKey = (typeof AUTHORITY_KEYS)[number];
type Authority = 'brain' | 'portcullis' | 'limb';
const AUTHORITIES: Authority[] = ['brain', 'portcullis', 'limb'];
/** The spec's defaults (the server fills the same for keys not sent). */
const DEFAULTS: Record<AuthorityKey, Authority> = {
  vlan_interface: 'brain',
  dhcp: 'brain',
  dns: 'brain',
  firewall_rule: 'brain',
  nat: 'brain',
  vpn: 'brain',
  vlan_l2: 'portcullis',
  port_profile: 'limb',
  ssid: 'limb',
  poe: 'limb',
};

const topologyKey = (siteId: string) => ['topology', siteId];

/** The stored map, or null when the site has none (404). */
async function fetchTopology(siteId: string): Promise<Topology | null> {
  try {
    return await must(api.GET('/api/v1/firewall/topology/{site_id}', { params: { path: { site_id: siteId } } }));
  } catch (err) {
    if (isProblem(err) && err.status === 404) return null;
    throw err;
  }
}

export function TopologyPage() {
  const sites = useSites();
  const [siteId, setSiteId] = useState<string | null>(null);
  useEffect(() => {
    if (siteId === null && sites.data?.items[0]) setSiteId(sites.data.items[0].id);
  }, [siteId, sites.data]);
  return (
    <Page title="Topology">
      <Select label="Site" data={optionsOf(sites.data?.items, (s) => s.name)} value={siteId} onChange={setSiteId} w={320} allowDeselect={false} />
      {siteId ? <RoleMap key={siteId} siteId={siteId} /> : <Text size="sm">No site you can see.</Text>}
    </Page>
  );
}

function RoleMap({ siteId }: { siteId: string }) {
  const me = useMe();
  const client = useQueryClient();
  const gateways = useGateways();
  const topology = useQuery({ queryKey: topologyKey(siteId), queryFn: () => fetchTopology(siteId) });
  const [check, setCheck] = useState<TopologyCheck | null>(null);
  const mayChange = can(me.data, 'gateway.manage_topology', siteId);
  const atSite = (gateways.data?.items ?? []).filter((g) => g.site_id === siteId);
  const options = atSite.map((g) => ({ value: g.id, label: `${g.name} (${g.vendor})` }));

  const form = useForm({
    initialValues: { brain: null as string | null, limbs: [] as string[], authority_map: { ...DEFAULTS } },
  });
  const stored = topology.data;
  useEffect(() => {
    if (stored === undefined) return;
    form.setValues({
      brain: stored?.brain?.gateway_id ?? null,
      limbs: stored?.limbs.map((l) => l.gateway_id) ?? [],
      authority_map: { ...DEFAULTS, ...(stored?.authority_map ?? {}) },
    });
    // Only when the stored map changes (form is stable).
  }, [stored]);

  const body = (v: typeof form.values) => ({
    assignments: [
      ...(v.brain ? [{ gateway_id: v.brain, role: 'brain' }] : []),
      ...v.limbs.map((id) => ({ gateway_id: id, role: 'limb' })),
    ],
    authority_map: v.authority_map,
  });
  const save = useApiForm(
    form,
    (v) => must(api.PUT('/api/v1/firewall/topology/{site_id}', { params: { path: { site_id: siteId } }, body: body(v) })),
    { invalidate: [topologyKey(siteId)], onSuccess: () => setCheck(null) },
  );
  const validate = useAction(() =>
    must(api.POST('/api/v1/firewall/topology/{site_id}/validate', { params: { path: { site_id: siteId } }, body: body(form.getValues()) })),
    { onSuccess: (result) => setCheck(result) },
  );
  const remove = useAction(
    () => must(api.DELETE('/api/v1/firewall/topology/{site_id}', { params: { path: { site_id: siteId } } })),
    { onSuccess: () => void client.setQueryData(topologyKey(siteId), null) },
  );

  // The form is filled from the stored map when it arrives: editable only after that, or a late answer would
  // overwrite what was picked meanwhile.
  if (topology.error) return <ProblemAlert problem={toProblem(topology.error)} title="Could not load the role map" />;
  if (stored === undefined) return <Loader size="sm" role="status" aria-label="Loading" />;
  return (
    <Stack>
      {stored === null ? (
        <Alert color="gray" variant="light">
          <Text size="sm">This site has no role map yet: pick its brain and limbs below.</Text>
        </Alert>
      ) : stored ? (
        <Text size="sm">
          Brain: <strong>{stored.brain ? `${stored.brain.name} (${stored.brain.vendor})` : '—'}</strong>; limbs:{' '}
          {stored.limbs.length === 0 ? 'none' : stored.limbs.map((l) => `${l.name} (${l.vendor})`).join(', ')}
        </Text>
      ) : null}
      <form onSubmit={save.onSubmit} noValidate aria-label="Role map">
        <Stack>
          <Select
            label="Brain"
            description="The site's L3 authority (pfSense or OPNsense): VLAN interfaces, DHCP, DNS, rules, NAT, VPN"
            data={options}
            clearable
            disabled={!mayChange}
            {...form.getInputProps('brain')}
          />
          <Checkbox.Group label="Limbs" description="L2 devices with VLAN-aware bridges (MikroTik RouterOS, OpenWrt)" {...form.getInputProps('limbs')}>
            <Group mt="xs">
              {options.length === 0 ? <Text size="sm">No gateway at this site.</Text> : null}
              {options.map((o) => (
                <Checkbox key={o.value} value={o.value} label={o.label} disabled={!mayChange} />
              ))}
            </Group>
          </Checkbox.Group>
          <Title order={2} size="h4">
            Authority map
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2, md: 5 }}>
            {AUTHORITY_KEYS.map((k) => (
              <Select
                key={k}
                label={k}
                data={AUTHORITIES}
                allowDeselect={false}
                disabled={!mayChange}
                {...form.getInputProps(`authority_map.${k}`)}
              />
            ))}
          </SimpleGrid>
          <ProblemAlert problem={save.problem ?? validate.problem ?? remove.problem} />
          {check ? (
            check.valid ? (
              <Alert color="green" variant="light" role="status" title="Role map is valid">
                <Text size="sm">Exactly one brain; every gateway has its role's capabilities.</Text>
              </Alert>
            ) : (
              <Alert color="orange" variant="light" role="status" title="Problems">
                <List size="sm">
                  {check.problems.map((p) => (
                    <List.Item key={`${p.field}-${p.message}`}>{p.message}</List.Item>
                  ))}
                </List>
              </Alert>
            )
          ) : null}
          {mayChange ? (
            <Group>
              <Button variant="default" onClick={() => validate.mutate(undefined)} loading={validate.isPending}>
                Check
              </Button>
              <Button type="submit" loading={save.pending}>
                Save role map
              </Button>
              {stored ? (
                <Button color="red" variant="subtle" onClick={() => window.confirm('Remove the role map of this site?') && remove.mutate(undefined)}>
                  Remove role map
                </Button>
              ) : null}
            </Group>
          ) : null}
        </Stack>
      </form>
    </Stack>
  );
}
