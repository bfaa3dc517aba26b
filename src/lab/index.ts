/**
 * @module The emulated lab of `npm start` (docs/lab.md, ADR 0101, ADR 0211): when the embedded store has no
 * gateway, the server starts the chosen vendors' emulators (`PORTCULLIS_LAB_VENDORS`, src/lab/vendors.ts)
 * in-process on loopback, registers once per vendor — through the same services as the API — a site `lab`, a
 * gateway `lab-<vendor>` pinned by its emulator's certificate fingerprint and a demo knoc assigned to the owner,
 * and lets exactly those `127.0.0.1:<port>` endpoints through the SSRF guard. Later starts bring the same boxes
 * back for as long as their lab gateways exist.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { createKnoc } from '../access/service/knocs.ts';
import { findVendor } from '../adapters/vendors.ts';
import { SYSTEM_ACTOR } from '../audit/record.ts';
import { envValue } from '../config.ts';
import { createGateway, type GatewayPolicy, updateGateway } from '../firewall/gateways.ts';
import { serviceContext, type ServiceContext } from '../core/context.ts';
import { createSite } from '../identity/sites.ts';
import { type HostAllowList, withAllowedEndpoint } from '../net/ssrf.ts';
import type { Keyring } from '../secrets/keyring.ts';
import type { Db } from '../store/db.ts';
import { gateways } from '../store/schema/access.ts';
import { roleBindings, roles, users } from '../store/schema/identity.ts';
import { sites } from '../store/schema/tenancy.ts';
import {
  LAB_HOST,
  type LabBoxRecord,
  type LabRecord,
  labPaths,
  readLabRecord,
  startLabBox,
  writeLabRecord,
} from './emulator.ts';
import { LAB_EMULATORS, type LabEmulator, labEmulators } from './vendors.ts';

const LAB_SITE = 'lab';
/** The lab gateway of a vendor. */
export const labGatewayName = (vendor: string): string => `lab-${vendor}`;
/** The demo knoc of the first box registered; later boxes get `lab-demo-<vendor>`. */
export const LAB_KNOC = 'lab-demo';
/** The demo knoc's list name (unless the vendor's lab entry names another). */
export const LAB_ALIAS = 'portcullis_lab';

interface LabOptions {
  db: Db;
  keyring: Keyring;
  dataDir: string;
  /** The deployment's own SSRF allow-list (`PORTCULLIS_ALLOW_GATEWAY_HOSTS`); the lab adds its endpoint to it. */
  allowHosts: HostAllowList;
  /** `PORTCULLIS_LAB` as the server's config parsed it; otherwise read from `env`. */
  enabled?: boolean;
  /** `PORTCULLIS_LAB_VENDORS` as the server's config parsed it (null: the default); otherwise read from `env`. */
  vendors?: string[] | null;
  env?: NodeJS.ProcessEnv;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** One running lab box: a vendor's emulator and what the lab registered for it. */
export interface LabBox {
  vendor: string;
  url: string;
  port: number;
  fingerprint: string;
  gatewayId: string;
  knocId: string | null;
}

export interface RunningLab {
  boxes: LabBox[];
  /** The first box's gateway. */
  gatewayId: string;
  /** The deployment's allow-list plus exactly the lab endpoint. */
  allowHosts: HostAllowList;
  /** What to tell the person who ran `npm start`. */
  banner: string;
  close(): Promise<void>;
}

/** Whether the lab is switched off (`PORTCULLIS_LAB=off|false|0|no`). */
function labDisabled(env: NodeJS.ProcessEnv): boolean {
  return !envValue('PORTCULLIS_LAB', env);
}

async function liveGatewayIds(db: Db): Promise<string[]> {
  const rows = await db.select({ id: gateways.id }).from(gateways).where(isNull(gateways.deletedAt));
  return rows.map((r) => r.id);
}

/** The oldest live, enabled user bound directly to the built-in owner role (the demo knoc's person). */
async function ownerUserId(db: Db): Promise<string | null> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .innerJoin(roleBindings, eq(roleBindings.userId, users.id))
    .innerJoin(roles, and(eq(roles.id, roleBindings.roleId), eq(roles.name, 'owner'), eq(roles.builtin, true)))
    .where(and(isNull(users.deletedAt), eq(users.disabled, false)))
    .orderBy(asc(users.createdAt))
    .limit(1);
  return row?.id ?? null;
}

