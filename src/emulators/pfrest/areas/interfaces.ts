/**
 * @module Interface assignments, VLANs, the interface apply and the DHCP servers (docs/reference/pfrest-emulator.md
 * §6.5, facts in docs/reference/brain-l3.md §1-§3). An interface write is configuration at once and live only after
 * `POST /api/v2/interface/apply`; a VLAN write is live at once; a DHCP server write marks `dhcpd`.
 *
 * Upstream (pfRest 805c7f0c): `Models/InterfaceVLAN.inc:15-155` (if required, not editable, must exist; tag 1-4094;
 * if+tag unique together; vlanif = if.tag), `Models/NetworkInterface.inc:25-1079` (if unique among the available
 * ports; descr a unique filter name no alias uses; typev4/ipaddr/subnet, typev6/ipaddrv6/subnetv6; ipaddr not the
 * network or broadcast address, not in use; `wan` cannot be deleted; a delete takes the interface's DHCP server,
 * rules and port forwards with it), `Models/InterfaceApply.inc:16-79` (`applied` from the pending-interfaces file,
 * which only creates and updates write), `Models/DHCPServer.inc:24-559` (id = interface id; enable needs a static
 * IPv4; range inside the interface's applied subnet, not its network/broadcast address, from ≤ to; gateway inside
 * the subnet; pool not overlapping a static mapping: 409), `Core/Model.inc:1425-1470` (unique together),
 * `:2236-2246` (a POST writes at `<config_path>/<id>`).
 */
import ipaddr from 'ipaddr.js';
import { Collection } from '../collection.ts';
import type { AreaContext, Endpoint, RequestContext } from '../endpoint.ts';
import { PfRestError } from '../envelope.ts';
import { isIpv4, isIpv6 } from '../names.ts';
import { readList, valueText } from '../query.ts';
import type { EmulatorInterface } from '../state.ts';
import { collectionModel, type ModelSpec, type Row, representRow, validateRow } from '../spec.ts';
import { crudEndpoints } from './crud.ts';

const invalid = (id: string, message: string) => new PfRestError(400, id, message);
const notFound = (id: unknown) =>
  new PfRestError(404, 'MODEL_OBJECT_NOT_FOUND', `Object with ID '${valueText(id)}' does not exist.`);
const requiresId = () => new PfRestError(400, 'MODEL_REQUIRES_ID', "Field 'id' is required.");

/** The fields the emulator keeps of NetworkInterface, in declaration order. */
const INTERFACE_FIELDS = ['if', 'enable', 'descr', 'typev4', 'ipaddr', 'subnet', 'typev6', 'ipaddrv6', 'subnetv6'];

/** The interface's address as last applied (what `get_interface_ip()` reports), or null. */
export function appliedAddress(i: EmulatorInterface): { ipaddr: string; subnet: number } | null {
  if (i.live !== undefined) return i.live;
  return isIpv4(i.ipaddr) ? { ipaddr: i.ipaddr, subnet: i.subnet } : null;
}

function cidrOf(address: { ipaddr: string; subnet: number }): [ipaddr.IPv4, number] {
  return [ipaddr.IPv4.parse(address.ipaddr), address.subnet];
}

const v4 = (text: string): number => ipaddr.IPv4.parse(text).toByteArray().reduce((n, b) => n * 256 + b, 0);

