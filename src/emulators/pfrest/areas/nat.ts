/**
 * @module NAT (docs/reference/pfrest-emulator.md §6.1): port forwards, outbound mappings and mode, 1:1 mappings.
 * Every write marks `natconf` dirty; `POST /api/v2/firewall/apply` reloads the filter and clears it.
 *
 * Upstream (pfRest 805c7f0c): `Models/PortForward.inc:43-208`, `Models/OutboundNATMapping.inc:39-200`,
 * `Models/OutboundNATMode.inc:15-31`, `Models/OneToOneNATMapping.inc:28-118`; endpoints
 * `Endpoints/FirewallNAT{PortForward,PortForwards,OutboundMapping,OutboundMappings,OutboundMode,OneToOneMapping,
 * OneToOneMappings}Endpoint.inc:15-16`.
 */
import { Collection } from '../collection.ts';
import type { AreaContext, Endpoint } from '../endpoint.ts';
import { PfRestError } from '../envelope.ts';
import { filterAddress, portField } from '../models.ts';
import { isIpAddr, isIpv4 } from '../names.ts';
import { collectionModel, type FieldSpec, type ModelSpec, type Row, validateRow } from '../spec.ts';
import { crudEndpoints } from './crud.ts';

const NAT = '/api/v2/firewall/nat';
const PORT_PROTOCOLS = ['tcp', 'udp', 'tcp/udp'] as const;

function fields(ctx: AreaContext) {
  const interfaceIds = () => ctx.box().interfaces.map((i) => i.id);
  const iface = (o: { groups?: boolean } = {}): FieldSpec => ({
    name: 'interface',
    type: 'string',
    required: true,
    // InterfaceField's choices_callable (`Fields/InterfaceField.inc:120`): a bad id is FIELD_INVALID_CHOICE.
    check: (v) => {
      const ok = [...interfaceIds(), ...(o.groups ? ctx.box().interfaceGroups : [])];
      if (!ok.includes(v as string)) {
        throw new PfRestError(400, 'FIELD_INVALID_CHOICE', `Field 'interface' must be one of [${ok.join(', ')}]`);
      }
    },
  });
  const address = (name: string): FieldSpec => ({
    name,
    type: 'string',
    required: true,
    check: (v) => filterAddress(name, v as string, ctx.box().aliases, ctx.box().interfaces),
  });
  const port = (name: string, o: { required?: boolean; always?: boolean } = {}): FieldSpec => ({
    name,
    type: 'string',
    ...(o.required ? { required: true } : { default: null, allowNull: true }),
    ...(o.always ? {} : { conditions: { protocol: PORT_PROTOCOLS } }),
    check: (v) => portField(name, v, ctx.box().aliases),
  });
  /**
   * SpecialNetworkField as the NAT models declare it (`allow_subnet: false`, `allow_interface_ip: true`,
   * `Models/PortForward.inc:104-117`, `Models/OutboundNATMapping.inc:125-139`): an IP address, a host/network alias
   * where `alias` is allowed, or `<interface>:ip`; `validate_extra()` `Fields/SpecialNetworkField.inc:161-239`.
   */
  const target = (name: string, o: { alias: boolean }): FieldSpec => ({
    name,
    type: 'string',
    required: true,
    check: (v) => {
      const value = v as string;
      const alias = o.alias && ctx.box().aliases.some((a) => a.name === value && a.type !== 'port');
      const interfaceIp = value.endsWith(':ip') && interfaceIds().includes(value.slice(0, -3));
      if (!isIpAddr(value) && !alias && !interfaceIp) {
        throw new PfRestError(
          400,
          'SPECIAL_NETWORK_FIELD_INVALID',
          `Field '${name}' value '${value}' is invalid. Valid options are: an IP address${o.alias ? ', an alias' : ''} or an interface with the ':ip' modifier.`,
        );
      }
    },
  });
  const bool = (name: string): FieldSpec => ({ name, type: 'boolean', default: false });
  const descr: FieldSpec = { name: 'descr', type: 'string', default: '', allowEmpty: true };
  return { iface, address, port, target, bool, descr };
}

