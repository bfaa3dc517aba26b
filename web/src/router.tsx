/** Routes: sign-in pages, the signed decision-link page, the portal and account (any signed-in person), and the console from the registry. */
import { Box, Loader } from '@mantine/core';
import { lazy, type ReactNode, Suspense } from 'react';
import { createRootRoute, createRoute, createRouter, Outlet } from '@tanstack/react-router';
import { ColorSchemeToggle, SignedInLayout } from './Layout';
import { LoginPage } from './pages/Login';
import { PortalPage } from './pages/Portal';
import { CONSOLE_PAGES } from './pages/registry';

const AccountPage = lazy(async () => ({ default: (await import('./pages/Account')).AccountPage }));
const DecidePage = lazy(async () => ({ default: (await import('./pages/Decide')).DecidePage }));

function Lazy({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loader size="sm" role="status" aria-label="Loading" />}>{children}</Suspense>;
}

const root = createRootRoute({ component: Outlet });

function SignInFrame({ mode }: { mode: 'portal' | 'console' }) {
  return (
    <Box component="main">
      <Box pos="absolute" top={12} right={12}>
        <ColorSchemeToggle />
      </Box>
      <LoginPage mode={mode} />
    </Box>
  );
}

const login = createRoute({ getParentRoute: () => root, path: '/login', component: () => <SignInFrame mode="portal" /> });
const consoleLogin = createRoute({ getParentRoute: () => root, path: '/admin/login', component: () => <SignInFrame mode="console" /> });
// A signed decision link: no sign-in, the link is the credential (docs/access-requests.md).
const decide = createRoute({ getParentRoute: () => root, path: '/decide', component: () => (
  <Lazy>
    <DecidePage />
  </Lazy>
) });

const portalFrame = createRoute({ getParentRoute: () => root, id: 'portal', component: () => <SignedInLayout console={false} /> });
const portal = createRoute({ getParentRoute: () => portalFrame, path: '/', component: PortalPage });
const account = createRoute({ getParentRoute: () => portalFrame, path: '/account', component: () => (
  <Lazy>
    <AccountPage />
  </Lazy>
) });

const consoleFrame = createRoute({ getParentRoute: () => root, path: '/admin', component: () => <SignedInLayout console /> });
const consolePages = CONSOLE_PAGES.map((page) =>
  createRoute({ getParentRoute: () => consoleFrame, path: page.path || '/', component: () => (
    <Lazy>
      <page.component />
    </Lazy>
  ) }),
);

const routeTree = root.addChildren([
  login,
  consoleLogin,
  decide,
  portalFrame.addChildren([portal, account]),
  consoleFrame.addChildren(consolePages),
]);

export const router = createRouter({ routeTree, defaultPreload: false });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
