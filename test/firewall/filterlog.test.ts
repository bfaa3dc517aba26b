/**
 * @module The pfSense filterlog parser (docs/reference/pfsense-filterlog.md) against real published lines (§4,
 * provenance below), the emulator's seeded lines, and lines it must refuse: each refused line is skipped and
 * counted, never half-read.
 */
import { describe, expect, it } from 'vitest';
import { parseFilterlog, parseFilterlogLine } from '../../src/adapters/pfsense/filterlog.ts';
import { initialLive } from '../../src/emulators/pfrest/areas/live.ts';

const NOW = new Date('2026-12-07T01:00:00Z');
/** The collectors that published these lines had stripped the syslog header; pfSense writes this one (§1). */
const header = (csv: string, time = 'Sep 20 16:54:15') => `${time} pfSense filterlog[29415]: ${csv}`;

// analyst3292/docker-pfsense-fek README.md @ 9e2e4e01094dda6f9376d956e24e9b2dc79bb7d6
const CARP_V4 =
  '48,16777216,,1000000201,em0,match,block,in,4,0x10,,255,53650,0,DF,112,carp,56,192.168.11.1,224.0.0.18,advertise,255,1,2,0,1';
const VRRP_V6 =
  '48,16777216,,1000000201,em0,match,block,in,6,0x00,0x00000,255,VRRP,112,36,fe80::100:1000:1001:1011,ff02::12,';
// analyst3292/docker-pfsense-fek fliterlog.md @ 92736da6bc2eaa1cc32bdc54b5caf766b3ef59ad (rule number 105 joined back)
const UDP_V4 =
  '105,16777216,,1470124826,em2,match,pass,in,4,0x10,,64,19328,0,DF,17,udp,76,172.18.15.15,192.33.214.47,60507,123,56';
// jcustenborder/kafka-connect-transform-cef CEFTransformationTest.java @ 82177944a6e6b8d3f542ff5fcf11e404f8100155
const ICMP_V6 =
  '5,16777216,,1000000003,igb1,match,block,in,6,0x00,0x00000,255,ICMPv6,58,32,2605:6000:c00:96::1,ff02::1:ffac:f98,';

describe('real filterlog lines', () => {
  it('IPv4 UDP: addresses, ports, tracker, interface, direction', () => {
    expect(parseFilterlogLine(header(UDP_V4), NOW)).toEqual({
      logged_at: '2026-09-20T16:54:15.000Z',
      action: 'pass',
      interface: 'em2',
      direction: 'in',
      ip_version: 4,
      protocol: 'udp',
      source_ip: '172.18.15.15',
      source_port: 60507,
      dest_ip: '192.33.214.47',
      dest_port: 123,
      vendor_rule_id: '1470124826',
      reason: 'match',
      length: 76,
    });
  });

  it('IPv6 ICMPv6: name and id swap places (name first), no ports', () => {
    const entry = parseFilterlogLine(header(ICMP_V6), NOW);
    expect(entry).toMatchObject({
      ip_version: 6,
      protocol: 'icmpv6',
      source_ip: '2605:6000:c00:96::1',
      dest_ip: 'ff02::1:ffac:f98',
      source_port: null,
      dest_port: null,
      action: 'block',
      vendor_rule_id: '1000000003',
      length: 32,
    });
  });

  it('CARP over IPv4 and VRRP over IPv6 (protocol 112): addresses, no ports', () => {
    expect(parseFilterlogLine(header(CARP_V4), NOW)).toMatchObject({
      protocol: 'carp',
      source_ip: '192.168.11.1',
      dest_ip: '224.0.0.18',
      source_port: null,
    });
    expect(parseFilterlogLine(header(VRRP_V6), NOW)).toMatchObject({
      protocol: 'vrrp',
      ip_version: 6,
      source_ip: 'fe80::100:1000:1001:1011',
      dest_ip: 'ff02::12',
    });
  });

  it('IPv4 ICMP echo request (constructed from the §2 grammar): no ports', () => {
    const line = header('7,,,1000000105,vtnet0,match,block,in,4,0x0,,64,0,0,DF,1,icmp,84,198.51.100.9,203.0.113.10,request,3226,764');
    expect(parseFilterlogLine(line, NOW)).toMatchObject({ protocol: 'icmp', source_port: null, dest_port: null });
  });

  it('RFC 5424 header: the time carries its zone', () => {
    const line = `<134>1 2026-02-11T07:53:16.866007+01:00 fw.example.com filterlog 49670 - - ${UDP_V4}`;
    expect(parseFilterlogLine(line, NOW)?.logged_at).toBe('2026-02-11T06:53:16.866Z');
  });

  it('a truncated packet (error=…) before the IP fields is read past', () => {
    const line = header(
      '5,,,1000000103,vtnet0,match,block,in,4,error=truncated-ip,0x0,,64,0,0,DF,6,tcp,40,198.51.100.7,203.0.113.10,51514,22,0',
    );
    expect(parseFilterlogLine(line, NOW)).toMatchObject({ protocol: 'tcp', source_port: 51514, dest_port: 22 });
  });
});

describe('the emulator seeds lines the parser reads', () => {
  it('both seeded TCP lines parse, with their trackers and ports', () => {
    const { items, skipped } = parseFilterlog(initialLive().firewallLog, NOW);
    expect(skipped).toBe(0);
    expect(items.map((e) => [e.action, e.vendor_rule_id, e.dest_port])).toEqual([
      ['block', '1000000103', 22],
      ['pass', '1770000101', 443],
    ]);
    // "Dec  6" read on Dec 7 is this year's.
    expect(items[0]?.logged_at).toBe('2026-12-06T21:58:01.000Z');
  });
});

describe('lines that are refused', () => {
  it('malformed lines are skipped and counted, readable ones kept', () => {
    const lines = [
      header(UDP_V4),
      'Dec  6 21:55:10 pfSense php-fpm[372]: /rc.filter_configure_sync: Filter reload complete',
      header('5,,,1000000103,vtnet0,match,block,in,5,0x0'), // IP version 5
      header('5,,,1000000103,vtnet0,match,nat,in,4,0x0,,64,0,0,DF,6,tcp,40,198.51.100.7,203.0.113.10,1,2,0'), // action
      header('5,,,1000000103,vtnet0,match,block,in,4,0x0,,64,0,0,DF,6,tcp,40,198.51.100.7'), // no destination
      header('5,,,1000000103,vtnet0,match,block,in,4,0x0,,64,0,0,DF,6,tcp,40,198.51.100.7,203.0.113.10,x,22,0'), // port
      header('5,,,1000000103,vtnet0,match,block,in,4,0x0,,64,0,0,DF,17,udp,40,198.51.100.7,203.0.113.10,70000,22,0'),
      header(UDP_V4, 'Foo 20 16:54:15'), // no such month
      '',
    ];
    const { items, skipped } = parseFilterlog(lines, NOW);
    expect(items).toHaveLength(1);
    expect(skipped).toBe(lines.length - 1);
  });

  it('a December line read in early January belongs to the previous year', () => {
    const entry = parseFilterlogLine(header(UDP_V4, 'Dec 31 23:59:59'), new Date('2027-01-01T00:10:00Z'));
    expect(entry?.logged_at).toBe('2026-12-31T23:59:59.000Z');
  });
});
