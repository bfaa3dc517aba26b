/**
 * @module The emulated lab of `npm start` (docs/lab.md, ADR 0101): when the embedded store has no gateway, the
 * server starts the pfRest emulator in-process on loopback, registers once — through the same services as the
 * API — a site `lab`, a gateway pinned by the emulator's certificate fingerprint and a demo knoc assigned to the
 * owner, and lets exactly that `127.0.0.1:<port>` endpoint through the SSRF guard. Later starts bring the same
 * emulator back for as long as the lab gateway exists.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { createKnoc } from '../access/service/knocs.ts';
import { pfsenseVendor } from '../adapters/pfsense/vendor.ts';
import { SYSTEM_ACTOR } from '../audit/record.ts';
import { envValue } from '../config.ts';
import type { PfRestEmulator } from '../emulators/pfrest/index.ts';
import { createGateway, type GatewayPolicy, updateGateway } from '../firewall/gateways.ts';
import { serviceContext, type ServiceContext } from '../core/context.ts';
import { createSite } from '../identity/sites.ts';
import { type HostAllowList, withAllowedEndpoint } from '../net/ssrf.ts';
import type { Keyring } from '../secrets/keyring.ts';
import type { Db } from '../store/db.ts';
import { gateways } from '../store/schema/access.ts';
import { roleBindings, roles, users } from '../store/schema/identity.ts';
import { sites } from '../store/schema/tenancy.ts';
import { LAB_HOST, type LabRecord, labPaths, readLabRecord, startLabEmulator, writeLabRecord } from './emulator.ts';

const LAB_SITE = 'lab';
export const LAB_GATEWAY = 'lab-pfsense';
export const LAB_KNOC = 'lab-demo';
export const LAB_ALIAS = 'portcullis_lab';

interface LabOptions {
  db: Db;
  keyring: Keyring;
  dataDir: string;
  /** The deployment's own SSRF allow-list (`PORTCULLIS_ALLOW_GATEWAY_HOSTS`); the lab adds its endpoint to it. */
  allowHosts: HostAllowList;
  /** `PORTCULLIS_LAB` as the server's config parsed it; otherwise read from `env`. */
  enabled?: boolean;
  env?: NodeJS.ProcessEnv;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface RunningLab {
  emulator: PfRestEmulator;
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
  return (await createSite(ctx, { name: LAB_SITE, description: 'Emulated lab (pfRest emulator on loopback)' })).id;
}

/**
 * Starts the lab when it should run: never with `PORTCULLIS_LAB=off`; otherwise when the lab registered its
 * gateway earlier and that gateway still exists, or when the store has no gateway at all (then it registers).
 * Returns null when the lab stays off.
 */
export async function startLab(options: LabOptions): Promise<RunningLab | null> {
  if (!(options.enabled ?? !labDisabled(options.env ?? process.env))) return null;
  const paths = labPaths(options.dataDir);
  const previous = readLabRecord(paths);
  const live = await liveGatewayIds(options.db);
  if (previous?.gatewayId) {
    if (!live.includes(previous.gatewayId)) {
      options.log.info({ lab: paths.dir }, 'emulated lab not started: its gateway was deleted');
      return null;
    }
  } else if (live.length > 0) {
    return null;
  }

  const { emulator, record, portChanged } = await startLabEmulator(paths);
  try {
    const allowHosts = withAllowedEndpoint(options.allowHosts, LAB_HOST, emulator.port);
    const policy: GatewayPolicy = { allowHosts };
    const ctx = serviceContext(options.db, options.keyring, {
      actor: { ...SYSTEM_ACTOR, name: 'emulated lab' },
    });
    let registered: LabRecord = record;
    if (record.gatewayId === null) {
      const siteId = await labSiteId(ctx);
      const gateway = await createGateway(
        ctx,
        {
          name: LAB_GATEWAY,
          vendor: pfsenseVendor.id,
          url: emulator.url,
          api_key: emulator.apiKey,
          fingerprint_sha256: emulator.fingerprint,
          site_id: siteId,
        },
        policy,
      );
      // Recorded before the knoc, so a failure below never leads to a second gateway on the next start.
      registered = { ...record, gatewayId: gateway.id };
      writeLabRecord(paths, registered);
      const owner = await ownerUserId(options.db);
      const { knoc } = await createKnoc(ctx, {
        name: LAB_KNOC,
        gateway_id: gateway.id,
        site_id: siteId,
        mode: 'active',
        alias_name: LAB_ALIAS,
        create_alias_if_missing: true,
        grant_ttl_seconds: 3_600,
        max_ttl_seconds: 86_400,
        allowed_sources: [],
        denied_sources: [],
        kill_states_on_revoke: true,
        users: owner ? [owner] : [],
        groups: [],
      });
      const knocId = knoc.id;
      registered = { ...registered, knocId };
      writeLabRecord(paths, registered);
      options.log.info({ gateway: gateway.id, knoc: knocId, url: emulator.url }, 'emulated lab registered');
    } else if (portChanged) {
      await updateGateway(ctx, record.gatewayId, { url: emulator.url }, policy);
      options.log.warn({ url: emulator.url }, 'emulated lab moved to another port (the old one was taken)');
    }
    const banner = [
      '',
      '----------------------------------------------------------------',
      ' Emulated lab: no firewall is configured, so a pfSense (pfRest',
      ` emulator) runs in this process at ${emulator.url}`,
      ` gateway "${LAB_GATEWAY}", demo knoc "${LAB_KNOC}" -> alias ${LAB_ALIAS}`,
      ` Inspect the box: GET ${emulator.url}/__emulator/state (self-signed)`,
      ' Turn it off with PORTCULLIS_LAB=off. See docs/lab.md.',
      '----------------------------------------------------------------',
      '',
    ].join('\n');
    options.log.info({ url: emulator.url, gateway: registered.gatewayId }, 'emulated lab running');
    return { emulator, gatewayId: registered.gatewayId as string, allowHosts, banner, close: () => emulator.close() };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}
