/**
 * @module The pfRest v2 emulator: an HTTPS server on loopback that answers like pfSense with the pfRest package
 * (pfrest-contract.md), plus test hooks under `/__emulator/` (state, request log, reset, faults, keys, states).
 *
 * Request pipeline in pfRest's order (§3): nginx 404 for unknown paths → API enabled (503) → auth (401/403) →
 * Accept (406) → method (405) → decode (415/400) → control parameters → model operation.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { privilegeFor } from '../../adapters/pfsense/privileges.ts';
import { type EmulatorCertificate, generateCertificate } from '../tls.ts';
import { Collection, type CollectionModel, type WriteEffects } from './collection.ts';
import { checkAccept, decodeRequest, type RequestData } from './decode.ts';
import { type Envelope, errorEnvelope, PfRestError, phpJsonEncode, successEnvelope } from './envelope.ts';
import {
  ALIAS_FIELDS,
  aliasRepresentation,
  RULE_FIELDS,
  ruleRepresentation,
  validateAlias,
  validateRule,
} from './models.ts';
import { type Controls, extractControls, readList } from './query.ts';
import {
  type EmulatorInterface,
  type EmulatorKey,
  initialState,
  type KeyHashAlgo,
  keyHash,
  type LiveState,
  loadState,
  type PfRestSettings,
  type PfRestState,
  type StoredAlias,
  type StoredRule,
  SUBSYSTEMS,
  saveState,
  sha256Hex,
  signJwt,
  verifyJwt,
} from './state.ts';

export interface PfRestEmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** How long a filter reload takes (async apply stays pending meanwhile; sync apply blocks). Default 0. */
  applyDelayMs?: number;
  /** The API key to accept (owner: admin, `page-all`); default a random 48-hex-digit key. */
  apiKey?: string;
  /** JSON file the configuration survives restarts in. */
  stateFile?: string;
  /** TLS material; default a fresh self-signed certificate for localhost, 127.0.0.1 and ::1. */
  certificate?: EmulatorCertificate;
}

export const FAULT_KINDS = [
  'status',
  'hang',
  'stall-body',
  'drop',
  'non-json',
  'package-absent',
  'key-auth-disabled',
  'raw',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** How many matching requests it affects; default 1. */
  times?: number;
  /** For `status`: the HTTP status of the enveloped error (default 500); for `raw`: the status line (default 200). */
  status?: number;
  /** For `raw`: the exact body and content type to answer with (e.g. JSON without the envelope, a login page). */
  body?: string;
  contentType?: string;
  /** Only requests whose path starts with this (e.g. `/api/v2/firewall/alias`). */
  path?: string;
  /** Only requests with this method. */
  method?: string;
}

export interface RequestRecord {
  seq: number;
  time: string;
  method: string;
  path: string;
  query: string;
  /** Which credential kind was presented (never the credential itself). */
  auth: 'key' | 'basic' | 'bearer' | 'none';
  contentType: string | null;
  accept: string | null;
  body: unknown;
  status: number | null;
  responseId: string | null;
  fault: FaultKind | null;
}

export interface PfRestEmulator {
  url: string;
  port: number;
  apiKey: string;
  /** SHA-256 certificate fingerprint, `AA:BB:…`. */
  fingerprint: string;
  /** PEM that trusts the emulator's certificate (use as a CA bundle). */
  caPem: string;
  close(): Promise<void>;
  /** A deep copy of the emulated box (configured aliases, live tables, pending flags, states…). */
  state(): PfRestState;
  requests(): RequestRecord[];
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /** Back to a fresh box; the configured API key stays valid. */
  reset(): void;
  /** Issues a key for a new user holding exactly `privileges`; returns the key. */
  addKey(privileges: string[]): string;
  /** Replaces the live state table. */
  setStates(states: LiveState[]): void;
  /** Changes REST API settings the way an admin would in the GUI (e.g. `enabled: false`, `read_only: true`). */
  updateSettings(settings: Partial<PfRestSettings>): void;
}

interface Caller {
  user: string;
  clientIp: string;
}

interface RequestContext {
  method: string;
  data: RequestData;
  list: unknown[] | null;
  controls: Controls;
  caller: Caller;
}

interface Endpoint {
  methods: readonly string[];
  fields: readonly string[];
  defaultLimit?: number;
  /** Auth methods this endpoint pins, whatever the global setting (§4: `/auth/key` is BasicAuth only). */
  authMethods?: readonly string[];
  handle(ctx: RequestContext): unknown;
}

const MAX_LOGGED_REQUESTS = 10_000;

const NGINX_404 =
  '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