export function interfaceEndpoints(ctx: AreaContext): Record<string, Endpoint> {
  const box = () => ctx.box();

  // --- VLANs ---------------------------------------------------------------------------------------------------
  const vlanModel: ModelSpec = {
    fields: [
      {
        name: 'if',
        type: 'string',
        required: true,
        notEditable: true,
        maxLength: 32,
        check: (v) => {
          if (!box().hardwarePorts.includes(v as string)) {
            throw invalid('VLAN_INTERFACE_PARENT_NOT_FOUND', `Parent interface \`${String(v)}\` does not exist.`);
          }
        },
      },
      { name: 'tag', type: 'integer', required: true, minimum: 1, maximum: 4094 },
      { name: 'vlanif', type: 'string', default: '', allowEmpty: true, readOnly: true },
      { name: 'pcp', type: 'integer', default: null, allowNull: true, minimum: 0, maximum: 7 },
      { name: 'descr', type: 'string', default: '', allowEmpty: true },
    ],
    extra: (row, others) => {
      const twin = others.findIndex((o) => o.if === row.if && o.tag === row.tag);
      if (twin >= 0) {
        // `others` leaves the object itself out, so a later position is one further in the stored list.
        const id = box().vlans.indexOf(others[twin] as Row);
        throw invalid(
          'MODEL_FIELDS_NOT_UNIQUE_TOGETHER',
          `Fields [if, tag] together must be unique from all other objects of its kind. Values in use by object with ID \`${id}\`.`,
        );
      }
    },
  };
  const vlans = new Collection(
    collectionModel(vlanModel, {
      // `always_apply`: the VLAN device is created, changed or destroyed with the write; no subsystem.
      subsystem: null,
      items: () => box().vlans,
      replace: (items) => {
        box().vlans = items;
      },
      complete: (row) => ({ ...row, vlanif: `${String(row.if)}.${String(row.tag)}` }),
    }),
    ctx.effects,
  );

  // --- Interfaces ----------------------------------------------------------------------------------------------
  /** `get_interface_ports`: the hardware ports and every VLAN device. */
  const availablePorts = () => [...box().hardwarePorts, ...box().vlans.map((v) => String(v.vlanif))];

  const interfaceModel = (self: EmulatorInterface | null): ModelSpec => ({
    fields: [
      {
        name: 'if',
        type: 'string',
        required: true,
        unique: true,
        maxLength: 128,
        check: (v) => {
          if (!availablePorts().includes(v as string)) {
            throw invalid('FIELD_INVALID_CHOICE', `Field 'if' must be one of [${availablePorts().join(', ')}]`);
          }
        },
      },
      { name: 'enable', type: 'boolean', default: false },
      {
        name: 'descr',
        type: 'string',
        required: true,
        unique: true,
        maxLength: 128,
        check: (v) => {
          const name = v as string;
          if (!/^[A-Za-z0-9_]+$/.test(name)) {
            throw invalid(
              'FILTER_NAME_VALIDATOR_INVALID_CHARACTERS',
              `Field 'descr' cannot be '${name}' because it contains invalid characters. Only A-Z, a-z, 0-9, and _ are allowed.`,
            );
          }
          if (box().aliases.some((a) => a.name === name)) {
            throw invalid(
              'UNIQUE_FROM_FOREIGN_MODEL_VALIDATOR_FAILED',
              `Field 'descr' must be unique from FirewallAlias field 'name'. Value '${name}' is in use.`,
            );
          }
        },
      },
      { name: 'typev4', type: 'string', required: true, choices: ['static', 'dhcp', 'none'] },
      {
        name: 'ipaddr',
        type: 'string',
        required: true,
        conditions: { typev4: ['static', 'dhcp'] },
        check: (v, row) => {
          const address = v as string;
          if (row.typev4 !== 'static') return;
          if (!isIpv4(address)) {
            throw invalid(
              'INTERFACE_IPADDR_NOT_IPV4_WHEN_STATIC',
              'Interface `ipaddr` must be an IPv4 address when `typev4` is set to `static`',
            );
          }
          const inUse = box().interfaces.some((i) => i.id !== self?.id && i.ipaddr === address);
          if (inUse) {
            throw invalid(
              'INTERFACE_IPADDR_ALREADY_IN_USE',
              `Interface \`ipaddr\` cannot use '${address}' because it is currently in use`,
            );
          }
          const bits = typeof row.subnet === 'number' ? row.subnet : 32;
          if (bits < 31) {
            const cidr = `${address}/${bits}`;
            if (ipaddr.IPv4.networkAddressFromCIDR(cidr).toString() === address) {
              throw invalid(
                'NETWORK_INTERFACE_IPADDR_CANNOT_USE_NETWORK_ADDRESS',
                `Interface 'ipaddr' cannot use '${address}' because it is the network address`,
              );
            }
            if (ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString() === address) {
              throw invalid(
                'NETWORK_INTERFACE_IPADDR_CANNOT_USE_BROADCAST_ADDRESS',
                `Interface 'ipaddr' cannot use '${address}' because it is the broadcast address`,
              );
            }
          }
        },
      },
      {
        name: 'subnet',
        type: 'integer',
        required: true,
        minimum: 1,
        maximum: 32,
        conditions: { typev4: ['static'] },
        check: (v) => {
          const server = self ? box().dhcpServers[self.id] : undefined;
          if ((v as number) > 30 && server?.enable === true) {
            throw invalid(
              'NETWORK_INTERFACE_SUBNET_MAXIMUM_EXCEEDED_WHILE_DHCP_SERVER_ENABLED',
              "Field 'subnet' cannot be greater than 30 while a DHCP server is enabled on this interface.",
            );
          }
        },
      },
      {
        name: 'typev6',
        type: 'string',
        default: null,
        allowNull: true,
        choices: ['staticv6', 'dhcp6', 'slaac', '6rd', 'track6', '6to4', 'none'],
      },
      {
        name: 'ipaddrv6',
        type: 'string',
        required: true,
        conditions: { typev6: ['staticv6'] },
        check: (v) => {
          if (!isIpv6(v as string) || ipaddr.IPv6.parse(v as string).range() === 'linkLocal') {
            throw invalid(
              'IP_ADDRESS_VALIDATOR_FAILED',
              `Field 'ipaddrv6' must be a valid IPv6 address, received '${String(v)}'.`,
            );
          }
        },
      },
      { name: 'subnetv6', type: 'integer', required: true, minimum: 1, maximum: 128, conditions: { typev6: ['staticv6'] } },
    ],
    extra: (row) => {
      const server = self ? box().dhcpServers[self.id] : undefined;
      if (row.typev4 !== 'static' && server?.enable === true) {
        throw invalid(
          'NETWORK_INTERFACE_CANNOT_CHANGE_TYPEV4_WHILE_DHCP_SERVER_ENABLED',
          "Field 'typev4' cannot be changed from 'static' while a DHCP server is enabled on this interface.",
        );
      }
    },
  });

  const represent = (i: EmulatorInterface): Row & { id: string } => {
    const out: Row & { id: string } = { id: i.id };
    for (const field of INTERFACE_FIELDS) out[field] = (i as unknown as Row)[field] ?? null;
    return out;
  };
  const rowsOf = () => box().interfaces.map(represent);

  /** `get_next_id`: `lan` if free, else the first free `optN`. */
  const nextId = () => {
    const taken = new Set(box().interfaces.map((i) => i.id));
    if (!taken.has('lan')) return 'lan';
    for (let n = 1; ; n++) if (!taken.has(`opt${n}`)) return `opt${n}`;
  };

  /** `serialize_changes`: the interface waits for `/interface/apply`, its applied address kept until then. */
  const stage = (stored: EmulatorInterface, before: EmulatorInterface | null) => {
    stored.live = before ? appliedAddress(before) : null;
    if (!box().pendingInterfaces.includes(stored.id)) box().pendingInterfaces.push(stored.id);
    ctx.effects.markDirty('interfaces');
  };

  const interfaceOne: Endpoint = {
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    fields: INTERFACE_FIELDS,
    handle: (r: RequestContext) => {
      const { id, ...data } = r.data;
      if (r.method === 'POST') {
        const others = rowsOf();
        const row = validateRow(interfaceModel(null), data, others, null, null);
        const stored = { ...(row as unknown as EmulatorInterface), id: nextId() };
        if (!r.controls.dryRun) {
          box().interfaces.push(stored);
          stage(stored, null);
          ctx.effects.persist();
        }
        return represent(stored);
      }
      if (id === undefined) throw requiresId();
      const index = box().interfaces.findIndex((i) => i.id === id);
      const found = box().interfaces[index];
      if (found === undefined) throw notFound(id);
      if (r.method === 'GET') return represent(found);
      if (r.method === 'PATCH') {
        const others = rowsOf();
        const merged = { ...represent(found), ...data };
        const row = validateRow(interfaceModel(found), merged, others, index, represent(found));
        const stored = { ...(row as unknown as EmulatorInterface), id: found.id };
        if (!r.controls.dryRun) {
          box().interfaces[index] = stored;
          stage(stored, found);
          ctx.effects.persist();
        }
        return represent(stored);
      }
      if (found.id === 'wan') {
        throw invalid('NETWORK_INTERFACE_WAN_CANNOT_BE_DELETED', 'Interface `wan` cannot be deleted.');
      }
      if (!r.controls.dryRun) {
        const b = box();
        b.interfaces.splice(index, 1);
        // The DHCP server, the rules and the port forwards of the interface go with it (`_delete()`).
        delete b.dhcpServers[found.id];
        delete b.dhcpStaticMappings[found.id];
        b.rules = b.rules.filter((rule) => !(Array.isArray(rule.interface) && rule.interface.length === 1 && rule.interface[0] === found.id));
        b.nat.portForwards = b.nat.portForwards.filter((pf) => pf.interface !== found.id);
        // Only creates and updates write the pending-interfaces file: a delete is down at once.
        b.pendingInterfaces = b.pendingInterfaces.filter((p) => p !== found.id);
        ctx.effects.markDirty('interfaces');
        ctx.effects.persist();
      }
      return represent(found);
    },
  };

  const interfaceApply: Endpoint = {
    methods: ['GET', 'POST'],
    fields: ['applied', 'pending_interfaces'],
    handle: (r) => {
      const b = box();
      // The answer is the status read before the apply ran (contract §7.9).
      const status = { applied: b.pendingInterfaces.length === 0, pending_interfaces: [...b.pendingInterfaces] };
      if (r.method === 'POST') {
        for (const i of b.interfaces) delete i.live;
        b.pendingInterfaces = [];
        ctx.clearSubsystem('interfaces');
      }
      return status;
    },
  };

  // --- DHCP servers --------------------------------------------------------------------------------------------
  const interfaceOf = (id: string) => box().interfaces.find((i) => i.id === id);

  const serverModel = (ifaceId: string): ModelSpec => {
    const iface = () => interfaceOf(ifaceId);
    const inSubnet = (address: string) => {
      const i = iface();
      const applied = i ? appliedAddress(i) : null;
      return applied !== null && ipaddr.IPv4.parse(address).match(cidrOf(applied));
    };
    const ipv4Check = (name: string) => (v: unknown) => {
      if (!isIpv4(v as string)) {
        throw invalid(
          'IP_ADDRESS_VALIDATOR_FAILED',
          `Field '${name}' must be a valid IPv4 address, received '${String(v)}'.`,
        );
      }
    };
    return {
      fields: [
        {
          name: 'enable',
          type: 'boolean',
          default: false,
          check: (v) => {
            if (v === true && iface()?.typev4 !== 'static') {
              throw invalid(
                'DHCP_SERVER_CANNOT_ENABLE_WITHOUT_STATIC_IPV4',
                `DHCP server cannot be enabled because interface \`${ifaceId}\` does not have a static IPv4 address assigned.`,
              );
            }
          },
        },
        {
          name: 'range_from',
          type: 'string',
          default: '',
          allowEmpty: true,
          maxLength: 15,
          check: (v, row) => {
            const from = v as string;
            ipv4Check('range_from')(from);
            const i = iface();
            const applied = i ? appliedAddress(i) : null;
            if (applied && ipaddr.IPv4.networkAddressFromCIDR(`${applied.ipaddr}/${applied.subnet}`).toString() === from) {
              throw invalid(
                'DHCP_SERVER_RANGE_FROM_CANNOT_BE_NETWORK_ADDRESS',
                "DHCP server `range_from` cannot be the interface subnet's network address.",
              );
            }
            if (typeof row.range_to === 'string' && isIpv4(row.range_to) && v4(from) > v4(row.range_to)) {
              throw invalid(
                'DHCP_SERVER_RANGE_FROM_CANNOT_BE_GREATER_THAN_RANGE_TO',
                'DHCP server `range_from` cannot be greater than `range_to`.',
              );
            }
            if (!inSubnet(from)) {
              throw invalid(
                'DHCP_SERVER_RANGE_FROM_OUTSIDE_OF_SUBNET',
                "DHCP server `range_from` must lie within the interface's subnet.",
              );
            }
          },
        },
        {
          name: 'range_to',
          type: 'string',
          default: '',
          allowEmpty: true,
          maxLength: 15,
          check: (v) => {
            const to = v as string;
            ipv4Check('range_to')(to);
            const i = iface();
            const applied = i ? appliedAddress(i) : null;
            if (applied && ipaddr.IPv4.broadcastAddressFromCIDR(`${applied.ipaddr}/${applied.subnet}`).toString() === to) {
              throw invalid(
                'DHCP_SERVER_RANGE_FROM_CANNOT_BE_BROADCAST_ADDRESS',
                "DHCP server `range_to` cannot be the interface subnet's broadcast address.",
              );
            }
            if (!inSubnet(to)) {
              throw invalid(
                'DHCP_SERVER_RANGE_TO_OUTSIDE_OF_SUBNET',
                "DHCP server `range_to` must lie within the interface's subnet.",
              );
            }
          },
        },
        { name: 'domain', type: 'string', default: '', allowEmpty: true, maxLength: 255 },
        { name: 'defaultleasetime', type: 'integer', default: 7200, allowNull: true, minimum: 60 },
        {
          name: 'maxleasetime',
          type: 'integer',
          default: 86400,
          allowNull: true,
          minimum: 60,
          check: (v, row) => {
            if (typeof row.defaultleasetime === 'number' && (v as number) < row.defaultleasetime) {
              throw invalid(
                'DHCP_SERVER_MAX_LEASE_TIME_LESS_THAN_DEFAULT',
                'DHCP server `maxleasetime` cannot be less than the `defaultleasetime`',
              );
            }
          },
        },
        {
          name: 'gateway',
          type: 'string',
          default: '',
          allowEmpty: true,
          maxLength: 15,
          check: (v) => {
            if (v === 'none') return;
            ipv4Check('gateway')(v);
            if (!inSubnet(v as string)) {
              throw invalid('DHCP_SERVER_GATEWAY_NOT_WITHIN_SUBNET', "DHCP server `gateway` must be within interface's subnet.");
            }
          },
        },
        {
          name: 'dnsserver',
          type: 'string',
          many: true,
          default: [],
          allowEmpty: true,
          manyMaximum: 4,
          maxLength: 15,
          check: ipv4Check('dnsserver'),
        },
        { name: 'ignorebootp', type: 'boolean', default: false },
        { name: 'denyunknown', type: 'string', default: null, allowNull: true, allowEmpty: true, choices: ['enabled', 'class'] },
      ],
      extra: (row) => {
        if (typeof row.range_from !== 'string' || typeof row.range_to !== 'string') return;
        if (!isIpv4(row.range_from) || !isIpv4(row.range_to)) return;
        const [low, high] = [v4(row.range_from), v4(row.range_to)];
        const overlap = (box().dhcpStaticMappings[ifaceId] ?? []).findIndex((m) => {
          const ip = typeof m.ipaddr === 'string' && isIpv4(m.ipaddr) ? v4(m.ipaddr) : null;
          return ip !== null && ip >= low && ip <= high;
        });
        if (overlap >= 0) {
          throw new PfRestError(
            409,
            'DHCP_SERVER_PRIMARY_POOL_OVERLAPS_EXISTING_OBJECT',
            `This DHCP server's primary address pool overlaps with DHCP Server Static Mapping object with ID \`${overlap}\`. Adjust your \`range_from\` and \`range_to\` values.`,
          );
        }
      },
    };
  };
  const serverFields = ['interface', ...serverModel('').fields.map((f) => f.name)];
  const representServer = (ifaceId: string, row: Row): Row & { id: string } => {
    const { id: _id, ...fields } = representRow(serverModel(ifaceId), row, ifaceId);
    return { id: ifaceId, interface: ifaceId, ...fields };
  };

  const serverOne: Endpoint = {
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    fields: serverFields,
    handle: (r) => {
      const b = box();
      const { id, interface: named, ...data } = r.data;
      if (r.method === 'POST') {
        if (named === undefined) throw invalid('FIELD_IS_REQUIRED', "Field 'interface' is required.");
        if (typeof named !== 'string' || interfaceOf(named) === undefined) {
          throw invalid('FIELD_INVALID_CHOICE', `Field 'interface' must be one of [${b.interfaces.map((i) => i.id).join(', ')}]`);
        }
        const row = validateRow(serverModel(named), data, [], null, null);
        if (!r.controls.dryRun) {
          // A POST writes `dhcpd/<id>` whole: a server already there is replaced, its static mappings with it.
          b.dhcpServers[named] = row;
          b.dhcpStaticMappings[named] = [];
          ctx.effects.markDirty('dhcpd');
          ctx.effects.persist();
        }
        return representServer(named, row);
      }
      if (id === undefined) throw requiresId();
      const key = typeof id === 'string' ? id : valueText(id);
      const found = b.dhcpServers[key];
      if (found === undefined) throw notFound(id);
      if (r.method === 'GET') return representServer(key, found);
      if (r.method === 'PATCH') {
        const row = validateRow(serverModel(key), { ...found, ...data }, [], null, found);
        if (!r.controls.dryRun) {
          b.dhcpServers[key] = row;
          ctx.effects.markDirty('dhcpd');
          ctx.effects.persist();
        }
        return representServer(key, row);
      }
      if (!r.controls.dryRun) {
        delete b.dhcpServers[key];
        delete b.dhcpStaticMappings[key];
        ctx.effects.markDirty('dhcpd');
        ctx.effects.persist();
      }
      return representServer(key, found);
    },
  };

  const serverMany: Endpoint = {
    methods: ['GET', 'PUT'],
    fields: serverFields,
    handle: (r) => {
      if (r.method === 'PUT') {
        throw new PfRestError(405, 'ENDPOINT_METHOD_NOT_ALLOWED', 'The emulator does not replace every DHCP server.');
      }
      const rows = Object.entries(box().dhcpServers).map(([key, row]) => representServer(key, row));
      return readList(rows, r.data, serverFields, r.controls);
    },
  };

  return {
    ...crudEndpoints('/api/v2/interface/vlan', '/api/v2/interface/vlans', vlans, { put: false }),
    '/api/v2/interface': interfaceOne,
    '/api/v2/interfaces': {
      methods: ['GET', 'DELETE'],
      fields: INTERFACE_FIELDS,
      handle: (r) => {
        if (r.method === 'DELETE') {
          throw new PfRestError(405, 'ENDPOINT_METHOD_NOT_ALLOWED', 'The emulator deletes interfaces one at a time.');
        }
        return readList(rowsOf(), r.data, INTERFACE_FIELDS, r.controls);
      },
    },
    '/api/v2/interface/apply': interfaceApply,
    '/api/v2/services/dhcp_server': serverOne,
    '/api/v2/services/dhcp_servers': serverMany,
  };
}
