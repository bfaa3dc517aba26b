/**
 * @module Audit events as syslog (docs/audit.md, docs/adr/0236-audit-syslog.md): one RFC 5424 message per audit
 * row, with the fields a SIEM needs both as STRUCTURED-DATA (`[portcullis@32473 event="…" …]`) and as `key=value`
 * pairs in MSG, sent over UDP (RFC 5426: one message per datagram), TCP (RFC 6587 §3.4.1 octet counting) or TLS
 * (RFC 5425, the same framing). Sending never blocks or fails the caller: messages wait in a bounded queue while
 * the collector is unreachable, the oldest are dropped (and counted) when it is full, and the stream reconnects
 * with backoff. Only the audit row's own columns go out — never its `before`/`after` bodies — so no secret can
 * reach the collector (the row is redacted when written, src/audit/record.ts).
 */
import { createHash } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';

/**
 * The SD-ID's enterprise number: 32473 is the number IANA reserves for documentation and examples (RFC 5612).
 * Portcullis has no Private Enterprise Number of its own; a SIEM matches the whole SD-ID `portcullis@32473`.
 */
export const SYSLOG_SD_ID = 'portcullis@32473';
export const SYSLOG_APP_NAME = 'portcullis';
/** RFC 5424 facility 13, "log audit". */
export const DEFAULT_FACILITY = 13;
/** RFC 5426 §3.2: receivers SHOULD take 2048 octets; larger datagrams may be cut or dropped on the way. */
export const DEFAULT_UDP_MAX_BYTES = 2048;
const DEFAULT_QUEUE_LIMIT = 10_000;

/** The audit row columns a message carries (src/store/schema/audit.ts). */
export interface SyslogAuditEvent {
  id: number;
  orgId: string;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  siteId: string | null;
  sourceIp: string | null;
  requestId: string | null;
  outcome: string;
  createdAt: Date;
}

/** RFC 5424 §6.2.1 severities by outcome: a denied attempt is a notice, a failure a warning. */
const SEVERITY: Readonly<Record<string, number>> = { success: 6, denied: 5, failure: 4 };

/** PRINTUSASCII (%d33-126) only, at most `max` characters; `-` (NILVALUE) when nothing is left. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** RFC 5424 §6.3.3: `"`, `\` and `]` are escaped with a backslash inside PARAM-VALUE. */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** A MSG value: bare when it is a plain token, else double-quoted with `"` and `\` escaped; newlines become spaces. */
export function msgValue(value: string): string {
  const flat = value.replace(/[\r\n\t]+/g, ' ');
  if (flat !== '' && /^[^\s"\\=]+$/.test(flat)) return flat;
  return `"${flat.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The fields, in the order they are written; nulls are left out of both parts. */
function fieldsOf(event: SyslogAuditEvent): Array<[string, string]> {
  const target =
    event.targetType !== null || event.targetId !== null
      ? [event.targetType, event.targetId].filter((part) => part !== null).join(':')
      : null;
  const pairs: Array<[string, string | null]> = [
    ['event', event.action],
    ['outcome', event.outcome],
    ['actor', event.actorName ?? event.actorId],
    ['actor_type', event.actorType],
    ['actor_id', event.actorId],
    ['src_ip', event.sourceIp],
    ['target', target],
    ['request_id', event.requestId],
    ['org_id', event.orgId],
    ['site_id', event.siteId],
    ['audit_id', String(event.id)],
  ];
  return pairs.filter((pair): pair is [string, string] => pair[1] !== null);
}

export interface SyslogFormatOptions {
  hostname: string;
  /** RFC 5424 PROCID; the process id by default. */
  procId?: string;
  facility?: number;
  /** UTF-8 byte budget of the whole message (UDP); MSG is shortened first, then STRUCTURED-DATA dropped. */
  maxBytes?: number;
}

/**
 * One audit row as an RFC 5424 SYSLOG-MSG:
 * `<PRI>1 TIMESTAMP HOSTNAME portcullis PROCID MSGID [portcullis@32473 k="v" …] k=v …`. MSGID is the event type.
 * MSG starts with a BOM when it holds non-ASCII text (RFC 5424 §6.4, MSG-UTF8), and is plain ASCII otherwise.
 */
