/**
 * The frame around every signed-in page: header (portal / account / console links, dark mode, sign out),
 * and in the console a sidebar from the page registry. Unknown sessions go to the sign-in page.
 */
import { ActionIcon, AppShell, Burger, Button, Group, Loader, Menu, NavLink, Text, useComputedColorScheme, useMantineColorScheme } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Link, Navigate, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { ProblemAlert } from './components/ProblemAlert';
import { toProblem } from './lib/forms';
import { can, useMe, useSignOut } from './lib/session';
import { useLiveUpdates } from './lib/live';
import { hasConsole, navPages } from './pages/registry';

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
  // The stream carries only events the person may read; without either permission it would stay silent.
  useLiveUpdates(can(me.data, 'access.view') || can(me.data, 'firewall.view'));
  if (me.isPending) return <Loader m="xl" role="status" aria-label="Loading" />;
  if (me.error) return <ProblemAlert problem={toProblem(me.error)} title="Could not reach the server" />;
  if (!me.data) return <Navigate to={inConsole ? '/admin/login' : '/login'} />;
  const pages = navPages(me.data.permissions);
  const links = [
    { to: '/', label: 'Access', active: path === '/' },
    { to: '/account', label: 'Account', active: path === '/account' },
    ...(hasConsole(me.data.permissions) ? [{ to: '/admin', label: 'Console', active: path.startsWith('/admin') }] : []),
  ];
  // Back to the sign-in page even when the server could not be told (the session then simply expires).
  const leave = () => {
    void signOut()
      .catch(() => undefined)
      .then(() => navigate({ to: '/login' }));
  };
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={inConsole ? { width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } } : undefined}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px={{ base: 'xs', sm: 'md' }} justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            {inConsole ? <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Console pages" /> : null}
            <Text fw={700} component={Link} to="/" visibleFrom="sm">
              Portcullis
            </Text>
          </Group>
          <Group gap={6} wrap="nowrap" component="nav" aria-label="Main" visibleFrom="sm">
            {links.map((l) => (
              <Button key={l.to} variant={l.active ? 'light' : 'subtle'} size="compact-sm" component={Link} to={l.to}>
                {l.label}
              </Button>
            ))}
            <ColorSchemeToggle />
            <Button size="compact-sm" variant="default" onClick={leave}>
              Sign out
            </Button>
          </Group>
          {/* Phones: the same links in a menu, so nothing runs off the screen. */}
          <Group gap={6} wrap="nowrap" hiddenFrom="sm">
            <ColorSchemeToggle />
            <Menu position="bottom-end" withInitialFocusPlaceholder={false}>
              <Menu.Target>
                <Button size="compact-sm" variant="default">
                  Menu
                </Button>
              </Menu.Target>
              <Menu.Dropdown>
                {links.map((l) => (
                  <Menu.Item key={l.to} onClick={() => void navigate({ href: l.to })}>
                    {l.label}
                  </Menu.Item>
                ))}
                <Menu.Item onClick={leave}>Sign out</Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      {inConsole ? (
        <AppShell.Navbar p="xs" component="nav" aria-label="Console" style={{ overflowY: 'auto' }}>
          {pages.map((p) => {
            const to = p.path ? `/admin/${p.path}` : '/admin';
            return (
              <NavLink
                key={to}
                label={p.label}
                component={Link}
                to={to}
                activeOptions={{ exact: true }}
                active={path === to}
                onClick={close}
              />
            );
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
