/**
 * @module The real packet test (issue 11 item 6) on the kernel: client — firewall — server in three network
 * namespaces joined by veths, forwarding on in the firewall namespace, and a forward chain in our table that
 * accepts established traffic and lets a new TCP connection to the server through only when its source is in the
 * knoc's set (docs/adr/0207-nftables-kill-semantics.md). Shown: blocked before a grant; open after it; blocked
 * again after the element's kernel timeout with NO Portcullis process running (the grant was written by a child
 * process that exited); and an open connection stops passing on revoke once its conntrack entry is deleted (the
 * next packet is `new`, and the chain drops a new packet from a non-member).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesAdapter } from '../../src/adapters/nftables/adapter.ts';
import { LocalRunner } from '../../src/adapters/nftables/transport.ts';
import { deleteNs, inNs, netnsUnavailable, nsName, sh, sleep } from './netns.ts';

const why = netnsUnavailable();
const CLIENT = '10.77.1.2';
const SERVER = '10.77.2.2';
const PORT = 8080;
const KNOC = 'packet_knoc';

/** Tries one TCP connection from the client namespace; `open` or `blocked` (no answer within `ms`). */
async function probe(ns: string, ms = 1_500): Promise<'open' | 'blocked'> {
  const code = `const s=require('net').connect(${PORT},'${SERVER}');s.setTimeout(${ms});s.on('connect',()=>{console.log('open');s.destroy()});s.on('timeout',()=>{console.log('blocked');s.destroy()});s.on('error',e=>console.log('error '+e.code))`;
  const { stdout } = await inNs(ns, [process.execPath, '-e', code]);
  const answer = stdout.trim();
  if (answer !== 'open' && answer !== 'blocked') throw new Error(`probe printed ${answer}`);
  return answer;
}

/** Waits for `text` on a child's stdout (or fails after `ms`). */
function waitFor(child: ChildProcessWithoutNullStreams, text: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.stdout.off('data', onData);
      resolve(false);
    }, ms);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(true);
      }
    };
    child.stdout.on('data', onData);
  });
}

describe.skipIf(why !== null)(`nftables packet test on the kernel${why ? ` (skipped: ${why})` : ''}`, () => {
  const cli = nsName('cl');
  const fw = nsName('fw');
  const srv = nsName('sv');
  const started: ChildProcessWithoutNullStreams[] = [];
  let adapter: NftablesAdapter;

  beforeAll(async () => {
    for (const ns of [cli, fw, srv]) {
      await sh(['ip', 'netns', 'add', ns]);
      await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    // The veth ends are made inside their namespaces, so no name is ever taken on the host.
    await sh(['ip', 'link', 'add', 'c0', 'netns', cli, 'type', 'veth', 'peer', 'name', 'f0', 'netns', fw]);
    await sh(['ip', 'link', 'add', 's0', 'netns', srv, 'type', 'veth', 'peer', 'name', 'f1', 'netns', fw]);
    const setup: Array<[string, string[]]> = [
      [cli, ['ip', 'addr', 'add', `${CLIENT}/24`, 'dev', 'c0']],
      [cli, ['ip', 'link', 'set', 'c0', 'up']],
      [cli, ['ip', 'route', 'add', 'default', 'via', '10.77.1.1']],
      [fw, ['ip', 'addr', 'add', '10.77.1.1/24', 'dev', 'f0']],
      [fw, ['ip', 'addr', 'add', '10.77.2.1/24', 'dev', 'f1']],
      [fw, ['ip', 'link', 'set', 'f0', 'up']],
      [fw, ['ip', 'link', 'set', 'f1', 'up']],
      [fw, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']],
      [srv, ['ip', 'addr', 'add', `${SERVER}/24`, 'dev', 's0']],
      [srv, ['ip', 'link', 'set', 's0', 'up']],
      [srv, ['ip', 'route', 'add', 'default', 'via', '10.77.2.1']],
    ];
    for (const [ns, argv] of setup) await inNs(ns, argv);

    adapter = new NftablesAdapter({ runner: new LocalRunner(['ip', 'netns', 'exec', fw]) });
    await adapter.createAlias(KNOC, 'host', 'packet test knoc');
    // The operator's chain lives in our table: an nft rule can only name a set of its own table.
    await inNs(
      fw,
      ['nft', '-f', '-'],
      [
        'add chain inet portcullis forward { type filter hook forward priority 0; policy drop; }',
        'add rule inet portcullis forward ct state established,related accept',
        `add rule inet portcullis forward ip daddr ${SERVER} tcp dport ${PORT} ip saddr @${KNOC} accept`,
        `add rule inet portcullis forward ip6 daddr ::/0 tcp dport ${PORT} ip6 saddr @${KNOC}_v6 accept`,
      ].join('\n') + '\n',
    );

    const server = spawn('ip', [
      'netns', 'exec', srv, process.execPath, '-e',
      `require('net').createServer(s=>{s.on('error',()=>{});s.pipe(s)}).listen(${PORT},'0.0.0.0',()=>console.log('listening'))`,
    ]);
    started.push(server);
    expect(await waitFor(server, 'listening', 10_000)).toBe(true);
  }, 60_000);

  afterAll(async () => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    await adapter?.close();
    await deleteNs(cli, fw, srv);
  });

  it('blocks before a grant, lets through after it, and blocks again after the kernel timeout with no Portcullis process', async () => {
    expect(await probe(cli)).toBe('blocked');

    // The grant is written by a separate process that exits: from then on nothing of Portcullis runs.
    const entries = JSON.stringify([{ address: CLIENT, detail: 'portcullis:packet-g1', expiresAt: Date.now() + 3_000 }]);
    const writer = spawn(process.execPath, ['--import', 'tsx', 'test/nftables/grant-once.ts', fw, KNOC, entries]);
    const granted = await new Promise<number | null>((resolve) => writer.on('close', resolve));
    expect(granted).toBe(0);
    expect(await probe(cli)).toBe('open');

    await sleep(3_500);
    expect(await probe(cli)).toBe('blocked');
    const listed = await inNs(fw, ['nft', 'list', 'set', 'inet', 'portcullis', KNOC]);
    expect(listed.stdout).not.toContain(CLIENT);
  }, 30_000);

  it('drops an open connection on revoke: the set loses the address, killStates deletes its conntrack entry', async () => {
    await adapter.setAliasEntries(KNOC, [
      { address: CLIENT, detail: 'portcullis:packet-g2', expiresAt: Date.now() + 60_000 },
    ]);
    const client = spawn('ip', [
      'netns', 'exec', cli, process.execPath, '-e',
      `const s=require('net').connect(${PORT},'${SERVER}',()=>console.log('connected'));s.on('data',d=>process.stdout.write('echo '+d));s.on('error',e=>console.log('error '+e.code));process.stdin.on('data',d=>s.write(d))`,
    ]);
    started.push(client);
    expect(await waitFor(client, 'connected', 5_000)).toBe(true);
    client.stdin.write('ping1\n');
    expect(await waitFor(client, 'echo ping1', 3_000)).toBe(true);

    // Revoked from the set only: the established connection still passes (that is why states are killed).
    await adapter.setAliasEntries(KNOC, []);
    client.stdin.write('ping2\n');
    expect(await waitFor(client, 'echo ping2', 3_000)).toBe(true);

    expect(await adapter.killStates(CLIENT)).toBeGreaterThanOrEqual(1);
    client.stdin.write('ping3\n');
    expect(await waitFor(client, 'echo ping3', 3_000)).toBe(false);
    expect(await probe(cli)).toBe('blocked');
  }, 30_000);
});