async function labSiteId(ctx: ServiceContext): Promise<string> {
  const [existing] = await ctx.db
    .select({ id: sites.id })
    .from(sites)
    .where(and(eq(sites.orgId, ctx.orgId), sql`lower(${sites.name}) = ${LAB_SITE}`))
    .limit(1);
  if (existing) return existing.id;
  return (await createSite(ctx, { name: LAB_SITE, description: 'Emulated lab (vendor emulators on loopback)' })).id;
}

/** Which boxes to start: the chosen vendors plus any other box whose lab gateway still exists. */
function boxesToStart(
  record: LabRecord,
  chosen: LabEmulator[],
  live: string[],
  log: LabOptions['log'],
): LabEmulator[] {
  const recorded = LAB_EMULATORS.filter((lab) => {
    const id = record.boxes[lab.vendor]?.gatewayId;
    return id != null && live.includes(id);
  });
  const labGateways = new Set(Object.values(record.boxes).map((box) => box.gatewayId));
  const foreign = live.filter((id) => !labGateways.has(id));
  return [...new Set([...chosen, ...recorded])].filter((lab) => {
    const id = record.boxes[lab.vendor]?.gatewayId;
    if (id != null) {
      if (live.includes(id)) return true;
      log.info({ vendor: lab.vendor }, 'emulated lab box not started: its gateway was deleted');
      return false;
    }
    return foreign.length === 0;
  });
}

/** Registers a box's gateway and demo knoc (once); the record is written after each step. */
async function registerBox(
  options: LabOptions,
  ctx: ServiceContext,
  policy: GatewayPolicy,
  lab: LabEmulator,
  box: LabBoxRecord & { url: string; fingerprint: string },
  save: (box: LabBoxRecord) => void,
  knocName: string,
): Promise<LabBoxRecord> {
  const vendor = findVendor(lab.vendor);
  if (vendor === undefined) throw new Error(`lab emulator for unregistered vendor ${lab.vendor}`);
  const siteId = await labSiteId(ctx);
  const gateway = await createGateway(
    ctx,
    {
      name: labGatewayName(lab.vendor),
      vendor: vendor.id,
      url: box.url,
      ...box.credentials,
      fingerprint_sha256: box.fingerprint,
      site_id: siteId,
    },
    policy,
  );
  // Recorded before the knoc, so a failure below never leads to a second gateway on the next start.
  let registered: LabBoxRecord = { ...box, gatewayId: gateway.id };
  save(registered);
  const owner = await ownerUserId(options.db);
  const { knoc } = await createKnoc(ctx, {
    name: knocName,
    gateway_id: gateway.id,
    site_id: siteId,
    mode: 'active',
    alias_name: lab.aliasName ?? LAB_ALIAS,
    create_alias_if_missing: vendor.capabilities['alias.create'],
    grant_ttl_seconds: 3_600,
    max_ttl_seconds: 86_400,
    allowed_sources: [],
    denied_sources: [],
    kill_states_on_revoke: vendor.capabilities.kill_states,
    users: owner ? [owner] : [],
    groups: [],
  });
  registered = { ...registered, knocId: knoc.id };
  save(registered);
  options.log.info({ vendor: vendor.id, gateway: gateway.id, knoc: knoc.id, url: box.url }, 'emulated lab registered');
  return registered;
}

/**
 * Starts the lab when it should run: never with `PORTCULLIS_LAB=off`; otherwise each chosen vendor's box when the
 * lab registered its gateway earlier and that gateway still exists, or when the store holds no gateway but the
 * lab's own (then it registers). A box registered earlier whose vendor is no longer chosen still starts while its
 * gateway exists (its knoc depends on it). Returns null when no box runs.
 */
