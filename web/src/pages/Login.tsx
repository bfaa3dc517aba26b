/**
 * Sign-in for the portal (`/login`: grants your address on your knocs, as the API does) and for the console
 * (`/admin/login`: signs in only). Password first; when the account has TOTP the server answers
 * PC_ERR_TOTP_REQUIRED and the code field appears. Above it, one button per identity provider of this side
 * (docs/sso.md): a plain link to the provider's start URL, since the sign-in leaves the page. With password
 * sign-in switched off (PORTCULLIS_LOCAL_LOGIN=off) only the buttons remain.
 */
import { Alert, Anchor, Button, Card, Center, Code, Divider, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { api, must } from '../api/client';
import { isProblem } from '../api/problem';
import type { PortalGrantResult } from '../api/types';
import { ProblemAlert } from '../components/ProblemAlert';
import { toProblem } from '../lib/forms';
import { useSignedIn } from '../lib/session';

export const lastSignInKey = ['portal', 'last-sign-in'] as const;

export function LoginPage({ mode }: { mode: 'portal' | 'console' }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const signedIn = useSignedIn();
  const [needTotp, setNeedTotp] = useState(false);
  const [pending, setPending] = useState(false);
  const [problem, setProblem] = useState<ReturnType<typeof toProblem> | null>(null);
  const options = useQuery({ queryKey: ['sign-in-options'], queryFn: () => must(api.GET('/api/v1/auth/providers')) });
  const providers = (options.data?.providers ?? []).filter((p) => p.audience === mode);
  const localLogin = options.data?.local_login ?? true;
  const form = useForm({
    initialValues: { username: '', password: '', totp_code: '' },
    validate: {
      username: (v) => (v.trim() ? null : 'Enter your username'),
      password: (v) => (v ? null : 'Enter your password'),
      totp_code: (v) => (needTotp && !/^\d{6,8}$/.test(v.trim()) ? 'Enter the 6-digit code from your app' : null),
    },
  });

  const submit = form.onSubmit(async (values) => {
    setPending(true);
    setProblem(null);
    const body = {
      username: values.username.trim(),
      password: values.password,
      ...(needTotp ? { totp_code: values.totp_code.trim() } : {}),
    };
    try {
      if (mode === 'portal') {
        const result = await must(api.POST('/api/v1/portal/login', { body }));
        client.setQueryData<PortalGrantResult>(lastSignInKey, {
          ip: result.ip,
          granted: result.granted,
          refused: result.refused,
          requested: result.requested,
        });
        await signedIn(result.csrf_token);
        await navigate({ to: '/' });
      } else {
        const result = await must(api.POST('/api/v1/auth/login', { body }));
        await signedIn(result.csrf_token);
        await navigate({ href: '/admin' });
      }
    } catch (err) {
      if (isProblem(err, 'PC_ERR_TOTP_REQUIRED')) {
        setNeedTotp(true);
      } else if (isProblem(err, 'PC_ERR_TOTP_INVALID')) {
        form.setFieldError('totp_code', err.message);
      } else {
        const p = toProblem(err);
        const field = p.fieldIn(['username', 'password', 'totp_code']);
        if (field) form.setFieldError(field, p.message);
        else setProblem(p);
      }
    } finally {
      setPending(false);
    }
  });

  return (
    <Center mih="80vh" p="md">
      <Card withBorder shadow="sm" padding="xl" radius="md" w="100%" maw={420}>
        <form onSubmit={submit} noValidate>
          <Stack>
            <Title order={1} size="h2">
              {mode === 'portal' ? 'Sign in for access' : 'Sign in to the console'}
            </Title>
            <Text size="sm" c="dimmed">
              {mode === 'portal'
                ? 'Signing in opens your access from this address on the firewalls you are assigned to.'
                : 'Manage gateways, knocs, people and their access. Signing in here grants no access.'}
            </Text>
            {providers.map((p) => (
              <Button key={p.id} component="a" href={p.start_url} variant="default">
                Sign in with {p.name}
              </Button>
            ))}
            {providers.length > 0 && localLogin ? <Divider label="or with your password" labelPosition="center" /> : null}
            {localLogin ? (
              <>
                <TextInput label="Username" autoComplete="username" required {...form.getInputProps('username')} />
                <PasswordInput
                  label="Password"
                  autoComplete="current-password"
                  required
                  {...form.getInputProps('password')}
                />
                {needTotp ? (
                  <>
                    <Alert color="blue" role="status">
                      This account uses two-factor sign-in. Enter the current code from your authenticator app.
                    </Alert>
                    <TextInput
                      label="Authentication code"
                      inputMode="numeric"
                      autoComplete="one-time-code"
                      autoFocus
                      required
                      {...form.getInputProps('totp_code')}
                    />
                  </>
                ) : null}
                <ProblemAlert problem={problem} title="Sign-in failed" />
                <Button type="submit" loading={pending}>
                  Sign in
                </Button>
              </>
            ) : providers.length === 0 ? (
              <Alert color="yellow">Password sign-in is switched off here and no identity provider is set up for this side.</Alert>
            ) : null}
            <Text size="sm">
              {mode === 'portal' ? (
                <Anchor component={Link} to="/admin/login">
                  Administrators: sign in to the console
                </Anchor>
              ) : (
                <Anchor component={Link} to="/login">
                  Sign in to the access portal instead
                </Anchor>
              )}
            </Text>
            {localLogin ? <FirstRunHint /> : null}
          </Stack>
        </form>
      </Card>
    </Center>
  );
}

function FirstRunHint() {
  return (
    <Alert color="gray" variant="light" title="First start?">
      <Text size="sm">
        The first start creates the owner account <Code>admin</Code> and prints its password once on the
        server&apos;s standard error (or uses <Code>PORTCULLIS_BOOTSTRAP_ADMIN=user:password</Code>). With the emulated
        lab running, sign in to the portal with it to see your address go live on the lab firewall.
      </Text>
    </Alert>
  );
}
