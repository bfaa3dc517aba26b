/**
 * @module A pid lock file guarding a PGlite data directory. PGlite's Node filesystem takes no lock of its own,
 * and two processes opening one directory corrupt it (electric-sql/pglite#1106, #323), so we refuse the
 * second opener with a clear error. A lock whose pid is no longer alive is stale and reclaimed. See ADR 0002.
 */
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export class StoreLockedError extends Error {
  readonly pid: number;
  constructor(path: string, pid: number) {
    super(
      `The data directory is in use by process ${pid} (lock file ${path}). ` +
        'Stop that process, or talk to it through its API (portcullis … --url).',
    );
    this.name = 'StoreLockedError';
    this.pid = pid;
  }
}

interface PidLock {
  readonly path: string;
  release(): void;
}

/** Whether a process with this pid exists (EPERM means it exists but belongs to another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Publishes a complete lock file atomically (write a private temp file, then hard-link it into place). */
function tryCreate(path: string): boolean {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${process.pid}\n`, { mode: 0o600 });
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * Takes the lock at `path` for this process or throws `StoreLockedError`. The holder may be this very
 * process (a second open in-process is just as unsafe). Files are published whole with `link()`, which fails
 * when the name exists, so a reader never sees a half-written lock. A stale lock is moved aside with an atomic
 * rename before retrying; if what was moved turns out to be a fresh live lock (a concurrent reclaimer won),
 * it is linked back and we report it as held.
 */
export function acquirePidLock(path: string): PidLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path)) {
      const onExit = () => rmSync(path, { force: true });
      process.once('exit', onExit);
      let held = true;
      return {
        path,
        release() {
          if (!held) return;
          held = false;
          process.removeListener('exit', onExit);
          if (readPid(path) === process.pid) rmSync(path, { force: true });
        },
      };
    }
    const pid = readPid(path);
    if (pid !== null && isAlive(pid)) throw new StoreLockedError(path, pid);
    // Stale (dead pid, or garbage): move it aside, then try to create ours again.
    const aside = `${path}.stale-${process.pid}-${attempt}`;
    try {
      renameSync(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    // Another reclaimer may have installed a live lock between our read and our rename: put it back.
    const movedPid = readPid(aside);
    if (movedPid !== null && movedPid !== pid && isAlive(movedPid)) {
      try {
        linkSync(aside, path);
      } finally {
        rmSync(aside, { force: true });
      }
      throw new StoreLockedError(path, movedPid);
    }
    rmSync(aside, { force: true });
  }
  throw new Error(`Could not take the data-directory lock ${path} after reclaiming a stale lock`);
}
