/**
 * @module The PGlite data-directory lock: one opener at a time (in-process and across processes), stale locks
 * reclaimed, and data persisted across a close/reopen.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER } from '../../src/store/migrate.ts';
import { LOCK_FILE, openStore } from '../../src/store/open.ts';
import { acquirePidLock, StoreLockedError } from '../../src/store/pid-lock.ts';
import { DEFAULT_ORG_ID, sites } from '../../src/store/schema/tenancy.ts';

const run = promisify(execFile);
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (so certainly not alive now). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('acquirePidLock', () => {
  it('writes our pid and removes the file on release', () => {
    const path = join(dir, LOCK_FILE);
    const lock = acquirePidLock(path);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(path)).toBe(false);
    lock.release(); // idempotent
  });

  it('refuses a second holder in the same process', () => {
    const path = join(dir, LOCK_FILE);
    const lock = acquirePidLock(path);
    try {
      expect(() => acquirePidLock(path)).toThrow(StoreLockedError);
    } finally {
      lock.release();
    }
  });

  it('refuses while another live process holds it, naming that pid', async () => {
    const path = join(dir, LOCK_FILE);
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(path, `${holder.pid}\n`);
      let error: unknown;
      try {
        acquirePidLock(path);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(StoreLockedError);
      expect((error as StoreLockedError).pid).toBe(holder.pid);
      expect((error as Error).message).toContain(`in use by process ${holder.pid}`);
      expect(readFileSync(path, 'utf8').trim()).toBe(String(holder.pid)); // untouched
    } finally {
      holder.kill();
    }
  });

  it.each([
    { name: 'a dead pid', content: () => `${deadPid()}\n` },
    { name: 'garbage', content: () => 'not a pid' },
    { name: 'an empty file', content: () => '' },
  ])('reclaims a stale lock holding $name', ({ content }) => {
    const path = join(dir, LOCK_FILE);
    writeFileSync(path, content());
    const lock = acquirePidLock(path);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });
});

describe('openStore on a data directory', () => {
  it('locks the directory while open and keeps the data across reopen', async () => {
    const store = await openStore({ dataDir: dir });
    try {
      await store.db.insert(sites).values({ orgId: DEFAULT_ORG_ID, name: 'persisted' });
      await expect(openStore({ dataDir: dir })).rejects.toBeInstanceOf(StoreLockedError);
      // A second process is refused before it touches the files.
      const cli = await run(process.execPath, [
        'bin/portcullis.js',
        'migrate',
        '--data-dir',
        dir,
        '--json',
      ]).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
      );
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain(`in use by process ${process.pid}`);
    } finally {
      await store.close();
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const reopened = await openStore({ dataDir: dir });
    try {
      expect(reopened.migration).toEqual({
        applied: 0,
        total: readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length,
      });
      expect(await reopened.query('select name from sites')).toEqual([{ name: 'persisted' }]);
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
