/**
 * @module The emulated pfSense box: configuration (aliases, rules, interfaces, REST API settings, users, keys),
 * pending subsystems, the live pf tables loaded by the last completed filter reload, and the live state table.
 * Configured and applied alias contents are kept apart on purpose (docs/reference/pfrest-contract.md §6.1).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { initialLive, type LiveViews } from './areas/live.ts';
import type { Row } from './spec.ts';

export interface StoredAlias {
  name: string;
  type: string;
  descr: string;
  address: string[];
  detail: string[];
}

/** A firewall rule as stored: every model field but `id` (the list position). */
export type StoredRule = Record<string, unknown> & { tracker: number };

export interface LiveState {
  interface: string;
  protocol: string;
  direction: string;
  source: string;
  destination: string;
  state: string;
  age: string;
  expires_in: string;
  packets_total: number;
  packets_in: number;
  packets_out: number;
  bytes_total: number;
  bytes_in: number;
  bytes_out: number;
}

interface EmulatorUser {
  name: string;
  /** sha256 hex of the password (the emulator never needs the plain text back). */
  passwordHash: string;
  privileges: string[];
  disabled: boolean;
}

type KeyHashAlgo = 'sha256' | 'sha384' | 'sha512';

export interface EmulatorKey {
  /** Hex digest of the key with `hash_algo`, as pfRest stores it (the key itself is never kept). */
  hash: string;
  /** Absent in older state files: sha256. */
  hash_algo?: KeyHashAlgo;
  length_bytes?: number;
  username: string;
  descr: string;
}

export interface EmulatorInterface {
  id: string;
  if: string;
  descr: string;
  enable: boolean;
  typev4: string;
  ipaddr: string;
  subnet: number;
  typev6?: string | null;
  ipaddrv6?: string | null;
  subnetv6?: number | null;
  /**
   * The IPv4 address live on the box while a written change waits for `/interface/apply` (null: none yet);
   * absent once applied, when the configured one is live (docs/reference/brain-l3.md §1.2).
   */
  live?: { ipaddr: string; subnet: number } | null;
}

export interface PfRestSettings {
  enabled: boolean;
  read_only: boolean;
  auth_methods: string[];
  /** JWT lifetime in seconds (300–86400, default 3600). */
  jwt_exp: number;
}

/** One subsystem flag per `/var/run/<name>.dirty`, listed in this order by GET /firewall/apply (§7.3). */
export const SUBSYSTEMS = ['aliases', 'natconf', 'filter', 'shaper'] as const;

