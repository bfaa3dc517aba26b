/**
 * @module The nftables live reads on the kernel, in a namespace made here: status, the sets of our table as
 * aliases, rules from `nft -j list ruleset`, interfaces, neighbours and conntrack connections; the reads a
 * bare nftables host cannot serve are refused with NFT300 and their reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesAdapter } from '../../src/adapters/nftables/adapter.ts';
import { NFT_LIVE_UNAVAILABLE, nftablesLiveView } from '../../src/adapters/nftables/live-view.ts';
import { LocalRunner } from '../../src/adapters/nftables/transport.ts';
import { nftablesVendor } from '../../src/adapters/nftables/vendor.ts';
import { deleteNs, inNs, netnsUnavailable, nsName, sh } from './netns.ts';

const why = netnsUnavailable();

describe.skipIf(why !== null)(`nftables live reads on the kernel${why ? ` (skipped: ${why})` : ''}`, () => {
  const ns = nsName('lv');
  const adapter = new NftablesAdapter({ runner: new LocalRunner(['ip', 'netns', 'exec', ns]) });
  const live = nftablesLiveView(adapter);
  beforeAll(async () => {
    await sh(['ip', 'netns', 'add', ns]);
    await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    await adapter.createAlias('office', 'host', 'office staff');
    await adapter.setAliasEntries('office', [{ address: '192.0.2.5', detail: 'portcullis:g1' }]);
    await inNs(
      ns,
      ['nft', '-f', '-'],
      [
        'add chain inet portcullis input { type filter hook input priority 0; policy accept; }',
        'add rule inet portcullis input ct state established accept',
        'add rule inet portcullis input iifname "lo" ip saddr @office tcp dport 22 accept comment "ssh for office"',
        'add rule inet portcullis input tcp dport 23 drop',
      ].join('\n') + '\n',
    );
    await inNs(ns, ['conntrack', '-I', '-s', '192.0.2.5', '-d', '10.9.0.1', '-p', 'tcp', '--sport', '40000', '--dport', '22', '--state', 'ESTABLISHED', '-t', '120', '-u', 'SEEN_REPLY']);
  });
  afterAll(async () => {
    await deleteNs(ns);
  });

  it('status: kernel, nft version, uptime', async () => {
    const status = await live.status();
    expect(status.product_version).toMatch(/^Linux /);
    expect(status.api_version).toMatch(/^nftables v/);
    expect(status.uptime).toMatch(/^\d+d \d+h \d+m$/);
  });

  it('aliases: the sets of our table, the _v6 companion folded in', async () => {
    expect((await live.aliases()).items).toEqual([
      { name: 'office', type: 'host', description: 'office staff', entries: [{ address: '192.0.2.5', detail: 'portcullis:g1' }] },
    ]);
  });

  it('rules: verdicts, interfaces, set and port matches; the rest named', async () => {
    const rules = (await live.firewallRules()).items;
    expect(rules).toHaveLength(3);
    expect(rules[0]).toMatchObject({ action: 'allow', unmodelled_options: ['ct state established'], position: 0 });
    expect(rules[1]).toMatchObject({
      action: 'allow',
      interfaces: ['lo'],
      direction: 'in',
      source_address: '@office',
      protocol: 'tcp',
      dest_port: '22',
      description: 'ssh for office',
      unmodelled_options: [],
    });
    expect(rules[2]).toMatchObject({ action: 'deny', dest_port: '23' });
  });

  it('interfaces, neighbours and connections', async () => {
    const ifaces = (await live.interfaces()).items;
    expect(ifaces.find((i) => i.device === 'lo')?.ipv4).toBe('127.0.0.1/8');
    expect(Array.isArray((await live.arp()).items)).toBe(true);
    const conns = await live.connections(100);
    expect(conns.items).toContainEqual(expect.objectContaining({ protocol: 'tcp', source: '192.0.2.5:40000', state: 'ESTABLISHED' }));
    expect(conns.current).toBe(1);
  });

  it('reads a bare host cannot serve are refused with their reason, and their flags are off', async () => {
    await expect(live.dhcpLeases()).rejects.toThrow(/NFT300/);
    for (const flag of Object.keys(NFT_LIVE_UNAVAILABLE)) {
      expect(nftablesVendor.capabilities[flag as keyof typeof nftablesVendor.capabilities]).toBe(false);
    }
  });
});
