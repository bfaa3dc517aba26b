/**
 * @module A simplified render of fw4's ruleset for `nft -j list ruleset` and `nft list ruleset`
 * (docs/reference/openwrt-api.md §5, §8): base chains, per-zone chains with their jumps and policies, `rule`
 * sections (proto, src_ip, dest_ip, dest_port, ipset, target), `redirect` DNAT, `nat` SNAT/MASQUERADE and zone
 * masquerading, in UCI section order. Counters are zero; no packet is ever evaluated.
 */
import { optionList, type UciPackage, type UciSection } from './uci.ts';

type Expr = Record<string, unknown>;

interface Rendered {
  chains: Array<{ name: string; hook?: string; prio?: number; policy?: string; type?: string }>;
  rules: Array<{ chain: string; expr: Expr[]; comment?: string }>;
}

const opt = (s: UciSection, k: string): string | undefined => {
  const v = s.options[k];
  return Array.isArray(v) ? v[0] : v;
};
const enabled = (s: UciSection): boolean => !['0', 'false', 'no', 'off'].includes(opt(s, 'enabled') ?? '1');

function addrMatch(field: 'saddr' | 'daddr', value: string): Expr {
  const neg = value.startsWith('!');
  const v = neg ? value.slice(1) : value;
  const proto = v.includes(':') ? 'ip6' : 'ip';
  const slash = v.indexOf('/');
  const right = slash > 0 ? { prefix: { addr: v.slice(0, slash), len: Number(v.slice(slash + 1)) } } : v;
  return { match: { op: neg ? '!=' : '==', left: { payload: { protocol: proto, field } }, right } };
}

function portMatch(proto: string, field: 'sport' | 'dport', value: string): Expr {
  const ports = value.split(/[\s,]+/).filter(Boolean).map((p) => {
    const [a, b] = p.split(/[-:]/);
    return b !== undefined ? { range: [Number(a), Number(b)] } : Number(a);
  });
  const right = ports.length === 1 ? ports[0] : { set: ports };
  return { match: { op: '==', left: { payload: { protocol: proto, field } }, right } };
}

function verdict(target: string): Expr {
  switch (target.toUpperCase()) {
    case 'ACCEPT':
      return { accept: null };
    case 'DROP':
      return { drop: null };
    case 'REJECT':
      return { jump: { target: 'handle_reject' } };
    default:
      return { accept: null };
  }
}

