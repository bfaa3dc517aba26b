/**
 * Your account: two-factor sign-in (TOTP) enrolment with a QR code, password change, and your API tokens.
 * The TOTP secret is only in this component's state while enrolling.
 */
import { Alert, Button, Card, Group, Image, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQueryClient } from '@tanstack/react-query';
import { toDataURL } from 'qrcode';
import { useState } from 'react';
import { api, must } from '../api/client';
import { Page } from '../components/Page';
import { ProblemAlert } from '../components/ProblemAlert';
import { CopyField } from '../components/Secrets';
import { useApiForm } from '../lib/forms';
import { meKey, useMe } from '../lib/session';
import { TokensPanel } from './console/Tokens';

export function AccountPage() {
  return (
    <Page title="Your account">
      <TotpCard />
      <PasswordCard />
      <Card withBorder padding="lg">
        <TokensPanel />
      </Card>
    </Page>
  );
}

function TotpCard() {
  const me = useMe();
  const client = useQueryClient();
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string; qr: string } | null>(null);
  const [done, setDone] = useState(false);
  // Enrolling changes how you sign in, so the server asks for your current password (a session only).
  const startForm = useForm({ initialValues: { current_password: '' } });
  const start = useApiForm(
    startForm,
    async (v) => {
      const e = await must(api.POST('/api/v1/auth/totp/enroll', { body: { current_password: v.current_password } }));
      setEnrolment({ secret: e.secret, uri: e.otpauth_uri, qr: await toDataURL(e.otpauth_uri, { margin: 1, width: 220 }) });
      setDone(false);
    },
    { onSuccess: () => startForm.reset() },
  );
  const form = useForm({
    initialValues: { code: '' },
    validate: { code: (v) => (/^\d{6,8}$/.test(v.trim()) ? null : 'Enter the 6-digit code your app shows') },
  });
  const verify = useApiForm(form, (v) => must(api.POST('/api/v1/auth/totp/verify', { body: { code: v.code.trim() } })), {
    onSuccess: () => {
      setEnrolment(null);
      setDone(true);
      form.reset();
      void client.invalidateQueries({ queryKey: meKey });
    },
  });
  const enabled = me.data?.user.totp_enabled ?? false;
  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="totp-heading">
      <Stack>
        <Title order={2} size="h3" id="totp-heading">
          Two-factor sign-in
        </Title>
        {done ? (
          <Alert color="green" role="status">
            Two-factor sign-in is on. From now on, sign-in asks for a code from your app.
          </Alert>
        ) : null}
        <Text size="sm">
          {enabled
            ? 'On: sign-in asks for a code from your authenticator app. Setting it up again replaces the old one once confirmed.'
            : 'Off. Add an authenticator app (any TOTP app) so a stolen password alone cannot sign in.'}
        </Text>
        {enrolment ? (
          <form onSubmit={verify.onSubmit} noValidate>
            <Stack>
              <Group align="start" wrap="wrap">
                <Image src={enrolment.qr} alt="QR code to scan with your authenticator app" w={220} h={220} />
                <Stack gap="xs" style={{ flex: 1, minWidth: 240 }}>
                  <Text size="sm">Scan the code with your app, or type the key by hand:</Text>
                  <CopyField label="Setup key" value={enrolment.secret} />
                </Stack>
              </Group>
              <TextInput
                label="Code from your app"
                inputMode="numeric"
                autoComplete="one-time-code"
                required
                {...form.getInputProps('code')}
              />
              <ProblemAlert problem={verify.problem} />
              <Group>
                <Button type="submit" loading={verify.pending}>
                  Confirm and turn on
                </Button>
                <Button variant="subtle" onClick={() => setEnrolment(null)}>
                  Cancel
                </Button>
              </Group>
            </Stack>
          </form>
        ) : (
          <form onSubmit={start.onSubmit} noValidate>
            <Stack>
              <PasswordInput
                label="Current password, to confirm it is you"
                autoComplete="current-password"
                required
                {...startForm.getInputProps('current_password')}
              />
              <ProblemAlert problem={start.problem} />
              <Group>
                <Button type="submit" loading={start.pending}>
                  {enabled ? 'Set up a new authenticator' : 'Set up two-factor sign-in'}
                </Button>
              </Group>
            </Stack>
          </form>
        )}
      </Stack>
    </Card>
  );
}

function PasswordCard() {
  const client = useQueryClient();
  const [changed, setChanged] = useState(false);
  const form = useForm({
    initialValues: { current_password: '', new_password: '', confirm: '' },
    validate: { confirm: (v, all) => (v === all.new_password ? null : 'The two new passwords differ') },
  });
  const change = useApiForm(
    form,
    (v) =>
      must(api.PUT('/api/v1/auth/password', { body: { current_password: v.current_password, new_password: v.new_password } })),
    {
      onSuccess: () => {
        setChanged(true);
        // Changing the password ends every session, this one included.
        client.setQueryData(meKey, null);
      },
    },
  );
  return (
    <Card withBorder padding="lg" component="section" aria-labelledby="password-heading">
      <form onSubmit={change.onSubmit} noValidate>
        <Stack>
          <Title order={2} size="h3" id="password-heading">
            Password
          </Title>
          {changed ? <Alert color="green">Password changed. Sign in again with the new one.</Alert> : null}
          <PasswordInput label="Current password" autoComplete="current-password" required {...form.getInputProps('current_password')} />
          <PasswordInput label="New password" autoComplete="new-password" required {...form.getInputProps('new_password')} />
          <PasswordInput label="New password again" autoComplete="new-password" required {...form.getInputProps('confirm')} />
          <ProblemAlert problem={change.problem} />
          <Group>
            <Button type="submit" loading={change.pending}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
