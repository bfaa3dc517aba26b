/** @module pfSense alias-name rules in pfRest's order (docs/adr/0072-alias-name-validation.md). */
import { describe, expect, it } from 'vitest';
import { type AliasNameContext, checkAliasName } from '../../src/adapters/pfsense/alias-name.ts';

const services: ReadonlySet<string> = new Set(['http', 'ssh', 'tcp', 'udp', 'icmp']);

const rows: { name: string; alias: string; id: string | null; context?: AliasNameContext }[] = [
  { name: 'plain name is valid', alias: 'portcullis_jit', id: null },
  { name: 'mixed case and digits are valid', alias: 'Knoc_Office2', id: null },
  { name: 'dash is an invalid character', alias: 'jit-ssh', id: 'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS' },
  { name: 'dot is an invalid character', alias: 'jit.ssh', id: 'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS' },
  { name: 'space is an invalid character', alias: 'jit ssh', id: 'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS' },
  { name: 'empty name fails the character rule', alias: '', id: 'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS' },
  {
    name: 'characters are checked before length',
    alias: `${'a'.repeat(40)}-`,
    id: 'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS',
  },
  {
    name: 'pf keyword is reserved (upstream test: sshguard table)',
    alias: 'sshguard',
    id: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED',
  },
  {
    name: 'custom token IPsec is reserved (upstream test)',
    alias: 'IPsec',
    id: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED',
  },
  { name: 'reserved names are case-sensitive: ipsec is not IPsec', alias: 'ipsec', id: null },
  { name: 'pf keyword "pass" is reserved', alias: 'pass', id: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED' },
  {
    name: 'upper-cased interface id is reserved',
    alias: 'WAN',
    id: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED',
  },
  {
    name: '<ID>__NETWORK is reserved',
    alias: 'LAN__NETWORK',
    id: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED',
  },
  {
    name: 'OPTn is reserved when interfaces are unknown',
    alias: 'OPT3',
    id: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED',
  },
  {
    name: 'OPTn__NETWORK is reserved when interfaces are unknown',
    alias: 'OPT12__NETWORK',
    id: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED',
  },
  { name: 'bare pkg_ hits the pkg_ rule', alias: 'pkg_', id: 'FILTER_NAME_VALIDATOR_CANNOT_START_WITH_PKG' },
  {
    name: 'pkg_ prefix (upstream test)',
    alias: 'pkg_anything',
    id: 'FILTER_NAME_VALIDATOR_CANNOT_START_WITH_PKG',
  },
  { name: 'all digits is numerical', alias: '123', id: 'FILTER_NAME_VALIDATOR_CANNOT_BE_NUMERICAL' },
  {
    name: 'exponent form is numerical in PHP',
    alias: '1e5',
    id: 'FILTER_NAME_VALIDATOR_CANNOT_BE_NUMERICAL',
  },
  { name: 'hex is not numerical in PHP 8', alias: '0x1A', id: null },
  { name: 'interface id is in use', alias: 'lan', id: 'FILTER_NAME_VALIDATOR_NAME_IN_USE_BY_INTERFACE' },
  {
    name: 'optN is in use when interfaces are unknown',
    alias: 'opt1',
    id: 'FILTER_NAME_VALIDATOR_NAME_IN_USE_BY_INTERFACE',
  },
  {
    name: 'known interfaces replace the default guess',
    alias: 'opt1',
    id: null,
    context: { interfaceIds: ['wan', 'lan'] },
  },
  {
    name: 'interface group name is reserved upper-cased',
    alias: 'BRANCHES',
    id: 'FILTER_NAME_VALIDATOR_RESERVED_NAME_USED',
    context: { interfaceGroups: ['branches'] },
  },
  {
    name: 'interface group name is in use',
    alias: 'branches',
    id: 'FILTER_NAME_VALIDATOR_NAME_IN_USE_BY_INTERFACE',
    context: { interfaceGroups: ['branches'] },
  },
  { name: '31 characters is the maximum', alias: 'a'.repeat(31), id: null },
  { name: '32 characters is too long', alias: 'a'.repeat(32), id: 'LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT' },
  { name: 'only underscores is not a valid alias name', alias: '___', id: 'INVALID_FIREWALL_ALIAS_NAME' },
  { name: 'service name is not a valid alias name', alias: 'ssh', id: 'INVALID_FIREWALL_ALIAS_NAME' },
  { name: 'protocol name is not a valid alias name', alias: 'icmp', id: 'INVALID_FIREWALL_ALIAS_NAME' },
  { name: 'service names are case-sensitive like getservbyname', alias: 'SSH', id: null },
];

describe('checkAliasName', () => {
  it.each(rows)('$name', ({ alias, id, context }) => {
    const result = checkAliasName(alias, { serviceAndProtocolNames: services, ...context });
    expect(result.ok ? null : result.id).toBe(id);
    if (!result.ok) expect(result.message).toContain('alias name');
  });

  it('the default service list knows the names the reference lists', () => {
    for (const name of [
      'tcp',
      'udp',
      'icmp',
      'gre',
      'esp',
      'ip',
      'http',
      'https',
      'ssh',
      'smtp',
      'domain',
      'ntp',
    ]) {
      expect(checkAliasName(name)).toMatchObject({ ok: false, id: 'INVALID_FIREWALL_ALIAS_NAME' });
    }
  });
});
