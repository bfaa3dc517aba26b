/**
 * @module Where the per-entry details of an OPNsense alias live (docs/adr/0185-opnsense-entry-details.md).
 *
 * OPNsense has no per-entry description: `content` is one `\n`-joined list (AliasContentField) and the only
 * free text is the alias's `description` (DescriptionField: 1–255 bytes, no newline). So the details ride in a
 * record at the end of the description, `{{pc:<address>=<detail>,…}}`, keyed by address (an admin may reorder
 * or edit the content in the GUI; a key that no longer matches an entry is dropped):
 * - full record: every entry with a non-empty detail; our tags `portcullis:<id>` are written `!<id>`;
 * - overflow record `{{pc*:…}}` when the full one does not fit: it lists the entries that are NOT ours (each
 *   with its detail, possibly empty); every other single-address entry reads back as ours with the detail
 *   `portcullis:*` (its grant id unknown). An admin entry added in the GUI while the record is in overflow
 *   reads as ours: the docs say to add manual entries through a nested alias on such large aliases.
 * The rest of the description is the operator's and is kept as is.
 */
import type { AliasEntry } from '../types.ts';

const TAG = 'portcullis:';
/** The detail of an entry of ours whose grant id the overflow record does not hold. */
export const UNKNOWN_GRANT_DETAIL = `${TAG}*`;
const MAX_DESCRIPTION_BYTES = 255;
const RECORD = /\s?\{\{pc(\*?):([^}]*)\}\}$/;

function encodeDetail(detail: string): string {
  if (detail.startsWith(TAG)) return `!${encodeURIComponent(detail.slice(TAG.length))}`;
  return encodeURIComponent(detail).replace(/^!/, '%21');
}

function decodeDetail(text: string): string {
  try {
    if (text.startsWith('!')) return TAG + decodeURIComponent(text.slice(1));
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseRecord(body: string): Map<string, string> {
  const out = new Map<string, string>();
  if (body === '') return out;
  for (const part of body.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    out.set(part.slice(0, at), decodeDetail(part.slice(at + 1)));
  }
  return out;
}

/** A single address or a /32 or /128 prefix: an entry Portcullis can own. */
function isSingleAddress(address: string): boolean {
  const bare = address.replace(/\/(32|128)$/, '');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(bare) || (/^[0-9a-fA-F:]+$/.test(bare) && bare.includes(':'));
}

/** The operator's description (record removed) and the details of each content entry. */
export function decodeEntries(description: string, content: readonly string[]): { descr: string; entries: AliasEntry[] } {
  const match = RECORD.exec(description);
  if (match === null) return { descr: description, entries: content.map((address) => ({ address, detail: '' })) };
  const descr = description.slice(0, match.index);
  const overflow = match[1] === '*';
  const record = parseRecord(match[2] ?? '');
  const entries = content.map((address): AliasEntry => {
    const known = record.get(address);
    if (known !== undefined) return { address, detail: known };
    return { address, detail: overflow && isSingleAddress(address) ? UNKNOWN_GRANT_DETAIL : '' };
  });
  return { descr, entries };
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The description to write for `entries` under the operator's `descr`: `descr` alone when no entry has a detail,
 * else `descr` plus the full record, else plus the overflow record. Throws when not even the overflow record
 * fits (too many manual entries with details), naming why.
 */
export function encodeDescription(descr: string, entries: readonly AliasEntry[]): string {
  const withDetail = entries.filter((e) => e.detail !== '');
  if (withDetail.length === 0) return descr;
  const sep = descr === '' ? '' : ' ';
  const full = `${descr}${sep}{{pc:${withDetail.map((e) => `${e.address}=${encodeDetail(e.detail)}`).join(',')}}}`;
  if (bytes(full) <= MAX_DESCRIPTION_BYTES) return full;
  const manual = entries.filter((e) => !e.detail.startsWith(TAG) && isSingleAddress(e.address));
  const record = `{{pc*:${manual.map((e) => `${e.address}=${encodeDetail(e.detail)}`).join(',')}}}`;
  const room = MAX_DESCRIPTION_BYTES - bytes(record) - sep.length;
  if (room < 0) {
    throw new RangeError(
      `the ${manual.length} manual entries of this alias do not fit the 255-byte description that records which entries are Portcullis's; move them to a nested alias`,
    );
  }
  let kept = descr;
  while (bytes(kept) > room) kept = kept.slice(0, -1);
  return `${kept}${kept === '' ? '' : sep}${record}`;
}
