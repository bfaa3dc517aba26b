/**
 * @module pfSense's firewall log (`/var/log/filter.log`, written by `filterlog`) parsed into the neutral
 * `LiveLogEntry` (src/adapters/live.ts). The field order is that of pfSense's own reader,
 * `parse_firewall_log_line` in `src/etc/inc/syslog.inc` (docs/reference/pfsense-filterlog.md §1, §2): a syslog
 * header (RFC 3164 `Mmm dd hh:mm:ss host filterlog[pid]: ` or RFC 5424), then comma-separated values — nine
 * common fields, the IPv4 or IPv6 header fields, length and addresses, then protocol-specific fields. Pure: no
 * I/O; a line it cannot read is skipped and counted, never guessed at.
 */
import type { LiveLogEntry } from '../live.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** RFC 3164: `Dec  6 21:58:01 host filterlog[29415]: csv` (no year, the box's local time). */
const RFC3164 = /^([A-Z][a-z]{2})\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) \S+ filterlog\[\d+\]: (.*)$/;
/** RFC 5424: `<134>1 2026-12-06T21:58:01.123+00:00 host filterlog 29415 - - csv`. */
const RFC5424 = /^<\d{1,3}>\d* (\S+) \S+ filterlog \S+ \S+ \S+ (.*)$/;
const ACTIONS = new Set(['pass', 'block', 'reject']);

/** The protocol ids whose next fields are source and destination ports (pfSense: TCP, UDP, SCTP). */
const PORTED = new Set(['6', '17', '132']);

/**
 * The time of an RFC 3164 header, which has no year and no zone: read as UTC (pfRest servers log in UTC in
 * our lab; docs/reference/pfsense-filterlog.md §3) in the year that puts it at most a day after `now`.
 */
function headerTime(month: string, day: string, h: string, m: string, s: string, now: Date): Date | null {
  const index = MONTHS.indexOf(month);
  if (index < 0) return null;
  const at = (year: number) => new Date(Date.UTC(year, index, Number(day), Number(h), Number(m), Number(s)));
  const year = now.getUTCFullYear();
  const guess = at(year);
  if (Number.isNaN(guess.getTime())) return null;
  return guess.getTime() > now.getTime() + 86_400_000 ? at(year - 1) : guess;
}

const port = (value: string | undefined): number | null => {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return null;
  const n = Number(value);
  return n <= 65_535 ? n : null;
};

const int = (value: string | undefined): number | null =>
  value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : null;

/** One line, or null when it is not a readable filterlog IPv4/IPv6 entry. */
export function parseFilterlogLine(line: string, now: Date): LiveLogEntry | null {
  let time: Date | null;
  let csv: string;
  const bsd = RFC3164.exec(line);
  if (bsd) {
    time = headerTime(bsd[1] as string, bsd[2] as string, bsd[3] as string, bsd[4] as string, bsd[5] as string, now);
    csv = bsd[6] as string;
  } else {
    const modern = RFC5424.exec(line);
    if (!modern) return null;
    time = new Date(modern[1] as string);
    csv = modern[2] as string;
  }
  if (time === null || Number.isNaN(time.getTime())) return null;
  const f = csv.split(',');
  let i = 0;
  const next = () => f[i++];
  const ruleNumber = next();
  next(); // sub-rule
  next(); // anchor
  const tracker = next();
  const realInterface = next();
  const reason = next();
  const action = next();
  const direction = next();
  const version = next();
  if (ruleNumber === undefined || action === undefined || !ACTIONS.has(action)) return null;
  if (version !== '4' && version !== '6') return null;
  // A truncated packet carries `error=…` before the IP fields (syslog.inc ignores its value).
  if (f[i]?.startsWith('error=')) i++;
  let protocolId: string | undefined;
  let protocol: string | undefined;
  if (version === '4') {
    i += 6; // tos, ecn, ttl, id, offset, flags
    protocolId = next();
    protocol = next();
  } else {
    i += 3; // class, flow label, hop limit
    protocol = next();
    protocolId = next();
  }
  const length = int(next());
  const source = next();
  const destination = next();
  if (!protocolId || !source || !destination) return null;
  let sourcePort: number | null = null;
  let destPort: number | null = null;
  if (PORTED.has(protocolId)) {
    sourcePort = port(next());
    destPort = port(next());
    if (sourcePort === null || destPort === null) return null;
  }
  return {
    logged_at: time.toISOString(),
    action: action as LiveLogEntry['action'],
    interface: realInterface || null,
    direction: direction === 'in' || direction === 'out' ? direction : null,
    ip_version: Number(version),
    protocol: protocol ? protocol.toLowerCase() : null,
    source_ip: source,
    source_port: sourcePort,
    dest_ip: destination,
    dest_port: destPort,
    vendor_rule_id: tracker && tracker !== '0' ? tracker : null,
    reason: reason || null,
    length,
  };
}

/** Every readable line of `lines` (oldest first, as given) and how many were skipped. */
export function parseFilterlog(
  lines: readonly string[],
  now: Date,
): { items: LiveLogEntry[]; skipped: number } {
  const items: LiveLogEntry[] = [];
  let skipped = 0;
  for (const line of lines) {
    const entry = parseFilterlogLine(line, now);
    if (entry) items.push(entry);
    else skipped++;
  }
  return { items, skipped };
}
