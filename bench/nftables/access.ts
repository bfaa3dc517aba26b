/**
 * @module Benchmark: the nftables adapter on the real kernel, in network namespaces made (and deleted) here
 * (client — firewall — server, like test/nftables/packet.test.ts). Needs root.
 *
 * - grant → effective: from the call to `setAliasEntries` until a TCP connection from the client gets through,
 *   against a same-run baseline that writes the element with one bare `nft add element` (no read, no diff).
 * - 1,000-grant storm: one `setAliasEntries` with 1,000 entries (one batch), and ten batches of +100 (how the
 *   reconciler coalesces a storm), until all 1,000 are live in the kernel; baseline: one bare `nft -f -` of 1,000
 *   `add element` lines.
 * - expiry precision: elements written with expiresAt 2–3 s ahead, polled every 20 ms; when each leaves the set
 *   minus its expiresAt.
 *
 * Run: `npx tsx bench/nftables/access.ts [rounds]` (default 20).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { NftablesAdapter } from '../../src/adapters/nftables/adapter.ts';
import { LocalRunner } from '../../src/adapters/nftables/transport.ts';

const run = promisify(execFile);
const ROUNDS = Number(process.argv[2] ?? 20);
const CLIENT = '10.79.1.2';
const SERVER = '10.79.2.2';
const PORT = 8080;
const tag = randomBytes(3).toString('hex');
const [cli, fw, srv] = ['bc', 'bf', 'bs'].map((p) => `pc${p}${tag}`) as [string, string, string];

if (process.getuid?.() !== 0) {
  console.error('bench/nftables/access.ts needs root (network namespaces)');
  process.exit(2);
}

const ns = (name: string, argv: string[], input?: string) =>
  new Promise<string>((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', name, ...argv], { maxBuffer: 64 << 20 }, (err, stdout) =>
      err ? reject(new Error(err.message)) : resolve(stdout),
    );
    child.stdin?.end(input ?? '');
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { median: q(0.5), p95: q(0.95), max: s[s.length - 1] ?? NaN };
};
const fmt = (x: number) => `${x.toFixed(1)} ms`;

const children: Array<ReturnType<typeof spawn>> = [];
async function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const n of [cli, fw, srv]) await run('ip', ['netns', 'del', n]).catch(() => undefined);
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  for (const n of [cli, fw, srv]) {
    await run('ip', ['netns', 'add', n]);
    await ns(n, ['ip', 'link', 'set', 'lo', 'up']);
  }
  await run('ip', ['link', 'add', 'c0', 'netns', cli, 'type', 'veth', 'peer', 'name', 'f0', 'netns', fw]);
  await run('ip', ['link', 'add', 's0', 'netns', srv, 'type', 'veth', 'peer', 'name', 'f1', 'netns', fw]);
  for (const [n, argv] of [
    [cli, ['ip', 'addr', 'add', `${CLIENT}/24`, 'dev', 'c0']],
    [cli, ['ip', 'link', 'set', 'c0', 'up']],
    [cli, ['ip', 'route', 'add', 'default', 'via', '10.79.1.1']],
    [fw, ['ip', 'addr', 'add', '10.79.1.1/24', 'dev', 'f0']],
    [fw, ['ip', 'addr', 'add', '10.79.2.1/24', 'dev', 'f1']],
    [fw, ['ip', 'link', 'set', 'f0', 'up']],
    [fw, ['ip', 'link', 'set', 'f1', 'up']],
    [fw, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']],
    [srv, ['ip', 'addr', 'add', `${SERVER}/24`, 'dev', 's0']],
    [srv, ['ip', 'link', 'set', 's0', 'up']],
    [srv, ['ip', 'route', 'add', 'default', 'via', '10.79.2.1']],
  ] as Array<[string, string[]]>)
    await ns(n, argv);

  const adapter = new NftablesAdapter({ runner: new LocalRunner(['ip', 'netns', 'exec', fw]) });
  await adapter.createAlias('bench', 'host', 'benchmark');
  await adapter.createAlias('storm', 'host', 'storm');
  await ns(
    fw,
    ['nft', '-f', '-'],
    [
      'add chain inet portcullis forward { type filter hook forward priority 0; policy drop; }',
      'add rule inet portcullis forward ct state established,related accept',
      `add rule inet portcullis forward ip daddr ${SERVER} tcp dport ${PORT} ip saddr @bench accept`,
    ].join('\n') + '\n',
  );
  const server = spawn('ip', [
    'netns', 'exec', srv, process.execPath, '-e',
    `require('net').createServer(s=>s.destroy()).listen(${PORT},'0.0.0.0',()=>console.log('up'))`,
  ]);
  children.push(server);
  await new Promise((r) => server.stdout.once('data', r));
  // The prober: on each line, tries connections (SYN retried by hand every 2 ms) until one is accepted.
  const prober = spawn('ip', [
    'netns', 'exec', cli, process.execPath, '-e',
    `const net=require('net');require('readline').createInterface({input:process.stdin}).on('line',()=>{const t=()=>{const s=net.connect(${PORT},'${SERVER}');const k=setTimeout(()=>{s.destroy();t()},2);s.on('connect',()=>{clearTimeout(k);s.destroy();console.log('ok')});s.on('error',()=>{})};t()})`,
  ]);
  children.push(prober);
  const through = () =>
    new Promise<void>((resolve) => {
      prober.stdout.once('data', () => resolve());
      prober.stdin.write('go\n');
    });

  // 1. grant → effective
  const viaAdapter: number[] = [];
  const viaBaseline: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await adapter.setAliasEntries('bench', []);
    let t0 = performance.now();
    await adapter.setAliasEntries('bench', [
      { address: CLIENT, detail: `portcullis:b${i}`, expiresAt: Date.now() + 60_000 },
    ]);
    await through();
    viaAdapter.push(performance.now() - t0);
    await adapter.setAliasEntries('bench', []);
    t0 = performance.now();
    await ns(fw, ['nft', 'add', 'element', 'inet', 'portcullis', 'bench', `{ ${CLIENT} timeout 60s comment "portcullis:x" }`]);
    await through();
    viaBaseline.push(performance.now() - t0);
  }
  const a = stats(viaAdapter);
  const b = stats(viaBaseline);

  // 2. storm
  const addr = (i: number) => `10.${100 + Math.floor(i / 65_536)}.${Math.floor(i / 256) % 256}.${i % 256}`;
  const entries = Array.from({ length: 1_000 }, (_, i) => ({
    address: addr(i),
    detail: `portcullis:s${i}`,
    expiresAt: Date.now() + 3_600_000,
  }));
  const liveCount = async (set: string) => {
    const out = JSON.parse(await ns(fw, ['nft', '-j', 'list', 'set', 'inet', 'portcullis', set])) as {
      nftables: Array<{ set?: { elem?: unknown[] } }>;
    };
    return out.nftables.find((x) => x.set)?.set?.elem?.length ?? 0;
  };
  let t = performance.now();
  await adapter.setAliasEntries('storm', entries);
  const oneWrite = performance.now() - t;
  while ((await liveCount('storm')) < 1_000) await sleep(1);
  const oneLive = performance.now() - t;
  await adapter.setAliasEntries('storm', []);
  t = performance.now();
  for (let k = 1; k <= 10; k++) await adapter.setAliasEntries('storm', entries.slice(0, k * 100));
  const tenWrites = performance.now() - t;
  while ((await liveCount('storm')) < 1_000) await sleep(1);
  const tenLive = performance.now() - t;
  await adapter.setAliasEntries('storm', []);
  const script = entries
    .map((e) => `add element inet portcullis storm { ${e.address} timeout 3600s comment "${e.detail}" }`)
    .join('\n');
  t = performance.now();
  await ns(fw, ['nft', '-f', '-'], script + '\n');
  const bare = performance.now() - t;

  // 3. expiry precision
  await adapter.setAliasEntries('storm', []);
  const base = Date.now();
  const timed = Array.from({ length: 20 }, (_, i) => ({
    address: `192.0.2.${i + 1}`,
    detail: `portcullis:e${i}`,
    expiresAt: base + 2_000 + i * 50,
  }));
  await adapter.setAliasEntries('storm', timed);
  const gone = new Map<string, number>();
  while (gone.size < timed.length && Date.now() < base + 10_000) {
    const out = await ns(fw, ['nft', '-j', 'list', 'set', 'inet', 'portcullis', 'storm']);
    const now = Date.now();
    for (const e of timed) if (!gone.has(e.address) && !out.includes(`"${e.address}"`)) gone.set(e.address, now);
    await sleep(20);
  }
  const errors = timed.map((e) => (gone.get(e.address) ?? NaN) - e.expiresAt);
  const ex = stats(errors);

  console.log('nftables on the kernel (network namespaces), this run:');
  console.log(`| grant → effective (TCP through), adapter | median ${fmt(a.median)} | p95 ${fmt(a.p95)} | max ${fmt(a.max)} |`);
  console.log(`| grant → effective, baseline bare nft add element | median ${fmt(b.median)} | p95 ${fmt(b.p95)} | ratio ${(a.median / b.median).toFixed(2)} |`);
  console.log(`| storm 1,000 grants, one batch | write ${fmt(oneWrite)} | all live ${fmt(oneLive)} | baseline bare nft -f ${fmt(bare)} (ratio ${(oneWrite / bare).toFixed(2)}) |`);
  console.log(`| storm 1,000 grants, 10 batches of +100 | writes ${fmt(tenWrites)} | all live ${fmt(tenLive)} | |`);
  console.log(`| expiry precision (left the set − expiresAt, 20 elements, 20 ms polling) | median ${fmt(ex.median)} | p95 ${fmt(ex.p95)} | max ${fmt(ex.max)} |`);
  await adapter.close();
} finally {
  await cleanup();
}
