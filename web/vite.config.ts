/**
 * Builds the web UI into web/dist (served by the API process, src/server/plugins/web.ts). Every emitted text
 * file also gets a `.gz` copy so the server sends compressed bytes without compressing per request.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

function gzipCopies(): Plugin {
  let outDir = '';
  return {
    name: 'portcullis-gzip-copies',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    writeBundle(_options, bundle) {
      for (const file of [...Object.keys(bundle), 'index.html']) {
        if (!/\.(js|css|html|svg|json)$/.test(file)) continue;
        const path = join(outDir, file);
        writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  plugins: [react(), gzipCopies()],
  build: {
    outDir: join(root, 'dist'),
    emptyOutDir: true,
    // Source maps stay out of the served directory: they would double the transferred bytes for nothing.
    sourcemap: false,
    rolldownOptions: {
      output: {
        // Libraries every first load needs whole get chunks of their own, fetched in parallel with the app's and
        // kept in the browser's cache across releases that change only our code. Mantine stays with the code that
        // uses it: a group would pull the components only console pages use into the portal's first load.
        codeSplitting: {
          groups: [
            { name: 'react', test: /[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/, priority: 2 },
            { name: 'tanstack', test: /[\\/]node_modules[\\/]@tanstack[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/edl': 'http://127.0.0.1:8080' } },
});