export async function startLab(options: LabOptions): Promise<RunningLab | null> {
  const env = options.env ?? process.env;
  if (!(options.enabled ?? !labDisabled(env))) return null;
  const chosen = labEmulators(options.vendors !== undefined ? options.vendors : envValue('PORTCULLIS_LAB_VENDORS', env));
  const paths = labPaths(options.dataDir);
  const stored = readLabRecord(paths);
  const record: LabRecord = { boxes: { ...stored?.boxes } };
  // A one-box record of an earlier version belongs to the default lab emulator (the only one it could run).
  if (stored?.legacy && record.boxes[(LAB_EMULATORS[0] as LabEmulator).vendor] === undefined) {
    record.boxes[(LAB_EMULATORS[0] as LabEmulator).vendor] = stored.legacy;
  }
  const live = await liveGatewayIds(options.db);
  const starting = boxesToStart(record, chosen, live, options.log);
  if (starting.length === 0) return null;

  const handles: Array<{ close(): Promise<void> }> = [];
  const closeAll = async () => {
    for (const handle of handles.splice(0)) await handle.close();
  };
  try {
    const boxes: LabBox[] = [];
    let allowHosts = options.allowHosts;
    const started: Array<{ lab: LabEmulator; box: LabBoxRecord & { url: string; fingerprint: string }; portChanged: boolean }> = [];
    for (const lab of starting) {
      const { handle, record: box, portChanged } = await startLabBox(paths, lab, record.boxes[lab.vendor]);
      handles.push(handle);
      allowHosts = withAllowedEndpoint(allowHosts, LAB_HOST, handle.port);
      record.boxes[lab.vendor] = box;
      started.push({ lab, box: { ...box, url: handle.url, fingerprint: handle.fingerprint }, portChanged });
    }
    writeLabRecord(paths, record);
    const policy: GatewayPolicy = { allowHosts };
    const ctx = serviceContext(options.db, options.keyring, {
      actor: { ...SYSTEM_ACTOR, name: 'emulated lab' },
    });
    for (const { lab, box, portChanged } of started) {
      let registered: LabBoxRecord = box;
      if (box.gatewayId === null) {
        const save = (next: LabBoxRecord) => {
          record.boxes[lab.vendor] = next;
          writeLabRecord(paths, record);
        };
        const demoTaken = Object.entries(record.boxes).some(([vendor, other]) => vendor !== lab.vendor && other.knocId !== null);
        const knocName = demoTaken ? `${LAB_KNOC}-${lab.vendor}` : LAB_KNOC;
        registered = await registerBox(options, ctx, policy, lab, box, save, knocName);
      } else if (portChanged) {
        await updateGateway(ctx, box.gatewayId, { url: box.url }, policy);
        options.log.warn({ vendor: lab.vendor, url: box.url }, 'emulated lab box moved to another port (the old one was taken)');
      }
      boxes.push({
        vendor: lab.vendor,
        url: box.url,
        port: box.port,
        fingerprint: box.fingerprint,
        gatewayId: registered.gatewayId as string,
        knocId: registered.knocId,
      });
      options.log.info({ vendor: lab.vendor, url: box.url, gateway: registered.gatewayId }, 'emulated lab box running');
    }
    const banner = [
      '',
      '----------------------------------------------------------------',
      ' Emulated lab: no firewall is configured, so these run in this',
      ' process (self-signed, loopback only):',
      ...started.flatMap(({ lab }, i) => {
        const box = boxes[i] as LabBox;
        return [
          ` - ${lab.describe} at ${box.url}`,
          `   gateway "${labGatewayName(lab.vendor)}"; inspect: GET ${box.url}/__emulator/state`,
        ];
      }),
      ` Demo knoc "${LAB_KNOC}" -> list ${LAB_ALIAS}. PORTCULLIS_LAB_VENDORS picks`,
      ' the vendors; PORTCULLIS_LAB=off turns it off. See docs/lab.md.',
      '----------------------------------------------------------------',
      '',
    ].join('\n');
    return { boxes, gatewayId: (boxes[0] as LabBox).gatewayId, allowHosts, banner, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
