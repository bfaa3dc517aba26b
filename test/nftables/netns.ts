/**
 * @module Network namespaces for the nftables tests (docs/nftables.md §Tests): each test makes its own
 * uniquely named namespaces and deletes them, so the host's ruleset and conntrack table are never touched.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why the namespace tests cannot run here, or null when they can (root, `ip netns`, `nft`, `conntrack`). */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (.ci/run runs as root)';
  const probe = `pcprobe${randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
  } catch (err) {
    return `ip netns add failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim().slice(0, 200)}`;
  }
  try {
    execFileSync('ip', ['netns', 'exec', probe, 'nft', 'list', 'ruleset'], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'exec', probe, 'conntrack', '-L'], { stdio: 'pipe' });
  } catch (err) {
    return `nft or conntrack does not work in a namespace: ${String((err as { stderr?: Buffer }).stderr ?? err).trim().slice(0, 200)}`;
  } finally {
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  }
  return null;
}

/** A fresh namespace name (`pc` + tag + random). */
export function nsName(tag: string): string {
  return `pc${tag}${randomBytes(3).toString('hex')}`;
}

/** Runs a command inside namespace `ns`; rejects on a non-zero exit. */
export async function inNs(ns: string, argv: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const [file, ...args] = ['ip', 'netns', 'exec', ns, ...argv] as [string, ...string[]];
  if (input === undefined) return run(file, args, { encoding: 'utf8' });
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(Object.assign(new Error(err.message), { stderr })) : resolve({ stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

export async function sh(argv: string[]): Promise<void> {
  const [file, ...args] = argv as [string, ...string[]];
  await run(file, args);
}

/** Deletes namespaces (and with them their veths), ignoring ones already gone. */
export async function deleteNs(...names: string[]): Promise<void> {
  for (const name of names) await run('ip', ['netns', 'del', name]).catch(() => undefined);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