export interface PfRestState {
  version: { version: string; patch: string; buildtime: string };
  packageVersion: string;
  settings: PfRestSettings;
  users: EmulatorUser[];
  keys: EmulatorKey[];
  interfaces: EmulatorInterface[];
  /** The box's network ports (`get_interface_ports` beside the VLAN devices). */
  hardwarePorts: string[];
  /** VLANs (`vlans/vlan`), rows in pfRest's representation order. */
  vlans: Row[];
  /** Interfaces written but not yet applied (the pending-interfaces file). */
  pendingInterfaces: string[];
  /** Interface group names (`ifgroups/ifgroupentry/ifname`): reserved for alias names (§2). */
  interfaceGroups: string[];
  aliases: StoredAlias[];
  rules: StoredRule[];
  /** Dirty subsystem flags. */
  pending: string[];
  /** Live pf tables (alias name → entries) as loaded by the last completed filter reload. */
  tables: Record<string, string[]>;
  states: LiveState[];
  /** HS256 secret the box signs JWTs with. */
  jwtSecret: string;
  /** `maximumstates` of `/firewall/states/size`. */
  maximumStates: number;
  /** Management areas (docs/reference/pfrest-emulator.md §6), rows in pfRest's representation order. */
  nat: { portForwards: Row[]; outbound: Row[]; outboundMode: string; oneToOne: Row[] };
  staticRoutes: Row[];
  /** Configured gateways (`RoutingGateway`). */
  gateways: Row[];
  hostOverrides: Row[];
  /** DHCP servers (`dhcpd/<interface id>`), keyed by their interface id. */
  dhcpServers: Record<string, Row>;
  /** DHCP static mappings per DHCP server, keyed by its interface id (the parent id). */
  dhcpStaticMappings: Record<string, Row[]>;
  /** What the box reports but does not configure (status, logs, power). */
  live: LiveViews;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function keyHash(key: string, algo: KeyHashAlgo = 'sha256'): string {
  return createHash(algo).update(key).digest('hex');
}

/** A fresh box: pfSense 2.8.1 with pfRest v2.10.0, WAN + LAN, user admin/pfsense, default pass rule on LAN. */
export function initialState(): PfRestState {
  const now = Math.floor(Date.now() / 1000);
  return {
    version: { version: '2.8.1-RELEASE', patch: '0', buildtime: 'Mon Jul 14 12:00:00 UTC 2025' },
    packageVersion: 'v2.10.0',
    // The package default is BasicAuth only (§4); the lab enables KeyAuth as the setup guide tells admins to.
    settings: { enabled: true, read_only: false, auth_methods: ['BasicAuth', 'KeyAuth'], jwt_exp: 3600 },
    jwtSecret: randomBytes(32).toString('hex'),
    maximumStates: 396_000,
    users: [{ name: 'admin', passwordHash: sha256Hex('pfsense'), privileges: ['page-all'], disabled: false }],
    keys: [],
    interfaces: [
      { id: 'wan', if: 'vtnet0', descr: 'WAN', enable: true, typev4: 'dhcp', ipaddr: 'dhcp', subnet: 24 },
      {
        id: 'lan',
        if: 'vtnet1',
        descr: 'LAN',
        enable: true,
        typev4: 'static',
        ipaddr: '192.168.1.1',
        subnet: 24,
      },
    ],
    hardwarePorts: ['vtnet0', 'vtnet1', 'vtnet2'],
    vlans: [],
    pendingInterfaces: [],
    interfaceGroups: [],
    aliases: [],
    rules: [
      {
        type: 'pass',
        interface: ['lan'],
        ipprotocol: 'inet',
        protocol: null,
        icmptype: null,
        source: 'lan',
        source_port: null,
        destination: 'any',
        destination_port: null,
        descr: 'Default allow LAN to any rule',
        disabled: false,
        log: false,
        dscp: null,
        tag: '',
        statetype: 'keep state',
        tcp_flags_any: false,
        tcp_flags_out_of: null,
        tcp_flags_set: null,
        gateway: null,
        sched: null,
        dnpipe: null,
        pdnpipe: null,
        defaultqueue: null,
        ackqueue: null,
        floating: false,
        quick: null,
        direction: null,
        tracker: 0o100000101,
        associated_rule_id: null,
        created_time: now,
        created_by: 'admin@192.168.1.100 (Local Database)',
        updated_time: now,
        updated_by: 'admin@192.168.1.100 (Local Database)',
      },
    ],
    pending: [],
    tables: {},
    states: [],
    nat: { portForwards: [], outbound: [], outboundMode: 'automatic', oneToOne: [] },
    staticRoutes: [],
    gateways: [
      {
        name: 'WAN_DHCP',
        descr: 'Interface WAN_DHCP Gateway',
        disabled: false,
        ipprotocol: 'inet',
        interface: 'wan',
        gateway: 'dynamic',
        monitor_disable: false,
        monitor: null,
        weight: 1,
      },
    ],
    hostOverrides: [],
    dhcpServers: {
      lan: {
        enable: true,
        range_from: '192.168.1.100',
        range_to: '192.168.1.199',
        domain: '',
        defaultleasetime: 7200,
        maxleasetime: 86400,
        gateway: '',
        dnsserver: [],
        ignorebootp: false,
        denyunknown: null,
      },
    },
    dhcpStaticMappings: { lan: [] },
    live: initialLive(),
  };
}

export function loadState(file: string): PfRestState | null {
  try {
    return { ...initialState(), ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<PfRestState>) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes atomically (temp file + rename) so a crash never leaves half a state file. */
export function saveState(file: string, state: PfRestState): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file);
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** An HS256 JWT for `username`, as `POST /api/v2/auth/jwt` issues it (§4). */
export function signJwt(secret: string, username: string, lifetimeSeconds: number, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const head = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }))}.${b64url(JSON.stringify({ iss: 'pfsense', iat, nbf: iat, exp: iat + lifetimeSeconds, data: username }))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** The username of a valid, unexpired token, else null. */
export function verifyJwt(secret: string, token: string, now = Date.now()): string | null {
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return null;
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      exp?: unknown;
      data?: unknown;
    };
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now || typeof claims.data !== 'string')
      return null;
    return claims.data;
  } catch {
    return null;
  }
}
