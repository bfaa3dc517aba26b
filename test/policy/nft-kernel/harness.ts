/**
 * @module A real kernel to check compiled nftables against (docs/adr/0157-nft-compilation.md): a router network
 * namespace with three veth interfaces (`rlan`, `rwan`, `ropt1`), each leading to a peer namespace that owns a
 * /16 and a /48 of sources and destinations (10.N/16, 2001:db8:N::/48 for N = 1, 2, 3) routed through it. Neighbours
 * are static both ways (no ARP or neighbour discovery that a ruleset could block). A Python agent in each peer sends
 * raw IPv4 and IPv6 packets with any source address and captures what arrives (before its own sink table drops it), so a
 * forwarded packet is observed as delivered, answered by the router (TCP RST or ICMP unreachable) or dropped.
 * Namespaces have unique names and are deleted by `close()`. Needs root, `ip`, `nft`, `conntrack` and python3.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Peer interface keys, in the order of their /16 (10.1, 10.2, 10.3) and link network (192.168.1-3). */
export const PEERS = ['lan', 'wan', 'opt1'] as const;
export type PeerKey = (typeof PEERS)[number];
/** The router's device for each peer key (the compiled ruleset names these). */
export const ROUTER_DEVICE: Record<PeerKey, string> = { lan: 'rlan', wan: 'rwan', opt1: 'ropt1' };

/** One packet sent from the `ingress` peer to an address of the `egress` peer. */
export interface KernelPacket {
  /** IPv4 id or IPv6 flow label: how the agents recognise the packet and the ICMP errors quoting it. */
  id: number;
  /** Addressed to the router itself (pf `in` only; delivered = seen by the router's input hook after the filter). */
  local: boolean;
  /**
   * Sent by the router itself (its output hook, pf `out` only) from its address on `egress`; `ingress` is then
   * `egress` too, and a reject answer comes back to the router.
   */
  fromRouter?: boolean;
  ingress: PeerKey;
  egress: PeerKey;
  /** 6 tcp, 17 udp, 1 icmp (IPv4), 58 ipv6-icmp. */
  proto: 6 | 17 | 1 | 58;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** TCP flag bits (F=1 S=2 R=4 P=8 A=16). */
  flags: number;
  seq: number;
  ack: number;
  icmpType: number;
  icmpId: number;
}

export type KernelVerdict = 'pass' | 'block' | 'reject';

interface Seen {
  id: number;
  proto: number;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  flags?: number;
  icmpType?: number;
  innerId?: number;
  innerSrc?: string;
}

/** Why the kernel test cannot run here, or null when it can. */
export function kernelSkipReason(): string | null {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (ip netns, raw sockets)';
  for (const [tool, args] of [['nft', ['--version']], ['ip', ['-V']], ['conntrack', ['--version']], ['python3', ['--version']]] as const) {
    if (spawnSync(tool, args).status !== 0) return `needs ${tool}`;
  }
  return null;
}

const AGENT = join(dirname(fileURLToPath(import.meta.url)), 'agent.py');

