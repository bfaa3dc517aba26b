/**
 * @module What a grant opens on a gateway as it is now: the exposure of a knoc's alias (docs/policy.md "Exposure
 * of an alias", docs/adr/0141-exposure-of-an-alias.md) computed on the gateway's live configuration, read through
 * its live view and built into the engine's model as the semantic preview does (src/firewall/preview.ts).
 */
import type { LiveGateway } from '../adapters/live.ts';
import { ConflictError } from '../errors.ts';
import { type AliasExposure, aliasExposure } from '../policy/exposure.ts';
import { buildPolicyFromLive } from '../policy/import/live.ts';
import { readLiveSnapshot } from './preview.ts';

/**
 * The exposure of `alias` on the gateway behind `live`. An alias the device does not hold (yet: a knoc creates
 * its alias at the first grant) is a 409 naming it, never an empty answer that would read as "opens nothing".
 */
export async function liveAliasExposure(
  live: LiveGateway,
  alias: string,
  representatives?: readonly string[],
): Promise<AliasExposure> {
  const snapshot = await readLiveSnapshot(live);
  if (!snapshot.aliases.some((entry) => entry.name === alias)) {
    throw new ConflictError(`the gateway holds no alias ${alias} yet, so no grant on it opens anything there yet`);
  }
  const { config } = buildPolicyFromLive(snapshot);
  return aliasExposure(config, alias, representatives === undefined ? {} : { representatives });
}
