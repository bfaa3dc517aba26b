import '@mantine/core/styles.css';
import { localStorageColorSchemeManager, MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { isProblem } from './api/problem';
import { router } from './router';
import { cssVariablesResolver, theme } from './theme';

const queryClient = new QueryClient({
  // A refusal (4xx) is an answer to show, not a fault to retry; a network or server failure is retried once.
  defaultOptions: { queries: { retry: (failures, err) => failures < 1 && !(isProblem(err) && err.status >= 400 && err.status < 500), refetchOnWindowFocus: true } },
});

// Only the colour scheme is remembered in the browser; no credential or token ever is.
const colorSchemeManager = localStorageColorSchemeManager({ key: 'portcullis-color-scheme' });

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} colorSchemeManager={colorSchemeManager} defaultColorScheme="auto">
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