function run(args: string[], input?: string): string {
  return execFileSync(args[0] as string, args.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

function macOf(namespace: string, device: string): string {
  const mac = /"address":"([0-9a-f:]+)"/.exec(run(['ip', '-n', namespace, '-j', 'link', 'show', device]))?.[1];
  if (mac === undefined) throw new Error(`no MAC address for ${device} in ${namespace}`);
  return mac;
}

/** A line-protocol child process in a peer namespace. */
class Agent {
  private readonly lines: Interface;
  private readonly waiting: Array<(line: string) => void> = [];
  private readonly buffered: string[] = [];
  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => {
      const waiter = this.waiting.shift();
      if (waiter !== undefined) waiter(line);
      else this.buffered.push(line);
    });
  }

  next(): Promise<string> {
    const line = this.buffered.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('packet agent did not answer within 10 s')), 10_000);
      this.waiting.push((answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  }

  async request(command: object): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    return JSON.parse(await this.next()) as Record<string, unknown>;
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

export class KernelLab {
  readonly router: string;
  private readonly peers: Record<PeerKey, string>;
  private agents: Partial<Record<PeerKey, Agent>> = {};
  /** Sends the router's own packets (raw socket in the router namespace) and sees the answers to them on `lo`. */
  private routerAgent: Agent | null = null;

  private constructor(prefix: string) {
    this.router = `${prefix}-r`;
    this.peers = { lan: `${prefix}-lan`, wan: `${prefix}-wan`, opt1: `${prefix}-opt1` };
  }

  /** Creates the namespaces, links, routes and agents. */
  static async open(): Promise<KernelLab> {
    const lab = new KernelLab(`pcnft-${process.pid}-${randomBytes(3).toString('hex')}`);
    try {
      await lab.build();
    } catch (error) {
      lab.close();
      throw error;
    }
    return lab;
  }

  private async build(): Promise<void> {
    const r = this.router;
    run(['ip', 'netns', 'add', r]);
    run(['ip', '-n', r, 'link', 'set', 'lo', 'up']);
    const sysctls = [
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
      'net.ipv4.conf.all.send_redirects=0',
      // Every reject answer must leave: no ICMP rate limits in the router.
      'net.ipv4.icmp_ratelimit=0',
      'net.ipv4.icmp_msgs_per_sec=100000',
      'net.ipv4.icmp_msgs_burst=100000',
      'net.ipv6.conf.all.forwarding=1',
      'net.ipv6.icmp.ratelimit=0',
      // Reject answers carry the rejected packet's mark, which the compiled output hook lets out (REJECT_MARK).
      'net.ipv4.fwmark_reflect=1',
      'net.ipv6.fwmark_reflect=1',
    ];
    run(['ip', 'netns', 'exec', r, 'sysctl', '-qw', ...sysctls]);
    for (const [index, key] of PEERS.entries()) {
      const peer = this.peers[key];
      const n = index + 1;
      run(['ip', 'netns', 'add', peer]);
      run(['ip', '-n', r, 'link', 'add', ROUTER_DEVICE[key], 'type', 'veth', 'peer', 'name', 'p0', 'netns', peer]);
      run(['ip', 'netns', 'exec', r, 'sysctl', '-qw', `net.ipv4.conf.${ROUTER_DEVICE[key]}.rp_filter=0`]);
      run(['ip', '-n', r, 'addr', 'add', `192.168.${n}.1/24`, 'dev', ROUTER_DEVICE[key]]);
      run(['ip', '-n', r, 'link', 'set', ROUTER_DEVICE[key], 'up']);
      run(['ip', '-n', peer, 'link', 'set', 'lo', 'up']);
      run(['ip', '-n', peer, 'addr', 'add', `192.168.${n}.2/24`, 'dev', 'p0']);
      run(['ip', '-n', peer, 'link', 'set', 'p0', 'up']);
      run(['ip', '-n', peer, 'route', 'add', 'default', 'via', `192.168.${n}.1`]);
      run(['ip', '-n', r, 'route', 'add', `10.${n}.0.0/16`, 'via', `192.168.${n}.2`]);
      run(['ip', '-n', r, 'addr', 'add', `fd00:${n}::1/64`, 'dev', ROUTER_DEVICE[key], 'nodad']);
      run(['ip', '-n', peer, 'addr', 'add', `fd00:${n}::2/64`, 'dev', 'p0', 'nodad']);
      run(['ip', '-n', peer, '-6', 'route', 'add', 'default', 'via', `fd00:${n}::1`]);
      run(['ip', '-n', r, '-6', 'route', 'add', `2001:db8:${n}::/48`, 'via', `fd00:${n}::2`]);
      // The peer only observes: it drops everything arriving (after capture), so it never answers itself.
      run(['ip', 'netns', 'exec', peer, 'nft', '-f', '-'], [
        'table inet sink {',
        '  chain pre { type filter hook prerouting priority -300; policy drop; }',
        '}',
      ].join('\n'));
      const child = spawn('ip', ['netns', 'exec', peer, 'python3', AGENT, 'p0'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const agent = new Agent(child);
      this.agents[key] = agent;
      const ready = JSON.parse(await agent.next()) as { ready?: string };
      if (ready.ready !== 'p0') throw new Error(`packet agent in ${peer} did not start`);
    }
    const child = spawn('ip', ['netns', 'exec', r, 'python3', AGENT, 'lo'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.routerAgent = new Agent(child);
    const ready = JSON.parse(await this.routerAgent.next()) as { ready?: string };
    if (ready.ready !== 'lo') throw new Error(`packet agent in ${r} did not start`);
    // What the router delivers to itself is recorded (IPv4 id, IPv6 flow label) after the compiled filter's input
    // chain, then dropped, so the router's own stack never answers.
    run(['ip', 'netns', 'exec', r, 'nft', '-f', '-'], [
      'table inet observe {',
      '  set seen4 { typeof ip id; flags dynamic; size 65536; }',
      '  set seen6 { typeof ip6 flowlabel; flags dynamic; size 65536; }',
      '  chain input {',
      '    type filter hook input priority 100; policy drop;',
      '    meta nfproto ipv4 add @seen4 { ip id }',
      '    meta nfproto ipv6 add @seen6 { ip6 flowlabel }',
      '  }',
      '}',
    ].join('\n'));
    // Static neighbours both ways, so no packet of a batch waits in (or is dropped from) an ARP queue.
    for (const [index, key] of PEERS.entries()) {
      const n = index + 1;
      run(['ip', '-n', r, 'neigh', 'replace', `192.168.${n}.2`, 'dev', ROUTER_DEVICE[key], 'lladdr', macOf(this.peers[key], 'p0')]);
      run(['ip', '-n', this.peers[key], 'neigh', 'replace', `192.168.${n}.1`, 'dev', 'p0', 'lladdr', macOf(r, ROUTER_DEVICE[key])]);
      run(['ip', '-n', r, 'neigh', 'replace', `fd00:${n}::2`, 'dev', ROUTER_DEVICE[key], 'lladdr', macOf(this.peers[key], 'p0'), 'nud', 'permanent']);
      run(['ip', '-n', this.peers[key], 'neigh', 'replace', `fd00:${n}::1`, 'dev', 'p0', 'lladdr', macOf(r, ROUTER_DEVICE[key]), 'nud', 'permanent']);
    }
  }

  /** Loads an nft script into the router namespace (throws with nft's message when it is refused). */
  load(script: string): void {
    run(['ip', 'netns', 'exec', this.router, 'nft', '-f', '-'], script);
    // The engine has no TCP window tracking; conntrack must not mark packets invalid for their sequence numbers.
    run(['ip', 'netns', 'exec', this.router, 'sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_be_liberal=1', 'net.netfilter.nf_conntrack_tcp_loose=1']);
  }

  /** Forgets every connection (a new round starts with an empty state table, as a fresh evaluator does). */
  flushConntrack(): void {
    spawnSync('ip', ['netns', 'exec', this.router, 'conntrack', '-F'], { stdio: 'ignore' });
  }

  /** Sends a batch and returns what the kernel did with each packet. */
  async send(packets: readonly KernelPacket[], settleMs = 150): Promise<KernelVerdict[]> {
    const routerAgent = this.routerAgent as Agent;
    const agents = [...PEERS.map((key) => this.agents[key] as Agent), routerAgent];
    run(['ip', 'netns', 'exec', this.router, 'nft', '-f', '-'], 'flush set inet observe seen4\nflush set inet observe seen6\n');
    await Promise.all(agents.map((agent) => agent.request({ op: 'start' })));
    const own = packets.filter((p) => p.fromRouter === true);
    await Promise.all([
      ...PEERS.map((key) => {
        const sent = packets.filter((p) => p.ingress === key && p.fromRouter !== true);
        return sent.length === 0 ? Promise.resolve() : (this.agents[key] as Agent).request({ op: 'send', packets: sent });
      }),
      own.length === 0 ? Promise.resolve() : routerAgent.request({ op: 'send', packets: own }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const seen = new Map<PeerKey, Seen[]>();
    for (const key of PEERS) {
      const answer = await (this.agents[key] as Agent).request({ op: 'stop' });
      seen.set(key, answer.seen as Seen[]);
    }
    const atRouter = (await routerAgent.request({ op: 'stop' })).seen as Seen[];
    const delivered = packets.some((p) => p.local) ? this.deliveredLocally() : new Set<string>();
    return packets.map((p) =>
      p.local && delivered.has(`${p.src.includes(':') ? 6 : 4}/${p.id}`)
        ? 'pass'
        : classify(
            p,
            p.fromRouter === true ? atRouter : (seen.get(p.ingress) ?? []),
            p.local ? [] : (seen.get(p.egress) ?? []),
          ),
    );
  }

  /** `4/<id>` and `6/<flow label>` of every packet the router's input hook let through since the last flush. */
  private deliveredLocally(): Set<string> {
    const found = new Set<string>();
    for (const family of [4, 6] as const) {
      const listing = JSON.parse(run(['ip', 'netns', 'exec', this.router, 'nft', '-j', 'list', 'set', 'inet', 'observe', `seen${family}`])) as {
        nftables: Array<{ set?: { elem?: number[] } }>;
      };
      for (const entry of listing.nftables) for (const id of entry.set?.elem ?? []) found.add(`${family}/${id}`);
    }
    return found;
  }

  close(): void {
    for (const agent of Object.values(this.agents)) agent.close();
    this.agents = {};
    this.routerAgent?.close();
    this.routerAgent = null;
    for (const ns of [this.router, ...Object.values(this.peers)]) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    }
  }
}

/** Delivered to the egress peer → pass; a RST or ICMP unreachable back to the sender → reject; else block. */
function classify(p: KernelPacket, atIngress: readonly Seen[], atEgress: readonly Seen[]): KernelVerdict {
  if (atEgress.some((s) => s.id === p.id && s.src === p.src && s.dst === p.dst && s.proto === p.proto)) return 'pass';
  const reset = atIngress.some(
    (s) =>
      p.proto === 6 &&
      s.proto === 6 &&
      s.src === p.dst &&
      s.dst === p.src &&
      s.sport === p.dport &&
      s.dport === p.sport &&
      ((s.flags ?? 0) & 4) !== 0,
  );
  const unreachable = atIngress.some(
    (s) =>
      ((s.proto === 1 && s.icmpType === 3) || (s.proto === 58 && s.icmpType === 1)) &&
      s.innerId === p.id &&
      s.innerSrc === p.src,
  );
  return reset || unreachable ? 'reject' : 'block';
}
