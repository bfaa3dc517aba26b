/** Users: create, disable/enable, set a password, delete. */
import { Badge, Button, Group, Modal, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useState } from 'react';
import { api, must } from '../../api/client';
import type { User } from '../../api/types';
import { DataTable, Loaded, Page } from '../../components/Page';
import { ProblemAlert } from '../../components/ProblemAlert';
import { useAction, useApiForm } from '../../lib/forms';
import { keys, useUsers } from '../../lib/lookups';

export function UsersPage() {
  const users = useUsers();
  const [creating, setCreating] = useState(false);
  const [passwordFor, setPasswordFor] = useState<User | null>(null);
  const toggle = useAction(
    (u: User) => must(api.PATCH('/api/v1/users/{id}', { params: { path: { id: u.id } }, body: { disabled: !u.disabled } })),
    { invalidate: [keys.users] },
  );
  const remove = useAction((u: User) => must(api.DELETE('/api/v1/users/{id}', { params: { path: { id: u.id } } })), {
    invalidate: [keys.users],
  });
  return (
    <Page title="Users" actions={<Button onClick={() => setCreating(true)}>New user</Button>}>
      <ProblemAlert problem={toggle.problem ?? remove.problem} />
      <Loaded query={users}>
        {(data) => (
          <DataTable<User>
            caption="People who can sign in"
            rows={data.items}
            rowKey={(u) => u.id}
            empty="No users."
            columns={[
              { header: 'Username', cell: (u) => u.username },
              { header: 'Name', cell: (u) => u.display_name },
              { header: 'Email', cell: (u) => u.email ?? '—' },
              { header: 'Two-factor', cell: (u) => (u.totp_enabled ? <Badge color="green">on</Badge> : <Badge color="gray">off</Badge>) },
              { header: 'State', cell: (u) => (u.disabled ? <Badge color="red">disabled</Badge> : <Badge color="green">active</Badge>) },
              {
                header: 'Actions',
                cell: (u) => (
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="light" onClick={() => toggle.mutate(u)} aria-label={`${u.disabled ? 'Enable' : 'Disable'} user ${u.username}`}>
                      {u.disabled ? 'Enable' : 'Disable'}
                    </Button>
                    <Button size="xs" variant="light" onClick={() => setPasswordFor(u)} aria-label={`Set password of ${u.username}`}>
                      Set password
                    </Button>
                    <Button
                      size="xs"
                      color="red"
                      variant="subtle"
                      aria-label={`Delete user ${u.username}`}
                      onClick={() => window.confirm(`Delete user ${u.username}? Their sessions and tokens end.`) && remove.mutate(u)}
                    >
                      Delete
                    </Button>
                  </Group>
                ),
              },
            ]}
          />
        )}
      </Loaded>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New user">
        <NewUser onDone={() => setCreating(false)} />
      </Modal>
      <Modal opened={passwordFor !== null} onClose={() => setPasswordFor(null)} title={`Set the password of ${passwordFor?.username ?? ''}`}>
        {passwordFor ? <SetPassword user={passwordFor} onDone={() => setPasswordFor(null)} /> : null}
      </Modal>
    </Page>
  );
}

function NewUser({ onDone }: { onDone: () => void }) {
  const form = useForm({
    initialValues: { username: '', password: '', display_name: '', email: '' },
    validate: { username: (v) => (v.trim() ? null : 'Choose a username') },
  });
  const create = useApiForm(
    form,
    (v) =>
      must(
        api.POST('/api/v1/users', {
          body: {
            username: v.username.trim(),
            password: v.password,
            ...(v.display_name.trim() ? { display_name: v.display_name.trim() } : {}),
            ...(v.email.trim() ? { email: v.email.trim() } : {}),
          },
        }),
      ),
    { invalidate: [keys.users], onSuccess: onDone },
  );
  return (
    <form onSubmit={create.onSubmit} noValidate>
      <Stack>
        <TextInput label="Username" required {...form.getInputProps('username')} />
        <PasswordInput label="Password" autoComplete="new-password" required {...form.getInputProps('password')} />
        <TextInput label="Display name" {...form.getInputProps('display_name')} />
        <TextInput label="Email" type="email" {...form.getInputProps('email')} />
        <ProblemAlert problem={create.problem} />
        <Group>
          <Button type="submit" loading={create.pending}>
            Create user
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function SetPassword({ user, onDone }: { user: User; onDone: () => void }) {
  const form = useForm({ initialValues: { password: '' } });
  const set = useApiForm(
    form,
    (v) => must(api.PUT('/api/v1/users/{id}/password', { params: { path: { id: user.id } }, body: { password: v.password } })),
    { onSuccess: onDone },
  );
  return (
    <form onSubmit={set.onSubmit} noValidate>
      <Stack>
        <PasswordInput label="New password" autoComplete="new-password" required {...form.getInputProps('password')} />
        <ProblemAlert problem={set.problem} />
        <Group>
          <Button type="submit" loading={set.pending}>
            Set password (ends their sessions)
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
