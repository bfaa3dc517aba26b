/**
 * @module Firewall module settings, per org (`/api/v1/firewall/settings`), exactly the FreeSDN table: names,
 * types, defaults and ranges below. Stored as one JSON document per org; a key never saved reads as its
 * default. `readSettings` is the typed reader background jobs call on every run, so a change takes effect at the
 * next run without a restart.
 */
import { eq } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { ValidationError } from '../errors.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import type { Db } from '../store/db.ts';
import { firewallSettings } from '../store/schema/firewall.ts';

type Spec =
  | { type: 'enum'; values: readonly string[]; default: string; description: string }
  | { type: 'bool'; default: boolean; description: string }
  | { type: 'int'; min: number; max: number; default: number; description: string };

export const SETTINGS_SPEC = {
  default_policy: {
    type: 'enum',
    values: ['allow', 'deny'],
    default: 'deny',
    description: 'Default packet policy for new rules',
  },
  log_blocked: { type: 'bool', default: true, description: 'Log blocked connections to the firewall logs' },
  ids_enabled: { type: 'bool', default: true, description: 'Enable IDS globally' },
  ids_mode: {
    type: 'enum',
    values: ['detect', 'prevent'],
    default: 'detect',
    description: 'Detect (log) or prevent (block)',
  },
  log_retention_days: { type: 'int', min: 7, max: 365, default: 30, description: 'Firewall log retention' },
  sync_interval_minutes: { type: 'int', min: 1, max: 1440, default: 5, description: 'Gateway sync frequency' },
  drift_check_interval_minutes: {
    type: 'int',
    min: 5,
    max: 1440,
    default: 15,
    description: 'Drift check frequency',
  },
  distribution_lock_ttl_seconds: {
    type: 'int',
    min: 60,
    max: 3600,
    default: 300,
    description: 'Max time a distribution lock is held',
  },
  auto_remediate_drift: {
    type: 'bool',
    default: false,
    description: 'Automatically push fixes for detected drift',
  },
  import_retention_days: { type: 'int', min: 1, max: 365, default: 90, description: 'Import session retention' },
} as const satisfies Record<string, Spec>;

type SettingName = keyof typeof SETTINGS_SPEC;

type ValueOf<S> = S extends { type: 'enum'; values: readonly (infer V)[] }
  ? V
  : S extends { type: 'bool' }
    ? boolean
    : number;

export type FirewallSettings = { -readonly [K in SettingName]: ValueOf<(typeof SETTINGS_SPEC)[K]> };

export const SETTING_NAMES = Object.keys(SETTINGS_SPEC) as SettingName[];

export const DEFAULT_SETTINGS = Object.fromEntries(
  SETTING_NAMES.map((name) => [name, SETTINGS_SPEC[name].default]),
) as FirewallSettings;

function checkValue(name: SettingName, value: unknown): unknown {
  const spec: Spec = SETTINGS_SPEC[name];
  if (spec.type === 'bool') {
    if (typeof value !== 'boolean') throw new ValidationError(name, `${name} must be true or false`);
  } else if (spec.type === 'int') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
      throw new ValidationError(name, `${name} must be an integer from ${spec.min} to ${spec.max}`);
    }
  } else if (typeof value !== 'string' || !spec.values.includes(value)) {
    throw new ValidationError(name, `${name} must be one of ${spec.values.join(', ')}`);
  }
  return value;
}

/** Stored values over the defaults; a stored value that no longer fits its range reads as the default. */
function merge(stored: unknown): FirewallSettings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  if (stored && typeof stored === 'object') {
    for (const name of SETTING_NAMES) {
      const value = (stored as Record<string, unknown>)[name];
      if (value === undefined) continue;
      try {
        out[name] = checkValue(name, value);
      } catch {
        /* keep the default */
      }
    }
  }
  return out as FirewallSettings;
}

/** The org's settings (defaults for what was never saved). Cheap: one primary-key read. */
export async function readSettings(db: Db, orgId: string): Promise<FirewallSettings> {
  const [row] = await db
    .select({ settings: firewallSettings.settings })
    .from(firewallSettings)
    .where(eq(firewallSettings.orgId, orgId))
    .limit(1);
  return merge(row?.settings);
}

/** Changes the given settings (others keep their value); 400 naming the first unknown or out-of-range key. */
export async function updateSettings(
  ctx: ServiceContext,
  input: Record<string, unknown>,
): Promise<FirewallSettings> {
  const changes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    if (!Object.hasOwn(SETTINGS_SPEC, name)) throw new ValidationError(name, `${name} is not a known setting`);
    changes[name] = checkValue(name as SettingName, value);
  }
  return inTransaction(ctx, async (tx) => {
    const before = await readSettings(tx.db, tx.orgId);
    const after = { ...before, ...changes };
    await tx.db
      .insert(firewallSettings)
      .values({ orgId: tx.orgId, settings: after, updatedAt: tx.now(), updatedBy: tx.actor.id })
      .onConflictDoUpdate({
        target: firewallSettings.orgId,
        set: { settings: after, updatedAt: tx.now(), updatedBy: tx.actor.id },
      });
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'firewall_settings.update',
      targetType: 'firewall_settings',
      targetId: tx.orgId,
      before,
      after,
    });
    return after;
  });
}
