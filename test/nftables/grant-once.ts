/**
 * A one-shot Portcullis write for the packet test: puts `entries` (JSON) on set `alias` inside namespace `ns`
 * through the adapter, then exits, so the expiry that follows happens with no Portcullis process running.
 * Usage: tsx test/nftables/grant-once.ts <ns> <alias> '<entries json>'
 */
import { NftablesAdapter } from '../../src/adapters/nftables/adapter.ts';
import { LocalRunner } from '../../src/adapters/nftables/transport.ts';
import type { AliasEntry } from '../../src/adapters/types.ts';

const [ns, alias, json] = process.argv.slice(2) as [string, string, string];
const adapter = new NftablesAdapter({ runner: new LocalRunner(['ip', 'netns', 'exec', ns]) });
await adapter.setAliasEntries(alias, JSON.parse(json) as AliasEntry[]);
await adapter.close();
process.stdout.write('granted\n');
