/**
 * @module A strict reader of RFC 5424 SYSLOG-MSG (§6) for the tests: every header field, STRUCTURED-DATA with its
 * escapes (§6.3.3), and MSG (BOM-prefixed UTF-8 or plain); throws naming the rule a message breaks. Also the
 * octet-counted framing of RFC 6587 §3.4.1 / RFC 5425 §4.3.
 */
export interface Syslog5424 {
  pri: number;
  facility: number;
  severity: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: Map<string, Map<string, string>>;
  msg: string;
  msgIsUtf8: boolean;
}

function field(rest: string, name: string, max: number): [string, string] {
  const space = rest.indexOf(' ');
  if (space <= 0) throw new Error(`${name}: missing`);
  const value = rest.slice(0, space);
  if (value.length > max || !/^[\x21-\x7e]+$/.test(value)) throw new Error(`${name}: not 1*${max}PRINTUSASCII`);
  return [value, rest.slice(space + 1)];
}

export function parse5424(text: string): Syslog5424 {
  const head = /^<(\d{1,3})>([1-9]\d{0,2}) /.exec(text);
  if (!head) throw new Error('PRI VERSION');
  const pri = Number(head[1]);
  if (pri > 191 || (head[1] as string).length > 1 && (head[1] as string).startsWith('0')) throw new Error('PRI range');
  let rest = text.slice(head[0].length);
  const [timestamp, afterTime] = field(rest, 'TIMESTAMP', 64);
  rest = afterTime;
  if (
    timestamp !== '-' &&
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/.test(timestamp)
  ) {
    throw new Error('TIMESTAMP');
  }
  const [hostname, afterHost] = field(rest, 'HOSTNAME', 255);
  const [appName, afterApp] = field(afterHost, 'APP-NAME', 48);
  const [procId, afterProc] = field(afterApp, 'PROCID', 128);
  const [msgId, afterMsgId] = field(afterProc, 'MSGID', 32);
  rest = afterMsgId;
  const sd = new Map<string, Map<string, string>>();
  if (rest.startsWith('-')) {
    rest = rest.slice(1);
  } else {
    while (rest.startsWith('[')) {
      let i = 1;
      const idMatch = /^[^= \]"]{1,32}/.exec(rest.slice(i));
      if (!idMatch) throw new Error('SD-ID');
      const params = new Map<string, string>();
      sd.set(idMatch[0], params);
      i += idMatch[0].length;
      while (rest[i] === ' ') {
        i++;
        const name = /^[^= \]"]{1,32}/.exec(rest.slice(i));
        if (!name) throw new Error('PARAM-NAME');
        i += name[0].length;
        if (rest.slice(i, i + 2) !== '="') throw new Error(`PARAM ${name[0]}: ="`);
        i += 2;
        let value = '';
        for (;;) {
          const c = rest[i];
          if (c === undefined) throw new Error('PARAM-VALUE unterminated');
          if (c === '\\' && ['"', '\\', ']'].includes(rest[i + 1] ?? '')) {
            value += rest[i + 1];
            i += 2;
            continue;
          }
          if (c === '"') break;
          if (c === ']') throw new Error(`PARAM-VALUE ${name[0]}: unescaped ]`);
          value += c;
          i++;
        }
        i++;
        params.set(name[0], value);
      }
      if (rest[i] !== ']') throw new Error('SD-ELEMENT: ]');
      rest = rest.slice(i + 1);
    }
    if (sd.size === 0) throw new Error('STRUCTURED-DATA');
  }
  let msg = '';
  let msgIsUtf8 = false;
  if (rest.length > 0) {
    if (!rest.startsWith(' ')) throw new Error('SP before MSG');
    msg = rest.slice(1);
    if (msg.startsWith('\ufeff')) {
      msgIsUtf8 = true;
      msg = msg.slice(1);
    }
  }
  return {
    pri,
    facility: Math.floor(pri / 8),
    severity: pri % 8,
    version: Number(head[2]),
    timestamp,
    hostname,
    appName,
    procId,
    msgId,
    sd,
    msg,
    msgIsUtf8,
  };
}

/** `key=value` / `key="quoted \"value\""` pairs of a MSG, as a SIEM's key=value extractor reads them. */
export function parseKeyValues(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([A-Za-z_][A-Za-z0-9_]*)=(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))/g;
  let consumed = 0;
  for (const m of msg.matchAll(re)) {
    if (msg.slice(consumed, m.index).trim() !== '') throw new Error(`stray text before ${m[1]}`);
    out.set(m[1] as string, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] as string));
    consumed = (m.index ?? 0) + m[0].length;
  }
  if (msg.slice(consumed).trim() !== '') throw new Error('stray text at the end');
  return out;
}

/** Splits an octet-counted stream into messages; returns them and the unread rest. */
export function unframe(buffer: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let rest = buffer;
  for (;;) {
    const space = rest.indexOf(0x20);
    if (space <= 0) break;
    const lengthText = rest.subarray(0, space).toString('ascii');
    if (!/^[1-9]\d*$/.test(lengthText)) throw new Error(`MSG-LEN "${lengthText}"`);
    const length = Number(lengthText);
    if (rest.length < space + 1 + length) break;
    messages.push(rest.subarray(space + 1, space + 1 + length).toString('utf8'));
    rest = rest.subarray(space + 1 + length);
  }
  return { messages, rest };
}
