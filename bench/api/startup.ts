/**
 * @module Start-up benchmark: time from spawning `node bin/portcullis.js serve` (what `npm start` runs) until
 * `/readyz` answers 200 — on a fresh data directory (PGlite initdb + migrations + owner bootstrap) and on an
 * existing one. Baseline in the same run: spawning `node bin/portcullis.js --help` (the CLI and TypeScript
 * loading alone). Target: ready within 10 s on a fresh directory.
 *
 *   npx tsx bench/api/startup.ts [--runs 3]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('../../', import.meta.url).pathname;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);

function helpTime(): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/portcullis.js', '--help'], { cwd: root, stdio: 'ignore' });
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`exit ${code}`)),
    );
  });
}

async function readyTime(dataDir: string): Promise<number> {
  const started = performance.now();
  const env = {
    ...process.env,
    PORTCULLIS_DATA_DIR: dataDir,
    PORTCULLIS_PORT: '0',
    PORTCULLIS_BOOTSTRAP_ADMIN: 'bench:bench-password-123',
  };
  const child = spawn(process.execPath, ['bin/portcullis.js', 'serve'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  try {
    for (;;) {
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1];
      if (url && (await fetch(`${url}/readyz`).catch(() => null))?.status === 200)
        return performance.now() - started;
      if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGINT');
    });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const help: number[] = [];
const cold: number[] = [];
const warm: number[] = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-startup-'));
  try {
    help.push(await helpTime());
    cold.push(await readyTime(dir));
    warm.push(await readyTime(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const base = median(help);
console.log(`runs: ${runs} (medians)`);
console.log('| Start | ms | vs CLI load |');
console.log('|---|---:|---:|');
console.log(`| CLI load only (--help), baseline | ${Math.round(base)} | 1.0 |`);
console.log(
  `| serve, fresh data dir → /readyz 200 | ${Math.round(median(cold))} | ${(median(cold) / base).toFixed(1)} |`,
);
console.log(
  `| serve, existing data dir → /readyz 200 | ${Math.round(median(warm))} | ${(median(warm) / base).toFixed(1)} |`,
);