/** Renders the loaded firewall config; `setDirections` tells which address field a named set matches. */
export function renderRuleset(fw: UciPackage | undefined, devices: Record<string, string>, setDirections: Record<string, string>): Rendered {
  const sections = (fw?.sections ?? []).filter(enabled);
  const defaults = sections.find((s) => s.type === 'defaults');
  const zones = sections.filter((s) => s.type === 'zone' && opt(s, 'name'));
  const out: Rendered = {
    chains: [
      { name: 'input', type: 'filter', hook: 'input', prio: 0, policy: (opt(defaults ?? ({ options: {} } as UciSection), 'input') ?? 'ACCEPT') === 'ACCEPT' ? 'accept' : 'drop' },
      { name: 'forward', type: 'filter', hook: 'forward', prio: 0, policy: 'drop' },
      { name: 'output', type: 'filter', hook: 'output', prio: 0, policy: 'accept' },
      { name: 'dstnat', type: 'nat', hook: 'prerouting', prio: -100 },
      { name: 'srcnat', type: 'nat', hook: 'postrouting', prio: 100 },
      { name: 'handle_reject' },
    ],
    rules: [],
  };
  out.rules.push({ chain: 'input', expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'lo' } }, { accept: null }], comment: '!fw4: Accept traffic from loopback' });
  out.rules.push({ chain: 'input', expr: [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } }, { accept: null }], comment: '!fw4: Allow inbound established and related flows' });
  out.rules.push({ chain: 'forward', expr: [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } }, { accept: null }], comment: '!fw4: Allow forwarded established and related flows' });
  out.rules.push({ chain: 'handle_reject', expr: [{ match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } }, { reject: { type: 'tcp reset' } }], comment: '!fw4: Reject TCP traffic' });
  out.rules.push({ chain: 'handle_reject', expr: [{ reject: { type: 'icmpx', expr: 'port-unreachable' } }], comment: '!fw4: Reject any other traffic' });

  for (const z of zones) {
    const name = opt(z, 'name') as string;
    const devs = optionList(z.options.network).map((n) => devices[n] ?? n);
    const iif = { match: { op: '==', left: { meta: { key: 'iifname' } }, right: devs.length === 1 ? devs[0] : { set: devs } } };
    const oif = { match: { op: '==', left: { meta: { key: 'oifname' } }, right: devs.length === 1 ? devs[0] : { set: devs } } };
    for (const c of ['input', 'forward', 'output', 'dstnat', 'srcnat']) out.chains.push({ name: `${c}_${name}` });
    if (devs.length) {
      out.rules.push({ chain: 'input', expr: [iif, { jump: { target: `input_${name}` } }], comment: `!fw4: Handle ${name} IPv4/IPv6 input traffic` });
      out.rules.push({ chain: 'forward', expr: [iif, { jump: { target: `forward_${name}` } }], comment: `!fw4: Handle ${name} IPv4/IPv6 forward traffic` });
      out.rules.push({ chain: 'output', expr: [oif, { jump: { target: `output_${name}` } }], comment: `!fw4: Handle ${name} IPv4/IPv6 output traffic` });
      out.rules.push({ chain: 'dstnat', expr: [iif, { jump: { target: `dstnat_${name}` } }], comment: `!fw4: Handle ${name} IPv4/IPv6 dstnat traffic` });
      out.rules.push({ chain: 'srcnat', expr: [oif, { jump: { target: `srcnat_${name}` } }], comment: `!fw4: Handle ${name} IPv4/IPv6 srcnat traffic` });
    }
    out.chains.push({ name: `accept_to_${name}` });
    if (devs.length)
      out.rules.push({ chain: `accept_to_${name}`, expr: [oif, { counter: { packets: 0, bytes: 0 } }, { accept: null }], comment: `!fw4: accept ${name} IPv4/IPv6 traffic` });
    if (opt(z, 'masq') === '1')
      out.rules.push({ chain: `srcnat_${name}`, expr: [{ masquerade: null }], comment: `!fw4: Masquerade IPv4 ${name} traffic` });
  }

  for (const f of sections.filter((s) => s.type === 'forwarding')) {
    const src = opt(f, 'src');
    const dest = opt(f, 'dest');
    if (src && dest)
      out.rules.push({ chain: `forward_${src}`, expr: [{ jump: { target: `accept_to_${dest}` } }], comment: `!fw4: Accept ${src} to ${dest} forwarding` });
  }

  const common = (s: UciSection, proto: string | undefined): Expr[] => {
    const e: Expr[] = [];
    if (proto && proto !== 'all' && !proto.includes(' ')) e.push({ match: { op: '==', left: { meta: { key: 'l4proto' } }, right: proto } });
    const src = opt(s, 'src_ip');
    if (src) e.push(addrMatch('saddr', src));
    const ipset = opt(s, 'ipset');
    if (ipset) {
      const neg = ipset.startsWith('!');
      const setName = (neg ? ipset.slice(1) : ipset).split(/\s+/)[0] as string;
      const field = setDirections[setName] === 'dest' ? 'daddr' : 'saddr';
      e.push({ match: { op: neg ? '!=' : '==', left: { payload: { protocol: 'ip', field } }, right: `@${setName}` } });
    }
    const dst = opt(s, 'dest_ip');
    if (dst) e.push(addrMatch('daddr', dst));
    return e;
  };

  for (const s of sections) {
    const name = opt(s, 'name');
    const proto = opt(s, 'proto') ?? (s.type === 'rule' ? undefined : 'tcp');
    const l4 = proto && ['tcp', 'udp'].includes(proto) ? proto : 'th';
    if (s.type === 'rule') {
      const src = opt(s, 'src');
      const dest = opt(s, 'dest');
      const chain = src ? (dest ? `forward_${src}` : `input_${src}`) : dest ? `output_${dest}` : 'output';
      const e = common(s, proto);
      const dport = opt(s, 'dest_port');
      if (dport) e.push(portMatch(l4, 'dport', dport));
      e.push({ counter: { packets: 0, bytes: 0 } }, verdict(opt(s, 'target') ?? 'DROP'));
      out.rules.push({ chain, expr: e, ...(name ? { comment: `!fw4: ${name}` } : {}) });
    } else if (s.type === 'redirect') {
      const target = (opt(s, 'target') ?? 'DNAT').toUpperCase();
      const src = opt(s, 'src') ?? 'wan';
      const e = common(s, proto);
      if (target === 'DNAT') {
        const sport = opt(s, 'src_dport');
        if (sport) e.push(portMatch(l4, 'dport', sport));
        const addr = opt(s, 'dest_ip');
        const port = opt(s, 'dest_port');
        e.push({ counter: { packets: 0, bytes: 0 } }, { dnat: { ...(addr ? { addr } : {}), ...(port ? { port: Number(port) } : {}) } });
        out.rules.push({ chain: `dstnat_${src}`, expr: e, ...(name ? { comment: `!fw4: ${name}` } : {}) });
      } else {
        const ip = opt(s, 'src_dip');
        e.push({ counter: { packets: 0, bytes: 0 } }, { snat: { ...(ip ? { addr: ip } : {}) } });
        out.rules.push({ chain: `srcnat_${opt(s, 'dest') ?? 'wan'}`, expr: e, ...(name ? { comment: `!fw4: ${name}` } : {}) });
      }
    } else if (s.type === 'nat') {
      const src = opt(s, 'src') ?? 'wan';
      const e = common(s, opt(s, 'proto'));
      const target = (opt(s, 'target') ?? 'MASQUERADE').toUpperCase();
      const snat = opt(s, 'snat_ip');
      e.push(
        { counter: { packets: 0, bytes: 0 } },
        target === 'SNAT' ? { snat: { ...(snat ? { addr: snat } : {}) } } : target === 'ACCEPT' ? { accept: null } : { masquerade: null },
      );
      out.rules.push({ chain: `srcnat_${src}`, expr: e, ...(name ? { comment: `!fw4: ${name}` } : {}) });
    }
  }
  return out;
}

