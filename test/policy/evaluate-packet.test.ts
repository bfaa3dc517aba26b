/**
 * @module Tests for the packet line parser and packet validation (`src/policy/packet.ts`, docs/adr/0054).
 */
import { describe, expect, it } from 'vitest';
import {
  createPacketScratch,
  formatPacket,
  type Packet,
  PacketError,
  packetFacts,
  packetFactsInto,
  parsePacketLine,
} from '../../src/policy/packet.ts';

describe('parsePacketLine', () => {
  it.each<[string, string, Packet]>([
    [
      'issue example',
      'lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S',
      {
        interface: 'lan',
        direction: 'in',
        proto: 'tcp',
        src: '192.168.1.50',
        srcPort: 40000,
        dst: '8.8.8.8',
        dstPort: 443,
        tcpFlags: 'S',
      },
    ],
    [
      'IPv6 in brackets with ports',
      'opt1 in udp [2001:db8::5]:5000 -> [2001:db8::1]:53',
      {
        interface: 'opt1',
        direction: 'in',
        proto: 'udp',
        src: '2001:db8::5',
        srcPort: 5000,
        dst: '2001:db8::1',
        dstPort: 53,
      },
    ],
    [
      'bare IPv6 without ports, ICMPv6 type by name',
      'wan in icmp6 2001:db8::5 -> 2001:db8::1 type neighbrsol',
      {
        interface: 'wan',
        direction: 'in',
        proto: 'icmp6',
        src: '2001:db8::5',
        dst: '2001:db8::1',
        icmpType: 'neighbrsol',
      },
    ],
    [
      'ICMP type by number, arrow without spaces',
      'wan out icmp 85.10.20.2->8.8.8.8 type 8',
      { interface: 'wan', direction: 'out', proto: 'icmp', src: '85.10.20.2', dst: '8.8.8.8', icmpType: 8 },
    ],
    [
      'other protocol by name',
      'wan in esp 93.184.216.34 -> 85.10.20.2',
      { interface: 'wan', direction: 'in', proto: 'esp', src: '93.184.216.34', dst: '85.10.20.2' },
    ],
  ])('%s', (_name, line, packet) => {
    expect(parsePacketLine(line)).toEqual(packet);
  });

  it.each([
    ['too short', 'lan in tcp 1.2.3.4:1', 'packet'],
    ['bad direction', 'lan inbound tcp 1.2.3.4:1 -> 5.6.7.8:2', 'direction'],
    ['unclosed bracket', 'lan in udp [2001:db8::5:5000 -> [2001:db8::1]:53', 'src'],
    ['port out of range', 'lan in tcp 1.2.3.4:70000 -> 5.6.7.8:22', 'srcPort'],
    ['unknown keyword', 'lan in tcp 1.2.3.4:1 -> 5.6.7.8:22 ttl 5', 'packet'],
    ['keyword without value', 'lan in tcp 1.2.3.4:1 -> 5.6.7.8:22 flags', 'packet'],
  ])('rejects %s', (_name, line, field) => {
    expect(() => parsePacketLine(line)).toThrow(PacketError);
    try {
      parsePacketLine(line);
    } catch (error) {
      expect((error as PacketError).field).toBe(field);
    }
  });
});