const FAULT_STATUS_IDS: Record<number, [string, string]> = {
  400: ['FIELD_INVALID_TYPE', 'Injected validation failure.'],
  401: ['AUTH_AUTHENTICATION_FAILED', 'Authentication failed.'],
  403: [
    'AUTH_AUTHORIZATION_FAILED',
    'Authorization failed. You do not have sufficient privileges to access this resource.',
  ],
  404: ['MODEL_OBJECT_NOT_FOUND', 'Object with ID `0` does not exist.'],
  409: [
    'MODEL_CANNOT_BE_DELETED_WHILE_REFERENCED',
    'Object cannot be deleted because it is referenced by another existing object.',
  ],
  500: ['ENDPOINT_RECEIVED_UNEXPECTED_ERROR', 'Injected failure\n#0 {main}'],
  503: ['MODEL_WRITE_CONFIG_LOCKED', 'Config write lock could not be obtained.'],
};

const KEY_FIELDS = ['username', 'hash_algo', 'length_bytes', 'hash', 'descr'] as const;

function keyRepresentation(k: EmulatorKey, id: number): Record<string, unknown> & { id: number } {
  return {
    id,
    username: k.username,
    hash_algo: k.hash_algo ?? 'sha256',
    length_bytes: k.length_bytes ?? 24,
    hash: k.hash,
    descr: k.descr,
  };
}

/** pfSense's default state table size on a small box. */
const DEFAULT_MAXIMUM_STATES = 396_000;

const INTERFACE_STATS_FIELDS = [
  'name',
  'descr',
  'hwif',
  'macaddr',
  'mtu',
  'enable',
  'status',
  'ipaddr',
  'subnet',
  'linklocal',
  'ipaddrv6',
  'subnetv6',
  'inerrs',
  'outerrs',
  'collisions',
  'inbytes',
  'inbytespass',
  'outbytes',
  'outbytespass',
  'inpkts',
  'inpktspass',
  'outpkts',
  'outpktspass',
  'dhcplink',
  'media',
  'gateway',
  'gatewayv6',
] as const;

/** `GET /status/interfaces` row (§7.7): live view of a configured interface; counters start at zero. */
function interfaceStats(i: EmulatorInterface, id: number): Record<string, unknown> & { id: number } {
  const mac = `58:9c:fc:00:00:${id.toString(16).padStart(2, '0')}`;
  return {
    id,
    name: i.id,
    descr: i.descr,
    hwif: i.if,
    macaddr: mac,
    mtu: '1500',
    enable: i.enable,
    status: i.enable ? 'up' : 'down',
    ipaddr: i.typev4 === 'static' ? i.ipaddr : '',
    subnet: i.typev4 === 'static' ? String(i.subnet) : '',
    linklocal: '',
    ipaddrv6: '',
    subnetv6: '',
    inerrs: 0,
    outerrs: 0,
    collisions: 0,
    inbytes: 0,
    inbytespass: 0,
    outbytes: 0,
    outbytespass: 0,
    inpkts: 0,
    inpktspass: 0,
    outpkts: 0,
    outpktspass: 0,
    dhcplink: i.typev4 === 'dhcp' ? 'up' : '',
    media: 'Ethernet autoselect (1000baseT <full-duplex>)',
    gateway: '',
    gatewayv6: '',
  };
}

const STATE_FIELDS = [
  'interface',
  'protocol',
  'direction',
  'source',
  'destination',
  'state',
  'age',
  'expires_in',
  'packets_total',
  'packets_in',
  'packets_out',
  'bytes_total',
  'bytes_in',
  'bytes_out',
] as const;