export function formatSyslogMessage(event: SyslogAuditEvent, options: SyslogFormatOptions): string {
  const facility = options.facility ?? DEFAULT_FACILITY;
  const pri = facility * 8 + (SEVERITY[event.outcome] ?? 6);
  const header = [
    `<${pri}>1`,
    event.createdAt.toISOString(),
    headerField(options.hostname, 255),
    SYSLOG_APP_NAME,
    headerField(options.procId ?? String(process.pid), 128),
    headerField(event.action, 32),
  ].join(' ');
  const fields = fieldsOf(event);
  const sd = `[${SYSLOG_SD_ID} ${fields.map(([k, v]) => `${k}="${escapeParamValue(v.slice(0, 256))}"`).join(' ')}]`;
  const msg = fields.map(([k, v]) => `${k}=${msgValue(v)}`).join(' ');
  const withMsg = (text: string) => `${header} ${sd} ${/[^\p{ASCII}]/u.test(text) ? '\ufeff' : ''}${text}`;
  const full = withMsg(msg);
  const max = options.maxBytes;
  if (max === undefined || Buffer.byteLength(full) <= max) return full;
  // Too long for one datagram: cut MSG (never inside a character), keep the structured part if it fits.
  const room = max - Buffer.byteLength(`${header} ${sd} \ufeff`);
  if (room > 0) return withMsg(cutUtf8(msg, room));
  return `${header} - ${cutUtf8(msg, max - Buffer.byteLength(`${header} - `))}`;
}

/** The longest prefix of `text` within `bytes` UTF-8 octets, never ending inside a character. */
function cutUtf8(text: string, bytes: number): string {
  return Buffer.from(text, 'utf8').subarray(0, Math.max(0, bytes)).toString('utf8').replace(/\ufffd+$/, '');
}

/** RFC 6587 §3.4.1 / RFC 5425 §4.3 octet counting: `MSG-LEN SP SYSLOG-MSG`. */
export function frameOctetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export type SyslogProtocol = 'udp' | 'tcp' | 'tls';

export interface SyslogTarget {
  protocol: SyslogProtocol;
  host: string;
  port: number;
  /** TLS: PEM of the CA that signed the collector's certificate (else the system's CAs). */
  ca?: string;
  /** TLS: SHA-256 fingerprint of the collector's certificate (hex, colons optional); replaces CA checks. */
  fingerprint?: string;
}

/** `udp://host[:514]`, `tcp://host[:601]`, `tls://host[:6514]` (RFC 5426, RFC 6587, RFC 5425 default ports). */
export function parseSyslogUrl(raw: string): SyslogTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('must be a URL such as udp://collector:514, tcp://collector:601 or tls://collector:6514');
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'udp' && protocol !== 'tcp' && protocol !== 'tls') {
    throw new Error('the scheme must be udp://, tcp:// or tls://');
  }
  if (url.username !== '' || url.password !== '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '') {
    throw new Error('only a scheme, a host and a port are allowed');
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error('a host is required');
  const port = url.port === '' ? { udp: 514, tcp: 601, tls: 6514 }[protocol] : Number(url.port);
  return { protocol, host, port };
}

/** `sha256` hex with or without colons, upper-cased with colons as Node prints `fingerprint256`. */
export function normalizeFingerprint(raw: string): string | null {
  const hex = raw.replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return hex.match(/../g)?.join(':') ?? null;
}

export interface SyslogStatus {
  /** `udp://host:port` etc. — never a credential (the URL allows none). */
  target: string;
  protocol: SyslogProtocol;
  /** UDP: always true once the socket exists; TCP/TLS: a stream is open. */
  connected: boolean;
  queued: number;
  sent: number;
  dropped: number;
  lastError: string | null;
  lastErrorAt: string | null;
  lastSentAt: string | null;
}

export interface SyslogSenderOptions {
  queueLimit?: number;
  udpMaxBytes?: number;
  /** Reconnect backoff bounds (tests shorten them). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A failure worth logging (connection refused, certificate mismatch); the message carries no secret. */
  onError?: (message: string) => void;
}

/**
 * Sends formatted messages to one collector. `send` only queues; a background flush writes them. UDP sends each
 * datagram as it comes (lost if nobody listens: UDP syslog has no acknowledgement). TCP/TLS keep one stream open,
 * reconnecting with doubling backoff; what was written before a stream broke is not re-sent.
 */
export class SyslogSender {
  private readonly queue: string[] = [];
  private readonly queueLimit: number;
  private readonly options: SyslogSenderOptions;
  private stream: Socket | TLSSocket | null = null;
  private udp: UdpSocket | null = null;
  private connecting = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private sent = 0;
  private dropped = 0;
  private lastError: string | null = null;
  private lastErrorAt: Date | null = null;
  private lastSentAt: Date | null = null;

  constructor(
    readonly target: SyslogTarget,
    options: SyslogSenderOptions = {},
  ) {
    this.options = options;
    this.queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.backoffMs = options.minBackoffMs ?? 500;
  }

