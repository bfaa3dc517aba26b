/** Your API tokens: create (the token is shown once, with copy), list, revoke. */
import { Badge, Button, Group, MultiSelect, Stack, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, must } from '../../api/client';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { SecretOnce } from '../../components/Secrets';
import { useAction, useApiForm } from '../../lib/forms';
import { keys } from '../../lib/lookups';
import { formatTime } from '../../lib/time';

export function TokensPage() {
  return (
    <Page title="API tokens">
      <TokensPanel />
    </Page>
  );
}

export function TokensPanel() {
  const tokens = useQuery({
    queryKey: keys.tokens,
    queryFn: () => must(api.GET('/api/v1/auth/tokens', { params: { query: { include_revoked: true } } })),
  });
  const catalog = useQuery({ queryKey: keys.permissions, queryFn: () => must(api.GET('/api/v1/permissions')) });
  const [created, setCreated] = useState<string | null>(null);
  const form = useForm({
    initialValues: { name: '', expires_at: '', permissions: [] as string[] },
    validate: { name: (v) => (v.trim() ? null : 'Name the token (what uses it)') },
  });
  const create = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/auth/tokens', {
          body: {
            name: v.name.trim(),
            ...(v.expires_at ? { expires_at: new Date(`${v.expires_at}T23:59:59Z`).toISOString() } : {}),
            ...(v.permissions.length > 0 ? { permissions: v.permissions } : {}),
          },
        }),
      ),
    {
      invalidate: [keys.tokens],
      onSuccess: (r) => {
        setCreated(r.token);
        form.reset();
      },
    },
  );
  const revoke = useAction((id: string) => must(api.DELETE('/api/v1/auth/tokens/{id}', { params: { path: { id } } })), {
    invalidate: [keys.tokens],
  });
  return (
    <Stack>
      <Title order={2} size="h3">
        Your API tokens
      </Title>
      {created ? <SecretOnce title="New API token" values={[{ label: 'API token', value: created }]} /> : null}
      <form onSubmit={create.onSubmit} noValidate aria-label="Create an API token">
        <Group align="start" wrap="wrap">
          <TextInput label="Token name" required {...form.getInputProps('name')} />
          <TextInput label="Expires on (optional)" type="date" {...form.getInputProps('expires_at')} />
          <MultiSelect
            label="Limit to permissions (optional)"
            data={(catalog.data?.items ?? []).map((p) => p.code)}
            searchable
            clearable
            w={320}
            {...form.getInputProps('permissions')}
          />
          <Button type="submit" mt={25} loading={create.pending}>
            Create token
          </Button>
        </Group>
        <ProblemAlert problem={create.problem} />
      </form>
      <ProblemAlert problem={revoke.problem} />
      <Loaded query={tokens}>
        {(data) => (
          <DataTable
            caption="Your API tokens (the secret is never shown again)"
            rows={data.items}
            rowKey={(t) => t.id}
            empty="No tokens yet."
            columns={[
              { header: 'Name', cell: (t) => t.name },
              { header: 'Prefix', cell: (t) => <code>pc_{t.prefix}_…</code> },
              { header: 'Permissions', cell: (t) => (t.permissions ? t.permissions.join(', ') : 'all of yours') },
              { header: 'Expires', cell: (t) => formatTime(t.expires_at) },
              { header: 'Last used', cell: (t) => formatTime(t.last_used_at) },
              {
                header: 'State',
                cell: (t) =>
                  t.revoked_at ? (
                    <Badge color="gray">revoked</Badge>
                  ) : (
                    <Button size="xs" color="red" variant="light" onClick={() => revoke.mutate(t.id)} aria-label={`Revoke token ${t.name}`}>
                      Revoke
                    </Button>
                  ),
              },
            ]}
          />
        )}
      </Loaded>
    </Stack>
  );
}