/** The IP part of a state's `source`/`destination` (`1.2.3.4:80`, `[2001:db8::1]:443`, `2001:db8::1[443]`). */
function stateIp(endpoint: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(endpoint) ?? /^([0-9a-fA-F:]+)\[\d+\]$/.exec(endpoint);
  if (bracketed) return bracketed[1] as string;
  const v4 = /^(\d+\.\d+\.\d+\.\d+)(?::\d+)?$/.exec(endpoint);
  return v4 ? (v4[1] as string) : endpoint;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function authKind(req: IncomingMessage): RequestRecord['auth'] {
  if (req.headers['x-api-key'] !== undefined) return 'key';
  const authorization = req.headers.authorization ?? '';
  if (/^basic /i.test(authorization)) return 'basic';
  if (/^bearer /i.test(authorization)) return 'bearer';
  return 'none';
}

export async function startPfRestEmulator(opts: PfRestEmulatorOptions = {}): Promise<PfRestEmulator> {
  const certificate = opts.certificate ?? (await generateCertificate());
  const applyDelayMs = opts.applyDelayMs ?? 0;
  const apiKey = opts.apiKey ?? randomBytes(24).toString('hex');
  let box: PfRestState = (opts.stateFile ? loadState(opts.stateFile) : null) ?? initialState();
  const log: RequestRecord[] = [];
  const faults: Array<Required<Pick<FaultSpec, 'kind' | 'times'>> & FaultSpec> = [];
  const sockets = new Set<Socket>();
  let reloadsInFlight = 0;
  /** Pending reload completions, cancelled by close(). */
  const reloadTimers = new Set<NodeJS.Timeout>();
  let keySeq = 0;
  let requestSeq = 0;

  const ensureKey = (key: string, username: string): void => {
    const hash = sha256Hex(key);
    if (!box.keys.some((k) => k.hash === hash))
      box.keys.push({ hash, username, descr: 'portcullis lab key' });
  };
  ensureKey(apiKey, 'admin');

  const persist = (): void => {
    if (opts.stateFile) saveState(opts.stateFile, box);
  };
  persist();

  /** Live pf tables from a configuration snapshot: nested aliases expanded, port aliases are not tables. */
  const computeTables = (aliases: StoredAlias[]): Record<string, string[]> => {
    const byName = new Map(aliases.map((a) => [a.name, a]));
    const expand = (alias: StoredAlias, seen: Set<string>): string[] =>
      alias.address.flatMap((entry) => {
        const nested = byName.get(entry);
        if (nested === undefined) return [entry];
        if (seen.has(entry)) return [];
        return expand(nested, new Set([...seen, entry]));
      });
    const tables: Record<string, string[]> = {};
    for (const alias of aliases)
      if (alias.type !== 'port') tables[alias.name] = [...new Set(expand(alias, new Set([alias.name])))];
    return tables;
  };

  /**
   * A filter reload (`filter_configure[_sync]`): reads the configuration when it starts, loads it when it ends,
   * then clears every filter subsystem flag — including flags a write set meanwhile (pfSense's real race).
   */
  const reload = (sync: boolean): Promise<void> => {
    if (reloadsInFlight >= 10) {
      throw new PfRestError(
        503,
        'DISPATCHER_TOO_MANY_QUEUED_PROCESSES',
        'Too many queued processes. Try again later.',
        {
          headers: { 'retry-after': '300' },
        },
      );
    }
    const snapshot = structuredClone(box.aliases);
    const finish = (): void => {
      box.tables = computeTables(snapshot);
      box.pending = box.pending.filter((s) => !(SUBSYSTEMS as readonly string[]).includes(s));
      reloadsInFlight--;
      persist();
    };
    reloadsInFlight++;
    if (applyDelayMs === 0) {
      finish();
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        reloadTimers.delete(timer);
        finish();
        resolve();
      }, applyDelayMs);
      reloadTimers.add(timer);
    });
    return sync ? done : Promise.resolve();
  };

  const effects: WriteEffects = {
    markDirty(subsystem) {
      if (!box.pending.includes(subsystem)) box.pending.push(subsystem);
    },
    async apply(subsystem, async) {
      await reload(!async);
      // The model clears its own flag right after starting the apply (§6.1).
      if (subsystem !== null) box.pending = box.pending.filter((s) => s !== subsystem);
      persist();
    },
    persist,
  };

  const aliasModel: CollectionModel<StoredAlias & Record<string, unknown>> = {
    fields: ALIAS_FIELDS,
    arrayFields: ['address', 'detail'],
    subsystem: 'aliases',
    minimum: 0,
    items: () => box.aliases as Array<StoredAlias & Record<string, unknown>>,
    replace: (items) => {
      box.aliases = items;
    },
    validate: (candidate, o) =>
      validateAlias(candidate, {
        aliases: o.context,
        selfIndex: o.selfIndex,
        original: o.original,
        interfaces: box.interfaces,
      }) as StoredAlias & Record<string, unknown>,
    represent: (item, id) => aliasRepresentation(item, id),
  };
  const aliases = new Collection(aliasModel, effects);

  let currentCaller: Caller = { user: '', clientIp: '' };
  const ruleModel: CollectionModel<StoredRule> = {
    fields: RULE_FIELDS,
    arrayFields: ['interface', 'icmptype', 'tcp_flags_out_of', 'tcp_flags_set'],
    subsystem: null,
    minimum: 1,
    items: () => box.rules,
    replace: (items) => {
      box.rules = items;
    },
    validate: (candidate, o) =>
      validateRule(candidate, {
        aliases: box.aliases,
        interfaces: box.interfaces,
        original: o.original,
        caller: currentCaller.user,
        clientIp: currentCaller.clientIp,
      }),
    represent: ruleRepresentation,
  };
  const rules = new Collection(ruleModel, effects);

  const applyStatus = () => {
    const pending = SUBSYSTEMS.filter((s) => box.pending.includes(s));
    return { applied: pending.length === 0, pending_subsystems: pending };
  };

  const stateRows = () => box.states.map((s, id) => ({ id, ...s }));

  const endpoints: Record<string, Endpoint> = {
    '/api/v2/system/version': {
      methods: ['GET'],
      fields: ['version', 'base', 'patch', 'buildtime'],
      handle: () => ({
        version: box.version.version,
        base: box.version.version.split('-')[0] ?? box.version.version,
        patch: box.version.patch,
        buildtime: box.version.buildtime,
      }),
    },
    '/api/v2/system/restapi/version': {
      methods: ['GET', 'PATCH'],
      fields: ['current_version', 'latest_version', 'update_available', 'available_versions'],
      handle: () => ({
        current_version: box.packageVersion,
        latest_version: box.packageVersion,
        update_available: false,
        available_versions: [box.packageVersion],
      }),
    },
    '/api/v2/system/restapi/settings': {
      methods: ['GET', 'PATCH'],
      fields: ['enabled', 'read_only', 'auth_methods', 'jwt_exp'],
      handle: (ctx) => {
        if (ctx.method === 'PATCH') {
          const { enabled, read_only: readOnly, auth_methods: authMethods, jwt_exp: jwtExp } = ctx.data;
          if (jwtExp !== undefined) {
            if (typeof jwtExp !== 'number' || !Number.isInteger(jwtExp) || jwtExp < 300 || jwtExp > 86_400) {
              throw new PfRestError(
                400,
                'NUMERIC_RANGE_VALIDATOR_MAXIMUM_CONSTRAINT',
                "Field 'jwt_exp' must be between 300 and 86400.",
              );
            }
            box.settings.jwt_exp = jwtExp;
          }
          if (typeof enabled === 'boolean') box.settings.enabled = enabled;
          if (typeof readOnly === 'boolean') box.settings.read_only = readOnly;
          if (Array.isArray(authMethods)) {
            for (const m of authMethods) {
              if (m !== 'BasicAuth' && m !== 'KeyAuth' && m !== 'JWTAuth') {
                throw new PfRestError(
                  400,
                  'FIELD_INVALID_CHOICE',
                  "Field 'auth_methods' must be one of [BasicAuth, KeyAuth, JWTAuth]",
                );
              }
            }
            box.settings.auth_methods = authMethods as string[];
          }
          persist();
        }
        return { ...box.settings };
      },
    },
    '/api/v2/auth/key': {
      methods: ['POST', 'DELETE'],
      fields: KEY_FIELDS,
      authMethods: ['BasicAuth'],
      handle: (ctx) => {
        if (ctx.method === 'DELETE') {
          const id = ctx.data.id;
          if (id === undefined || id === null) {
            throw new PfRestError(
              500,
              'MODEL_ID_REQUIRED_FOR_REFRESH',
              'An ID is required to refresh this object.',
            );
          }
          const found = typeof id === 'number' ? box.keys[id] : undefined;
          if (found === undefined)
            throw new PfRestError(
              404,
              'MODEL_OBJECT_NOT_FOUND',
              `Object with ID '${String(id)}' does not exist.`,
            );
          box.keys = box.keys.filter((k) => k !== found);
          persist();
          return keyRepresentation(found, id as number);
        }
        const lengthBytes = ctx.data.length_bytes ?? 24;
        const algo = ctx.data.hash_algo ?? 'sha256';
        if (typeof lengthBytes !== 'number' || ![16, 24, 32, 64].includes(lengthBytes)) {
          throw new PfRestError(
            400,
            'FIELD_INVALID_CHOICE',
            "Field 'length_bytes' must be one of [16, 24, 32, 64]",
          );
        }
        if (algo !== 'sha256' && algo !== 'sha384' && algo !== 'sha512') {
          throw new PfRestError(
            400,
            'FIELD_INVALID_CHOICE',
            "Field 'hash_algo' must be one of [sha256, sha384, sha512]",
          );
        }
        const descr = ctx.data.descr ?? '';
        if (typeof descr !== 'string')
          throw new PfRestError(400, 'FIELD_INVALID_TYPE', "Field 'descr' must be of type 'string'.");
        const key = randomBytes(lengthBytes).toString('hex');
        const hashAlgo = algo as KeyHashAlgo;
        const stored: EmulatorKey = {
          hash: keyHash(key, hashAlgo),
          hash_algo: hashAlgo,
          length_bytes: lengthBytes,
          username: ctx.caller.user,
          descr,
        };
        box.keys.push(stored);
        persist();
        // The only time the key is ever shown (§4).
        return { ...keyRepresentation(stored, box.keys.length - 1), key };
      },
    },
    '/api/v2/auth/jwt': {
      methods: ['POST'],
      fields: ['token'],
      authMethods: ['BasicAuth'],
      handle: (ctx) => ({ token: signJwt(box.jwtSecret, ctx.caller.user, box.settings.jwt_exp) }),
    },
    '/api/v2/auth/keys': {
      methods: ['GET', 'DELETE'],
      fields: KEY_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'DELETE')
          throw new PfRestError(
            400,
            'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
            'Deleting keys in bulk is not emulated.',
          );
        const rows = box.keys.map((k, id) => keyRepresentation(k, id));
        return readList(rows, ctx.data, KEY_FIELDS, ctx.controls);
      },
    },
    '/api/v2/firewall/alias': {
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      fields: ALIAS_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'GET') return aliases.readOne(ctx.data);
        if (ctx.method === 'POST') return aliases.create(ctx.data, ctx.controls);
        if (ctx.method === 'PATCH') return aliases.update(ctx.data, ctx.controls);
        return aliases.deleteOne(ctx.data, ctx.controls);
      },
    },
    '/api/v2/firewall/aliases': {
      methods: ['GET', 'PUT', 'DELETE'],
      fields: ALIAS_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'GET') return aliases.readMany(ctx.data, ctx.controls);
        if (ctx.method === 'PUT') return aliases.replaceAll(ctx.list ?? [], ctx.controls);
        return aliases.deleteMany(ctx.data, ctx.controls);
      },
    },
    '/api/v2/firewall/rule': {
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      fields: RULE_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'GET') return rules.readOne(ctx.data);
        if (ctx.method === 'POST') return rules.create(ctx.data, ctx.controls);
        if (ctx.method === 'PATCH') return rules.update(ctx.data, ctx.controls);
        return rules.deleteOne(ctx.data, ctx.controls);
      },
    },
    '/api/v2/firewall/rules': {
      methods: ['GET', 'PUT', 'DELETE'],
      fields: RULE_FIELDS,
      handle: (ctx) => {
        if (ctx.method === 'GET') return rules.readMany(ctx.data, ctx.controls);
        if (ctx.method === 'PUT') return rules.replaceAll(ctx.list ?? [], ctx.controls);
        return rules.deleteMany(ctx.data, ctx.controls);
      },
    },
    '/api/v2/firewall/apply': {
      methods: ['GET', 'POST'],
      fields: ['applied', 'pending_subsystems'],
      handle: async (ctx) => {
        if (ctx.method === 'POST') await reload(!ctx.controls.async);
        return applyStatus();
      },
    },
    '/api/v2/firewall/states': {
      methods: ['GET', 'DELETE'],
      fields: STATE_FIELDS,
      defaultLimit: 100,
      handle: (ctx) => {
        if (ctx.method === 'GET') return readList(stateRows(), ctx.data, STATE_FIELDS, ctx.controls);
        if (ctx.controls.all) {
          box.states = [];
          return [];
        }
        if (Object.keys(ctx.data).length === 0) {
          throw new PfRestError(
            400,
            'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
            'At least one query parameter is required to delete many objects.',
          );
        }
        const matched = readList(stateRows(), ctx.data, STATE_FIELDS, { ...ctx.controls, reverse: false });
        // Each match is killed by its source/destination pair (`pfctl -k src -k dst`), taking its siblings along.
        const pairs = new Set(
          matched.map((s) => `${stateIp(String(s.source))} ${stateIp(String(s.destination))}`),
        );
        box.states = box.states.filter((s) => !pairs.has(`${stateIp(s.source)} ${stateIp(s.destination)}`));
        return matched;
      },
    },
    '/api/v2/firewall/states/size': {
      methods: ['GET', 'PATCH'],
      fields: ['maximumstates', 'defaultmaximumstates', 'currentstates'],
      handle: (ctx) => {
        if (ctx.method === 'PATCH' && ctx.data.maximumstates !== undefined) {
          const max = ctx.data.maximumstates;
          if (typeof max !== 'number' || !Number.isInteger(max) || max < 10) {
            throw new PfRestError(
              400,
              'NUMERIC_RANGE_VALIDATOR_MINIMUM_CONSTRAINT',
              "Field 'maximumstates' must be an integer of at least 10.",
            );
          }
          box.maximumStates = max;
          persist();
        }
        return {
          maximumstates: box.maximumStates,
          defaultmaximumstates: DEFAULT_MAXIMUM_STATES,
          currentstates: box.states.length,
        };
      },
    },
    '/api/v2/status/interfaces': {
      methods: ['GET'],
      fields: INTERFACE_STATS_FIELDS,
      handle: (ctx) =>
        readList(
          box.interfaces.map((i, id) => interfaceStats(i, id)),
          ctx.data,
          INTERFACE_STATS_FIELDS,
          ctx.controls,
        ),
    },
    '/api/v2/interface': {
      methods: ['GET'],
      fields: ['if', 'descr', 'enable', 'typev4', 'ipaddr', 'subnet'],
      handle: (ctx) => {
        const found = box.interfaces.find((i) => i.id === ctx.data.id);
        if (ctx.data.id === undefined)
          throw new PfRestError(400, 'MODEL_REQUIRES_ID', "Field 'id' is required.");
        if (!found)
          throw new PfRestError(
            404,
            'MODEL_OBJECT_NOT_FOUND',
            `Object with ID '${String(ctx.data.id)}' does not exist.`,
          );
        return { ...found };
      },
    },
    '/api/v2/interfaces': {
      methods: ['GET', 'DELETE'],
      fields: ['if', 'descr', 'enable', 'typev4', 'ipaddr', 'subnet'],
      handle: (ctx) => {
        if (ctx.method === 'DELETE')
          throw new PfRestError(
            403,
            'MODEL_CANNOT_DELETE_PROTECTED_OBJECT',
            'Interfaces cannot be deleted in the emulator.',
          );
        return readList(
          box.interfaces.map((i) => ({ ...i })) as never,
          ctx.data,
          ['if', 'descr', 'enable', 'typev4', 'ipaddr', 'subnet'],
          ctx.controls,
        );
      },
    },
    '/api/v2/diagnostics/table': {
      methods: ['GET', 'DELETE'],
      fields: ['entries', 'name'],
      handle: (ctx) => {
        const name = String(ctx.data.id ?? '');
        const entries = box.tables[name];
        if (entries === undefined)
          throw new PfRestError(404, 'MODEL_OBJECT_NOT_FOUND', `Object with ID '${name}' does not exist.`);
        if (ctx.method === 'DELETE') box.tables[name] = [];
        return { id: name, entries: ctx.method === 'DELETE' ? [] : entries, name };
      },
    },
    '/api/v2/diagnostics/tables': {
      methods: ['GET'],
      fields: ['entries', 'name'],
      handle: (ctx) =>
        readList(
          Object.entries(box.tables).map(([name, entries]) => ({ id: name, entries, name })) as never,
          ctx.data,
          ['entries', 'name'],
          ctx.controls,
        ),
    },
  };

  /** Authentication then authorization (§4). Returns the user name. */
  const authorize = (
    req: IncomingMessage,
    url: string,
    method: string,
    keyAuthOff: boolean,
    pinned: readonly string[] | undefined,
  ): string => {
    const denied = (basic: boolean) =>
      new PfRestError(401, 'AUTH_AUTHENTICATION_FAILED', 'Authentication failed.', {
        headers: basic ? { 'www-authenticate': 'Basic realm="Login for pfSense REST API"' } : {},
      });
    const enabled = (pinned ?? box.settings.auth_methods).filter((m) => !(keyAuthOff && m === 'KeyAuth'));
    const authorization = req.headers.authorization ?? '';
    const requested = enabled.find((m) =>
      m === 'KeyAuth'
        ? req.headers['x-api-key'] !== undefined
        : m === 'BasicAuth'
          ? /^basic /i.test(authorization)
          : /^bearer /i.test(authorization),
    );
    let username: string | null = null;
    if (requested === 'KeyAuth') {
      const presented = String(req.headers['x-api-key']);
      username = box.keys.find((k) => k.hash === keyHash(presented, k.hash_algo))?.username ?? null;
    } else if (requested === 'JWTAuth') {
      username = verifyJwt(box.jwtSecret, authorization.replace(/^bearer\s+/i, '').trim());
    } else if (requested === 'BasicAuth') {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = box.users.find((u) => u.name === decoded.slice(0, colon));
      if (colon > 0 && user && user.passwordHash === sha256Hex(decoded.slice(colon + 1)))
        username = user.name;
      if (username === null) throw denied(true);
    }
    const user = box.users.find((u) => u.name === username);
    if (!user || user.disabled) throw denied(false);
    const privilege = privilegeFor(url, method);
    if (!user.privileges.includes('page-all') && !user.privileges.includes(privilege)) {
      throw new PfRestError(
        403,
        'AUTH_AUTHORIZATION_FAILED',
        'Authorization failed. You do not have sufficient privileges to access this resource.',
      );
    }
    return user.name;
  };

  const send = (
    res: ServerResponse,
    record: RequestRecord,
    envelope: Envelope,
    headers: Record<string, string> = {},
  ): void => {
    record.status = envelope.code;
    record.responseId = envelope.response_id;
    res.writeHead(envelope.code, { 'content-type': 'application/json', ...headers });
    res.end(phpJsonEncode(envelope));
  };

  const takeFault = (method: string, path: string): FaultSpec | null => {
    const index = faults.findIndex(
      (f) =>
        (f.path === undefined || path.startsWith(f.path)) && (f.method === undefined || f.method === method),
    );
    if (index < 0) return null;
    const fault = faults[index] as (typeof faults)[number];
    fault.times--;
    if (fault.times <= 0) faults.splice(index, 1);
    return fault;
  };

  const handleApi = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: string,
  ): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RequestRecord = {
      seq: ++requestSeq,
      time: new Date().toISOString(),
      method,
      path: url.pathname,
      query: url.search.slice(1),
      auth: authKind(req),
      contentType: req.headers['content-type'] ?? null,
      accept: req.headers.accept ?? null,
      body: null,
      status: null,
      responseId: null,
      fault: null,
    };
    try {
      record.body = body === '' ? null : JSON.parse(body);
    } catch {
      record.body = body;
    }
    log.push(record);
    // A long-running lab keeps the most recent requests only.
    if (log.length > MAX_LOGGED_REQUESTS) log.splice(0, log.length - MAX_LOGGED_REQUESTS);
    const fault = takeFault(method, url.pathname);
    record.fault = fault?.kind ?? null;
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'stall-body') {
      // Headers and the start of the envelope, then nothing: the client's body timeout must fire.
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"code":200,"status":"ok",');
      return;
    }
    if (fault?.kind === 'raw') {
      record.status = fault.status ?? 200;
      res.writeHead(record.status, { 'content-type': fault.contentType ?? 'application/json' });
      res.end(fault.body ?? '');
      return;
    }
    if (fault?.kind === 'non-json') {
      record.status = 200;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Warning: Undefined array key in /usr/local/pkg/RESTAPI/Core/Endpoint.inc on line 1\n');
      return;
    }
    const path = url.pathname.replace(/\/+$/, '');
    const endpoint = endpoints[path];
    if (fault?.kind === 'package-absent' || endpoint === undefined) {
      // No endpoint directory: nginx's own HTML 404, not the JSON envelope (§1).
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end(NGINX_404);
      return;
    }
    try {
      if (fault?.kind === 'status') {
        const status = fault.status ?? 500;
        const [id, message] = FAULT_STATUS_IDS[status] ?? [
          'ENDPOINT_RECEIVED_UNEXPECTED_ERROR',
          'Injected failure.',
        ];
        throw new PfRestError(status, id, message);
      }
      if (!box.settings.enabled)
        throw new PfRestError(
          503,
          'ENDPOINT_REST_API_IS_NOT_ENABLED',
          'The REST API is currently not enabled.',
        );
      let user = '';
      if (method === 'OPTIONS') {
        // OPTIONS skips auth, then the ACL check receives a null username: a PHP TypeError → 500 (§1).
        throw new PfRestError(
          500,
          'ENDPOINT_RECEIVED_UNEXPECTED_ERROR',
          'RESTAPI\\Models\\RESTAPIAccessListEntry::is_allowed_by_acl(): Argument #2 ($username) must be of type string, null given\n#0 {main}',
        );
      }
      user = authorize(req, path, method, fault?.kind === 'key-auth-disabled', endpoint.authMethods);
      checkAccept(req.headers.accept);
      if (!endpoint.methods.includes(method)) {
        throw new PfRestError(
          405,
          'ENDPOINT_METHOD_NOT_ALLOWED',
          `Resource at ${path} does not support the requested HTTP method '${method}'`,
        );
      }
      if (box.settings.read_only && method !== 'GET') {
        throw new PfRestError(
          405,
          'ENDPOINT_METHOD_NOT_ALLOWED_IN_READ_ONLY_MODE',
          'The REST API is in read-only mode; only GET requests are allowed.',
        );
      }
      const decoded = decodeRequest(method, req.headers['content-type'], url.search.slice(1), body);
      let list: unknown[] | null = null;
      let data: RequestData = {};
      if (method === 'PUT') {
        if (!Array.isArray(decoded)) {
          throw new PfRestError(
            400,
            'ENDPOINT_REQUEST_DATA_MUST_BE_INDEXED_ARRAY',
            'Request data must be an indexed array for this endpoint.',
          );
        }
        list = decoded;
      } else if (decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded)) {
        data = decoded as RequestData;
      }
      const prefer = String(req.headers.prefer ?? '').toLowerCase();
      const controls = extractControls(method, data, endpoint.fields, {
        preferDryRun: prefer.split(',').some((p) => p.trim() === 'dry-run'),
        defaultLimit: endpoint.defaultLimit ?? 0,
      });
      const clientIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      currentCaller = { user, clientIp };
      const result = await endpoint.handle({ method, data, list, controls, caller: currentCaller });
      send(res, record, successEnvelope(result ?? []));
    } catch (err) {
      const error =
        err instanceof PfRestError
          ? err
          : new PfRestError(
              500,
              'ENDPOINT_RECEIVED_UNEXPECTED_ERROR',
              `${(err as Error).message}\n#0 {main}`,
            );
      send(res, record, errorEnvelope(error), error.headers);
    }
  };

  const api: PfRestEmulator = {
    url: '',
    port: 0,
    apiKey,
    fingerprint: certificate.fingerprint256,
    caPem: certificate.certPem,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of reloadTimers) clearTimeout(timer);
        reloadTimers.clear();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    state: () => structuredClone(box),
    requests: () => structuredClone(log),
    injectFault: (fault) => {
      faults.push({ ...fault, times: fault.times ?? 1 });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    reset: () => {
      for (const timer of reloadTimers) clearTimeout(timer);
      reloadTimers.clear();
      reloadsInFlight = 0;
      box = initialState();
      ensureKey(apiKey, 'admin');
      log.length = 0;
      faults.length = 0;
      persist();
    },
    addKey: (privileges) => {
      keySeq++;
      const username = `api_user_${keySeq}_${randomBytes(3).toString('hex')}`;
      box.users.push({
        name: username,
        passwordHash: sha256Hex(randomBytes(16).toString('hex')),
        privileges,
        disabled: false,
      });
      const key = randomBytes(24).toString('hex');
      ensureKey(key, username);
      persist();
      return key;
    },
    setStates: (states) => {
      box.states = structuredClone(states);
    },
    updateSettings: (settings) => {
      box.settings = { ...box.settings, ...settings };
      persist();
    },
  };

  const hooks = async (req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<void> => {
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(value)}\n`);
    };
    const input = (): Record<string, unknown> =>
      body.trim() === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
    try {
      switch (route) {
        case 'GET /__emulator/state': {
          // The JWT signing secret stays inside the process even on the lab's open hooks.
          const { jwtSecret: _secret, ...visible } = api.state();
          return reply(200, visible);
        }
        case 'GET /__emulator/requests':
          return reply(200, api.requests());
        case 'DELETE /__emulator/requests':
          log.length = 0;
          return reply(200, { ok: true });
        case 'POST /__emulator/reset':
          api.reset();
          return reply(200, { ok: true });
        case 'POST /__emulator/faults': {
          const fault = input() as unknown as FaultSpec;
          if (!FAULT_KINDS.includes(fault.kind))
            return reply(400, { error: `kind must be one of ${FAULT_KINDS.join(', ')}` });
          api.injectFault(fault);
          return reply(200, { ok: true });
        }
        case 'DELETE /__emulator/faults':
          api.clearFaults();
          return reply(200, { ok: true });
        case 'POST /__emulator/keys': {
          const privileges = input().privileges;
          if (!Array.isArray(privileges) || !privileges.every((p) => typeof p === 'string')) {
            return reply(400, { error: 'privileges must be a list of strings' });
          }
          return reply(200, { key: api.addKey(privileges) });
        }
        case 'PATCH /__emulator/settings':
          api.updateSettings(input() as Partial<PfRestSettings>);
          return reply(200, box.settings);
        case 'PUT /__emulator/states': {
          const states = input().states;
          if (!Array.isArray(states)) return reply(400, { error: 'states must be a list' });
          api.setStates(states as LiveState[]);
          return reply(200, { ok: true });
        }
        default:
          return reply(404, { error: `no test hook ${route}` });
      }
    } catch (err) {
      return reply(400, { error: (err as Error).message });
    }
  };

  const server: Server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://emulator.invalid');
    readBody(req)
      .then((body) =>
        url.pathname.startsWith('/__emulator/') ? hooks(req, res, url, body) : handleApi(req, res, url, body),
      )
      .catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  api.port = port;
  api.url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return api;
}
