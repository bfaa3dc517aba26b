/**
 * @module The access runtime's adapter cache: one adapter per gateway, built on demand from the stored row
 * (credentials opened with the keyring, SSRF guard re-checked) through the vendor registry, dropped when the
 * gateway changes. The `AliasTarget` it hands to reconcilers resolves the adapter at every call and reads the
 * vendor's capability flags, so a gateway edit — even of its vendor — takes effect at the next run.
 */
import { eq } from 'drizzle-orm';
import type { ClosableAdapter, VendorDescriptor } from '../../adapters/registry.ts';
import { AdapterError, type AliasTarget } from '../../adapters/types.ts';
import { SYSTEM_ACTOR } from '../../audit/record.ts';
import { type ServiceContext, serviceContext } from '../../core/context.ts';
import { DomainError } from '../../errors.ts';
import { type AdapterTuning, buildAdapter, requireVendor } from '../../firewall/adapter.ts';
import { gatewayConnection } from '../../firewall/gateways.ts';
import { checkGatewayHost, type HostAllowList } from '../../net/ssrf.ts';
import type { Keyring } from '../../secrets/keyring.ts';
import type { Store } from '../../store/db.ts';
import { gateways } from '../../store/schema/access.ts';

interface GatewayAdapterSettings {
  allowHosts: HostAllowList;
  adapter?: AdapterTuning;
}

interface Built {
  vendor: VendorDescriptor;
  adapter: ClosableAdapter;
}

export class GatewayAdapters {
  private readonly built = new Map<string, Promise<Built>>();

  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
    private readonly settings: GatewayAdapterSettings,
  ) {}

  /** A context acting as the system in `orgId` (background work: expiry, revocation, adapters). */
  systemContext(orgId: string): ServiceContext {
    return serviceContext(this.store.db, this.keyring, { orgId, actor: SYSTEM_ACTOR });
  }

  /** The vendor and adapter of a gateway; a failed build (gateway gone, host refused) is retried later. */
  get(gatewayId: string): Promise<Built> {
    let entry = this.built.get(gatewayId);
    if (entry === undefined) {
      entry = this.build(gatewayId);
      this.built.set(gatewayId, entry);
      entry.catch(() => this.built.get(gatewayId) === entry && this.built.delete(gatewayId));
    }
    return entry;
  }

  /** Drops (and closes) a gateway's adapter: the next call builds one from the changed row. */
  async drop(gatewayId: string): Promise<void> {
    const entry = this.built.get(gatewayId);
    this.built.delete(gatewayId);
    await (await entry?.catch(() => null))?.adapter.close();
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.built.keys()]) await this.drop(id);
  }

  /** An `AliasTarget` for reconcilers; `apply` is a no-op for vendors whose writes are live at once. */
  target(gatewayId: string): AliasTarget {
    const get = () => this.get(gatewayId);
    return {
      getAlias: async (name) => (await get()).adapter.getAlias(name),
      createAlias: async (name, type, description) =>
        (await get()).adapter.createAlias(name, type, description),
      setAliasEntries: async (name, entries) => (await get()).adapter.setAliasEntries(name, entries),
      apply: async () => {
        const { vendor, adapter } = await get();
        return vendor.capabilities.apply ? adapter.apply() : { applied: true, pending: [] };
      },
      killStates: async (ip) => (await get()).adapter.killStates(ip),
    };
  }

  private async build(gatewayId: string): Promise<Built> {
    const [row] = await this.store.db
      .select({ orgId: gateways.orgId, vendor: gateways.vendor })
      .from(gateways)
      .where(eq(gateways.id, gatewayId))
      .limit(1);
    if (row === undefined) throw new Error(`gateway ${gatewayId} does not exist`);
    const vendor = requireVendor(row.vendor);
    try {
      const conn = await gatewayConnection(this.systemContext(row.orgId), gatewayId);
      await checkGatewayHost(conn.url, {
        allowHosts: this.settings.allowHosts,
        ...(vendor.urlSchemes ? { schemes: vendor.urlSchemes } : {}),
      });
      const adapter = buildAdapter(conn, {
        allowHosts: this.settings.allowHosts,
        ...(this.settings.adapter ? { tuning: this.settings.adapter } : {}),
      });
      return { vendor: requireVendor(conn.vendor), adapter };
    } catch (err) {
      if (err instanceof DomainError) {
        throw new AdapterError(
          vendor.id,
          vendor.errors.connect,
          `gateway ${gatewayId} cannot be used: ${err.message}`,
        );
      }
      throw err;
    }
  }
}