  /** The UTF-8 budget of one message (UDP), for the formatter. */
  get maxMessageBytes(): number | undefined {
    return this.target.protocol === 'udp' ? (this.options.udpMaxBytes ?? DEFAULT_UDP_MAX_BYTES) : undefined;
  }

  /** Queues one message; never throws, never waits. */
  send(message: string): void {
    if (this.closed) return;
    this.queue.push(message);
    while (this.queue.length > this.queueLimit) {
      this.queue.shift();
      this.dropped++;
    }
    this.flush();
  }

  status(): SyslogStatus {
    const host = isIP(this.target.host) === 6 ? `[${this.target.host}]` : this.target.host;
    return {
      target: `${this.target.protocol}://${host}:${this.target.port}`,
      protocol: this.target.protocol,
      connected: this.target.protocol === 'udp' ? this.udp !== null : this.stream !== null && !this.connecting,
      queued: this.queue.length,
      sent: this.sent,
      dropped: this.dropped,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt?.toISOString() ?? null,
      lastSentAt: this.lastSentAt?.toISOString() ?? null,
    };
  }

  /** Resolves once the queue is empty (or after `timeoutMs`); for tests and a clean stop. */
  async drain(timeoutMs = 2_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.queue.length === 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stream?.destroy();
    this.stream = null;
    const udp = this.udp;
    this.udp = null;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
  }

  private fail(message: string): void {
    this.lastError = message;
    this.lastErrorAt = new Date();
    this.options.onError?.(message);
  }

  private flush(): void {
    if (this.closed) return;
    if (this.target.protocol === 'udp') {
      this.flushUdp();
      return;
    }
    if (this.stream === null) {
      this.connect();
      return;
    }
    if (this.connecting) return;
    while (this.queue.length > 0 && !this.stream.writableNeedDrain) {
      const message = this.queue.shift() as string;
      this.stream.write(frameOctetCounted(message));
      this.sent++;
      this.lastSentAt = new Date();
    }
  }

  private flushUdp(): void {
    if (this.udp === null) {
      const socket = createSocket(isIP(this.target.host) === 6 ? 'udp6' : 'udp4');
      socket.on('error', (error) => this.fail(`udp: ${error.message}`));
      socket.unref();
      this.udp = socket;
    }
    const socket = this.udp;
    while (this.queue.length > 0) {
      const datagram = Buffer.from(this.queue.shift() as string, 'utf8');
      socket.send(datagram, this.target.port, this.target.host, (error) => {
        if (error) this.fail(`udp: ${error.message}`);
      });
      this.sent++;
      this.lastSentAt = new Date();
    }
  }

  private connect(): void {
    if (this.connecting || this.reconnectTimer !== null || this.closed) return;
    this.connecting = true;
    const { host, port } = this.target;
    let socket: Socket | TLSSocket;
    if (this.target.protocol === 'tls') {
      const pinned = this.target.fingerprint !== undefined ? normalizeFingerprint(this.target.fingerprint) : null;
      const tls: TLSSocket = tlsConnect({
        host,
        port,
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ...(this.target.ca !== undefined ? { ca: this.target.ca } : {}),
        // A pinned certificate replaces chain and name checks (RFC 5425 §5.2 fingerprints); Node skips
        // checkServerIdentity when the chain does not verify, so the pin is checked on the connected socket.
        ...(pinned !== null ? { rejectUnauthorized: false } : {}),
      });
      socket = tls;
      tls.once('secureConnect', () => {
        const presented = (tls.getPeerCertificate() as PeerCertificate | undefined)?.fingerprint256;
        if (pinned !== null && presented !== pinned) {
          tls.destroy(new Error(`certificate fingerprint ${presented ?? 'none'} is not the pinned one`));
          return;
        }
        this.connected();
      });
    } else {
      socket = netConnect({ host, port });
      socket.once('connect', () => this.connected());
    }
    socket.setKeepAlive(true, 30_000);
    socket.unref();
    socket.on('drain', () => this.flush());
    socket.on('error', (error: Error) => this.fail(`${this.target.protocol}: ${error.message}`));
    // Collectors do not answer; anything they send is ignored.
    socket.on('data', () => undefined);
    socket.once('close', () => {
      if (this.stream === socket) this.stream = null;
      this.connecting = false;
      this.scheduleReconnect();
    });
    this.stream = socket;
  }

  private connected(): void {
    this.connecting = false;
    this.backoffMs = this.options.minBackoffMs ?? 500;
    this.flush();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== null) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.queue.length > 0) this.flush();
    }, delay);
    this.reconnectTimer.unref();
  }
}

/** SHA-256 fingerprint of a PEM certificate as Node prints it (for tests and the docs' example). */
export function pemFingerprint(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return (createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g) ?? []).join(':');
}