export function natEndpoints(ctx: AreaContext): Record<string, Endpoint> {
  const f = fields(ctx);
  const stamp = (row: Row, original: Row | null, caller: () => string): Row => ({
    ...row,
    created_time: original?.created_time ?? ctx.now(),
    created_by: original?.created_by ?? caller(),
    updated_time: ctx.now(),
    updated_by: caller(),
  });

  const portForward: ModelSpec = {
    fields: [
      f.iface({ groups: true }),
      { name: 'ipprotocol', type: 'string', default: 'inet', choices: ['inet', 'inet6', 'inet46'] },
      {
        name: 'protocol',
        type: 'string',
        required: true,
        choices: ['any', 'tcp', 'udp', 'tcp/udp', 'icmp', 'esp', 'ah', 'gre', 'ipv6', 'igmp', 'pim', 'ospf'],
      },
      f.address('source'),
      f.port('source_port'),
      f.address('destination'),
      f.port('destination_port'),
      f.target('target', { alias: true }),
      f.port('local_port', { required: true }),
      f.bool('disabled'),
      f.bool('nordr'),
      f.bool('nosync'),
      f.descr,
      {
        name: 'natreflection',
        type: 'string',
        default: null,
        allowNull: true,
        choices: ['enable', 'disable', 'purenat'],
      },
      { name: 'associated_rule_id', type: 'string', default: '', allowEmpty: true },
      // `editable: false` (`Models/PortForward.inc:172-178`): clients send it back to guard a PATCH.
      { name: 'created_time', type: 'integer', readOnly: true, notEditable: true },
      { name: 'created_by', type: 'string', readOnly: true },
      { name: 'updated_time', type: 'integer', readOnly: true },
      { name: 'updated_by', type: 'string', readOnly: true },
    ],
  };
  const outbound: ModelSpec = {
    // `validate_target_subnet()` (`Models/OutboundNATMapping.inc:222-240`): at most 32 for an IPv4 target.
    extra: (row) => {
      if (typeof row.target === 'string' && isIpv4(row.target) && typeof row.target_subnet === 'number' && row.target_subnet > 32) {
        throw new PfRestError(
          400,
          'OUTBOUND_NAT_MAPPING_TARGET_SUBNET_TOO_LARGE_FOR_IPV4',
          "Field 'target_subnet' must be 32 or less when 'target' is an IPv4 address.",
        );
      }
    },
    fields: [
      f.iface({ groups: true }),
      {
        name: 'protocol',
        type: 'string',
        default: null,
        allowNull: true,
        choices: ['tcp', 'udp', 'tcp/udp', 'icmp', 'esp', 'ah', 'gre', 'ipv6', 'igmp', 'pim', 'ospf'],
      },
      f.bool('disabled'),
      f.bool('nonat'),
      f.bool('nosync'),
      f.address('source'),
      f.port('source_port', { always: true }),
      f.address('destination'),
      f.port('destination_port', { always: true }),
      { ...f.target('target', { alias: true }), conditions: { nonat: [false] } },
      {
        name: 'target_subnet',
        type: 'integer',
        default: 128,
        minimum: 1,
        maximum: 128,
        conditions: { nonat: [false] },
      },
      {
        name: 'nat_port',
        type: 'string',
        default: '',
        allowEmpty: true,
        conditions: { static_nat_port: [false], nonat: [false] },
      },
      { ...f.bool('static_nat_port'), conditions: { nonat: [false] } },
      {
        name: 'poolopts',
        type: 'string',
        default: null,
        allowNull: true,
        choices: [
          'round-robin',
          'round-robin sticky-address',
          'random',
          'random sticky-address',
          'source-hash',
          'bitmask',
        ],
        conditions: { nonat: [false] },
      },
      {
        name: 'source_hash_key',
        type: 'string',
        default: '',
        allowEmpty: true,
        conditions: { poolopts: ['source-hash'], nonat: [false] },
      },
      f.descr,
    ],
  };
  const oneToOne: ModelSpec = {
    fields: [
      f.iface(),
      f.bool('disabled'),
      f.bool('nobinat'),
      {
        name: 'natreflection',
        type: 'string',
        default: null,
        allowNull: true,
        choices: ['enable', 'disable'],
      },
      { name: 'ipprotocol', type: 'string', default: 'inet', choices: ['inet', 'inet6'] },
      f.target('external', { alias: false }),
      f.address('source'),
      f.address('destination'),
      f.descr,
    ],
  };
  const modeSpec: ModelSpec = {
    fields: [
      { name: 'mode', type: 'string', required: true, choices: ['automatic', 'hybrid', 'advanced', 'disabled'] },
    ],
  };

  let caller = '';
  const who = () => caller;
  const nat = () => ctx.box().nat;
  const portForwards = new Collection(
    collectionModel(portForward, {
      subsystem: 'natconf',
      items: () => nat().portForwards,
      replace: (items) => {
        nat().portForwards = items;
      },
      complete: (row, original) => stamp(row, original, who),
    }),
    ctx.effects,
  );
  const outbounds = new Collection(
    collectionModel(outbound, {
      subsystem: 'natconf',
      items: () => nat().outbound,
      replace: (items) => {
        nat().outbound = items;
      },
      // `validate_target_subnet()` returns null unless the target is an IP address or an alias (`:236-238`).
      complete: (row) =>
        typeof row.target === 'string' && row.target.endsWith(':ip') ? { ...row, target_subnet: null } : row,
    }),
    ctx.effects,
  );
  const oneToOnes = new Collection(
    collectionModel(oneToOne, {
      subsystem: 'natconf',
      items: () => nat().oneToOne,
      replace: (items) => {
        nat().oneToOne = items;
      },
    }),
    ctx.effects,
  );

  const withCaller = (endpoints: Record<string, Endpoint>): Record<string, Endpoint> =>
    Object.fromEntries(
      Object.entries(endpoints).map(([url, e]) => [
        url,
        {
          ...e,
          handle: (r) => {
            caller = `${r.caller.user}@${r.caller.clientIp} (API)`;
            return e.handle(r);
          },
        },
      ]),
    );

  return {
    ...withCaller(crudEndpoints(`${NAT}/port_forward`, `${NAT}/port_forwards`, portForwards)),
    ...crudEndpoints(`${NAT}/outbound/mapping`, `${NAT}/outbound/mappings`, outbounds),
    ...crudEndpoints(`${NAT}/one_to_one/mapping`, `${NAT}/one_to_one/mappings`, oneToOnes),
    [`${NAT}/outbound/mode`]: {
      methods: ['GET', 'PATCH'],
      fields: ['mode'],
      handle: (r) => {
        if (r.method === 'PATCH') {
          const row = validateRow(modeSpec, { mode: r.data.mode ?? nat().outboundMode }, [], null, null);
          nat().outboundMode = row.mode as string;
          ctx.effects.markDirty('natconf');
          ctx.effects.persist();
        }
        return { mode: nat().outboundMode };
      },
    },
  };
}
