/**
 * The frame around every signed-in page: header (portal / account / console links, dark mode, sign out),
 * and in the console a sidebar from the page registry. Unknown sessions go to the sign-in page.
 */
import { ActionIcon, AppShell, Burger, Button, Group, Loader, NavLink, Text, useComputedColorScheme, useMantineColorScheme } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Link, Navigate, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { ProblemAlert } from './components/ProblemAlert';
import { toProblem } from './lib/forms';
import { useMe, useSignOut } from './lib/session';
import { hasConsole, visiblePages } from './pages/registry';

export function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const next = scheme === 'dark' ? 'light' : 'dark';
  return (
    <ActionIcon variant="default" size="lg" aria-label={`Switch to ${next} mode`} onClick={() => setColorScheme(next)}>
      {scheme === 'dark' ? '☀' : '☾'}
    </ActionIcon>
  );
}

export function SignedInLayout({ console: inConsole }: { console: boolean }) {
  const me = useMe();
  const signOut = useSignOut();
  const navigate = useNavigate();
  const [opened, { toggle, close }] = useDisclosure();
  const path = useRouterState({ select: (s) => s.location.pathname });
  if (me.isPending) return <Loader m="xl" aria-label="Loading" />;
  if (me.error) return <ProblemAlert problem={toProblem(me.error)} title="Could not reach the server" />;
  if (!me.data) return <Navigate to={inConsole ? '/admin/login' : '/login'} />;
  const pages = visiblePages(me.data.permissions);
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={inConsole ? { width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } } : undefined}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            {inConsole ? <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" /> : null}
            <Text fw={700} component={Link} to="/">
              Portcullis
            </Text>
          </Group>
          <Group gap="xs" wrap="nowrap" component="nav" aria-label="Main">
            <Button variant={path === '/' ? 'light' : 'subtle'} size="compact-sm" component={Link} to="/">
              Access
            </Button>
            <Button variant={path === '/account' ? 'light' : 'subtle'} size="compact-sm" component={Link} to="/account">
              Account
            </Button>
            {hasConsole(me.data.permissions) ? (
              <Button variant={path.startsWith('/admin') ? 'light' : 'subtle'} size="compact-sm" component={Link} to="/admin">
                Console
              </Button>
            ) : null}
            <ColorSchemeToggle />
            <Button
              size="compact-sm"
              variant="default"
              onClick={async () => {
                await signOut();
                await navigate({ to: '/login' });
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      {inConsole ? (
        <AppShell.Navbar p="xs" component="nav" aria-label="Console">
          {pages.map((p) => {
            const to = p.path ? `/admin/${p.path}` : '/admin';
            return <NavLink key={to} label={p.label} component={Link} to={to} active={path === to} onClick={close} />;
          })}
        </AppShell.Navbar>
      ) : null}
      <AppShell.Main>
        <main>
          <Outlet />
        </main>
      </AppShell.Main>
    </AppShell>
  );
}