describe('packetFacts', () => {
  const base: Packet = {
    interface: 'lan',
    direction: 'in',
    proto: 'tcp',
    src: '192.168.1.5',
    srcPort: 1000,
    dst: '8.8.8.8',
    dstPort: 443,
    tcpFlags: 'SA',
  };

  /** Shared by the table rows below on purpose: each row must overwrite everything the previous one left. */
  const scratch = createPacketScratch();

  it('resolves numbers: protocol, flags, ports', () => {
    expect(packetFacts(base)).toMatchObject({
      family: 4,
      proto: 6,
      tcpFlags: 2 | 16,
      srcPort: 1000,
      dstPort: 443,
      assumptions: [],
    });
  });

  it.each<[string, Packet, Record<string, unknown>]>([
    [
      'TCP without flags is a SYN',
      { ...base, tcpFlags: undefined },
      { tcpFlags: 2, assumptions: ['TCP flags S assumed (a connection attempt)'] },
    ],
    [
      'missing source port is ephemeral',
      { ...base, srcPort: undefined },
      { srcPort: 49152, assumptions: ['source port 49152 assumed'] },
    ],
    [
      'ICMP without type is an echo request',
      { interface: 'wan', direction: 'in', proto: 'icmp', src: '1.1.1.1', dst: '2.2.2.2' },
      { proto: 1, icmpType: 8 },
    ],
    [
      'icmp on IPv6 is ICMPv6',
      {
        interface: 'wan',
        direction: 'in',
        proto: 'icmp',
        src: '2001:db8::1',
        dst: '2001:db8::2',
        icmpType: 'echoreq',
      },
      { proto: 58, icmpType: 128 },
    ],
    [
      'protocol by number',
      { interface: 'wan', direction: 'in', proto: 47, src: '1.1.1.1', dst: '2.2.2.2' },
      { proto: 47 },
    ],
    ['af given and consistent', { ...base, af: 'inet' }, { family: 4 }],
    ['flag names', { ...base, tcpFlags: 'syn,ack' }, { tcpFlags: 2 | 16 }],
    ['a quoted port', { ...base, dstPort: '443' as unknown as number }, { dstPort: 443 }],
  ])('%s', (_name, packet, expected) => {
    expect(packetFacts(packet)).toMatchObject(expected);
    // The throughput path (reused storage) resolves the same facts, whatever the scratch held before.
    expect(packetFactsInto(packet, scratch)).toEqual(packetFacts(packet));
  });

  it.each<[string, unknown, string, string]>([
    ['not an object', 'lan in tcp', 'packet', 'packet must be an object'],
    [
      'missing interface',
      { ...base, interface: '' },
      'interface',
      'interface must be a non-empty string (e.g. "lan")',
    ],
    [
      'bad source address',
      { ...base, src: '300.1.1.1' },
      'src',
      'src "300.1.1.1" is not an IPv4 or IPv6 address',
    ],
    [
      'mixed families',
      { ...base, dst: '2001:db8::1' },
      'dst',
      'src 192.168.1.5 and dst 2001:db8::1 are of different address families',
    ],
    ['af disagrees', { ...base, af: 'inet6' }, 'af', 'af inet6 does not match the IPv4 addresses'],
    ['unknown protocol', { ...base, proto: 'quic' }, 'proto', 'unknown protocol "quic"'],
    [
      'missing destination port',
      { ...base, dstPort: undefined },
      'dstPort',
      'a tcp packet needs a destination port',
    ],
    [
      'port on ICMP',
      { interface: 'wan', direction: 'in', proto: 'icmp', src: '1.1.1.1', dst: '2.2.2.2', dstPort: 5 },
      'dstPort',
      'icmp packets have no ports',
    ],
    [
      'bad flags',
      { ...base, tcpFlags: 'XYZ' },
      'tcpFlags',
      'tcpFlags must be letters of FSRPAUEW or names like "syn,ack" (got "XYZ")',
    ],
    ['flags on UDP', { ...base, proto: 'udp' }, 'tcpFlags', 'TCP flags are only valid on tcp packets'],
    [
      'unknown ICMP type',
      { interface: 'wan', direction: 'in', proto: 'icmp', src: '1.1.1.1', dst: '2.2.2.2', icmpType: 'pong' },
      'icmpType',
      'unknown ICMP type "pong"',
    ],
  ])('rejects %s naming the field', (_name, packet, field, message) => {
    expect(() => packetFacts(packet)).toThrowError(new PacketError(field, message));
    expect(() => packetFactsInto(packet, scratch)).toThrowError(new PacketError(field, message));
    try {
      packetFacts(packet);
    } catch (error) {
      expect((error as PacketError).field).toBe(field);
    }
  });

  it('packetFactsInto reuses one facts object across families and keeps repeated and swapped IPv6 addresses exact', () => {
    const into = createPacketScratch();
    const v6 = parsePacketLine('opt1 in udp [2001:db8::5]:5000 -> [2001:db8::1]:53');
    const v4 = parsePacketLine('lan out tcp 10.0.0.1:1 -> 198.51.100.7:22 flags A');
    const lines: string[] = [];
    for (const packet of [v6, v4, v6, { ...v6, src: '2001:db8::1', dst: '2001:db8::5' }, v4]) {
      lines.push(formatPacket(packetFactsInto(packet, into)));
    }
    expect(lines).toEqual([
      'opt1 in udp [2001:db8::5]:5000 -> [2001:db8::1]:53',
      'lan out tcp 10.0.0.1:1 -> 198.51.100.7:22 flags A',
      'opt1 in udp [2001:db8::5]:5000 -> [2001:db8::1]:53',
      'opt1 in udp [2001:db8::1]:5000 -> [2001:db8::5]:53',
      'lan out tcp 10.0.0.1:1 -> 198.51.100.7:22 flags A',
    ]);
    expect(packetFactsInto(v4, into)).toBe(into.facts);
  });

  it('formatPacket writes the line form back', () => {
    expect(
      formatPacket(packetFacts(parsePacketLine('opt1 in udp [2001:db8::5]:5000 -> [2001:db8::1]:53'))),
    ).toBe('opt1 in udp [2001:db8::5]:5000 -> [2001:db8::1]:53');
    expect(
      formatPacket(packetFacts(parsePacketLine('lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S'))),
    ).toBe('lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S');
  });
});
