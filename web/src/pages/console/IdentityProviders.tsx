/**
 * Identity providers (`users.manage`, docs/sso.md): OpenID Connect or SAML 2.0, each for the portal (its users
 * hold grants) or the console (its users manage). Add one with the URLs to register at the provider shown
 * afterwards, map its group claim values to groups, turn it on or off, delete it. The client secret is
 * write-only: the list says only whether one is set.
 */
import { Badge, Button, Code, Group, Modal, Select, Stack, Switch, Table, Text, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { IdentityProvider } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { optionsOf, useGroups } from '../../lib/lookups';

const key = ['identity-providers'];

export function IdentityProvidersPage() {
  const providers = useQuery({ queryKey: key, queryFn: () => must(api.GET('/api/v1/identity-providers')) });
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<IdentityProvider | null>(null);
  const toggle = useAction(
    (p: IdentityProvider) => must(api.PATCH('/api/v1/identity-providers/{id}', { params: { path: { id: p.id } }, body: { enabled: !p.enabled } })),
    { invalidate: [key] },
  );
  const remove = useAction(
    (p: IdentityProvider) => must(api.DELETE('/api/v1/identity-providers/{id}', { params: { path: { id: p.id } } })),
    { invalidate: [key] },
  );
  return (
    <Page title="Identity providers" actions={<Button onClick={() => setCreating(true)}>New identity provider</Button>}>
      <ProblemAlert problem={toggle.problem ?? remove.problem} />
      <Loaded query={providers}>
        {(data) => (
          <DataTable<IdentityProvider>
            caption="Single sign-on: portal providers' users get access, console providers' users manage"
            rows={data.items}
            rowKey={(p) => p.id}
            empty="No identity providers yet: people sign in with a password."
            columns={[
              { header: 'Name', cell: (p) => p.name },
              { header: 'Kind', cell: (p) => (p.kind === 'oidc' ? 'OpenID Connect' : 'SAML 2.0') },
              { header: 'For', cell: (p) => p.audience },
              { header: 'Provider', cell: (p) => <code>{p.issuer ?? p.saml_entry_point}</code> },
              { header: 'Groups mapped', cell: (p) => Object.keys(p.group_map).length },
              { header: 'State', cell: (p) => (p.enabled ? <Badge color="green" variant="light">on</Badge> : <Badge color="gray" variant="light">off</Badge>) },
              {
                header: 'Actions',
                cell: (p) => (
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="light" aria-label={`Settings of ${p.name}`} onClick={() => setShown(p)}>
                      Settings
                    </Button>
                    <Button size="xs" variant="default" aria-label={`${p.enabled ? 'Turn off' : 'Turn on'} ${p.name}`} onClick={() => toggle.mutate(p)}>
                      {p.enabled ? 'Turn off' : 'Turn on'}
                    </Button>
                    <Button size="xs" color="red" variant="subtle" aria-label={`Delete ${p.name}`} onClick={() => window.confirm(`Delete identity provider ${p.name}?`) && remove.mutate(p)}>
                      Delete
                    </Button>
                  </Group>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New identity provider" size="lg">
        <NewProvider
          onDone={(p) => {
            setCreating(false);
            setShown(p);
          }}
        />
      </Modal>
      <Modal opened={shown !== null} onClose={() => setShown(null)} title={shown ? `${shown.name}: register these at the provider` : ''} size="xl">
        {shown ? <Endpoints provider={shown} /> : null}
      </Modal>
    </Page>
  );
}

function Endpoints({ provider }: { provider: IdentityProvider }) {
  return (
    <Stack>
      <Table>
        <Table.Tbody>
          {Object.entries(provider.endpoints).map(([name, value]) => (
            <Table.Tr key={name}>
              <Table.Th>{name.replace(/_/g, ' ')}</Table.Th>
              <Table.Td>
                <Code>{value}</Code>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="sm">
        Group claim <Code>{provider.group_claim}</Code>; lifetime claim <Code>{provider.lifetime_claim ?? 'none'}</Code>;
        new users {provider.provision ? 'are created on first sign-in' : 'must exist already'}.
      </Text>
    </Stack>
  );
}

/** `value=group` lines → the API's group map, naming groups by name. */
function parseMap(text: string, groups: { value: string; label: string }[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [claim, name] = line.split('=').map((part) => part.trim());
    if (!claim || !name) continue;
    map[claim] = groups.find((g) => g.label === name)?.value ?? name;
  }
  return map;
}

function NewProvider({ onDone }: { onDone: (p: IdentityProvider) => void }) {
  const groups = optionsOf(useGroups().data?.items, (g) => g.name);
  const form = useForm({
    initialValues: {
      name: '',
      kind: 'oidc' as 'oidc' | 'saml',
      audience: 'portal' as 'portal' | 'console',
      issuer: 'https://',
      client_id: '',
      client_secret: '',
      scopes: 'openid profile email',
      saml_entry_point: 'https://',
      saml_idp_entity_id: '',
      saml_idp_cert: '',
      group_claim: 'groups',
      group_map: '',
      lifetime_claim: '',
      provision: true,
    },
  });
  const create = useApiForm(
    form,
    (v) => {
      const common = {
        name: v.name.trim(),
        audience: v.audience,
        group_claim: v.group_claim.trim(),
        group_map: parseMap(v.group_map, groups),
        lifetime_claim: v.lifetime_claim.trim() || null,
        provision: v.provision,
      };
      const body =
        v.kind === 'oidc'
          ? {
              ...common,
              kind: 'oidc' as const,
              issuer: v.issuer.trim(),
              client_id: v.client_id.trim(),
              ...(v.client_secret ? { client_secret: v.client_secret } : {}),
              scopes: v.scopes.split(/\s+/).filter(Boolean),
            }
          : {
              ...common,
              kind: 'saml' as const,
              saml_entry_point: v.saml_entry_point.trim(),
              ...(v.saml_idp_entity_id.trim() ? { saml_idp_entity_id: v.saml_idp_entity_id.trim() } : {}),
              saml_idp_certs: [v.saml_idp_cert.trim()],
            };
      return must(api.POST('/api/v1/identity-providers', { body }));
    },
    { invalidate: [key], onSuccess: onDone },
  );
  const oidc = form.values.kind === 'oidc';
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <TextInput label="Name" required description="Shown on the sign-in button" {...form.getInputProps('name')} />
        <Group grow>
          <Select label="Kind" data={[{ value: 'oidc', label: 'OpenID Connect' }, { value: 'saml', label: 'SAML 2.0' }]} allowDeselect={false} {...form.getInputProps('kind')} />
          <Select
            label="For"
            data={[{ value: 'portal', label: 'Portal (its users get access)' }, { value: 'console', label: 'Console (its users manage)' }]}
            allowDeselect={false}
            {...form.getInputProps('audience')}
          />
        </Group>
        {oidc ? (
          <>
            <TextInput label="Issuer" required description="Discovery is read from <issuer>/.well-known/openid-configuration" {...form.getInputProps('issuer')} />
            <TextInput label="Client ID" required {...form.getInputProps('client_id')} />
            <TextInput label="Client secret" type="password" description="Leave empty for a public client (PKCE only)" autoComplete="off" {...form.getInputProps('client_secret')} />
            <TextInput label="Scopes" {...form.getInputProps('scopes')} />
          </>
        ) : (
          <>
            <TextInput label="Sign-on URL" required {...form.getInputProps('saml_entry_point')} />
            <TextInput label="IdP entity ID" {...form.getInputProps('saml_idp_entity_id')} />
            <Textarea label="IdP signing certificate" required description="PEM" autosize minRows={3} {...form.getInputProps('saml_idp_cert')} />
          </>
        )}
        <TextInput label="Group claim" description={oidc ? 'Claim listing the groups' : 'Attribute listing the groups'} {...form.getInputProps('group_claim')} />
        <Textarea
          label="Group mapping"
          description={`One "claim value = group name" per line${groups.length > 0 ? ` (groups: ${groups.map((g) => g.label).join(', ')})` : ''}`}
          autosize
          minRows={2}
          {...form.getInputProps('group_map')}
        />
        <TextInput label="Grant lifetime claim" description="Seconds; empty: the knoc's default" {...form.getInputProps('lifetime_claim')} />
        <Switch label="Create users on first sign-in" {...form.getInputProps('provision', { type: 'checkbox' })} />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            Add identity provider
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