export function rulesetJson(r: Rendered, firstHandle: number): unknown[] {
  let handle = firstHandle;
  const objs: unknown[] = [];
  for (const c of r.chains)
    objs.push({
      chain: {
        family: 'inet',
        table: 'fw4',
        name: c.name,
        handle: handle++,
        ...(c.hook ? { type: c.type, hook: c.hook, prio: c.prio, policy: c.policy ?? 'accept' } : {}),
      },
    });
  for (const rule of r.rules)
    objs.push({
      rule: { family: 'inet', table: 'fw4', chain: rule.chain, handle: handle++, ...(rule.comment ? { comment: rule.comment } : {}), expr: rule.expr },
    });
  return objs;
}

function exprText(e: Expr): string {
  const [k, v] = Object.entries(e)[0] as [string, Record<string, unknown> | null];
  if (k === 'match') {
    const m = v as { op: string; left: Record<string, Record<string, string>>; right: unknown };
    const left = m.left.meta ? `meta ${m.left.meta.key}` : m.left.ct ? `ct ${m.left.ct.key}` : `${m.left.payload?.protocol} ${m.left.payload?.field}`;
    const right = (x: unknown): string =>
      typeof x === 'object' && x !== null
        ? 'prefix' in x
          ? `${(x as { prefix: { addr: string; len: number } }).prefix.addr}/${(x as { prefix: { len: number } }).prefix.len}`
          : 'set' in x
            ? `{ ${(x as { set: unknown[] }).set.map(right).join(', ')} }`
            : 'range' in x
              ? (x as { range: number[] }).range.join('-')
              : Array.isArray(x)
                ? x.join(',')
                : JSON.stringify(x)
        : String(x);
    return `${left} ${m.op === '==' ? '' : `${m.op} `}${right(m.right)}`.replace(/\s+/g, ' ');
  }
  if (k === 'counter') return 'counter packets 0 bytes 0';
  if (k === 'jump') return `jump ${(v as { target: string }).target}`;
  if (k === 'dnat') {
    const d = v as { addr?: string; port?: number };
    return `dnat ip to ${d.addr ?? ''}${d.port ? `:${d.port}` : ''}`;
  }
  if (k === 'snat') return `snat ip to ${(v as { addr?: string }).addr ?? ''}`;
  if (k === 'reject') return 'reject';
  return k;
}

export function rulesetText(r: Rendered): string {
  let text = '';
  for (const c of r.chains) {
    text += `\n\tchain ${c.name} {\n`;
    if (c.hook) text += `\t\ttype ${c.type} hook ${c.hook} priority ${c.prio}; policy ${c.policy ?? 'accept'};\n`;
    for (const rule of r.rules.filter((x) => x.chain === c.name))
      text += `\t\t${rule.expr.map(exprText).join(' ')}${rule.comment ? ` comment "${rule.comment}"` : ''}\n`;
    text += '\t}\n';
  }
  return text;
}
