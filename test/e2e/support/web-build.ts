/** The web build the browser tests serve. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

/** The build `npm install` makes (prepare → build:web); built here when a checkout has none yet. */
export function ensureWebBuild(): void {
  if (existsSync(join(root, 'web/dist/index.html'))) return;
  execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts'], {
    cwd: root,
    stdio: 'ignore',
  });
}
