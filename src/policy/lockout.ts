/**
 * @module The lock-out check: does Portcullis's own path to the gateway's API (a TCP connection from Portcullis's
 * address, as the gateway sees it, to the API address and port, arriving on one interface) still pass after a
 * change? The connection's first packet (a SYN, state table empty) is evaluated against both rulesets; its replies
 * then pass by state (docs/reference/pf-semantics.md §2.4). Pure; no I/O.
 */
import { createEvaluator, type EvaluationResult, type RuleRef, type Verdict } from './evaluate.ts';
import type { PfRuleset } from './model.ts';
import { type Packet, PacketError } from './packet.ts';

/** How Portcullis reaches the gateway's API. */
export interface ManagementPath {
  /** Interface the connection arrives on (key, description or device: `lan`, `LAN`, `em1`). */
  interface: string;
  /** Portcullis's address as the gateway sees it (after any NAT in front of the gateway). */
  source: string;
  /** The gateway's API address and port. */
  address: string;
  port: number;
  /** Source port of the connection (default: the ephemeral port 49152). */
  sourcePort?: number;
}

interface LockoutSide {
  verdict: Verdict;
  rule: RuleRef | null;
  explanation: string;
}

export interface LockoutCheck {
  /**
   * `passes`: the path passes after the change (and is not redirected elsewhere by NAT); `cut`: it passed before
   * and no longer does, or a new redirect sends it to another host (a lock-out); `blocked`:
   * it did not pass before either; `unknown`: run-time contents (a dynamic alias) decide after the change.
   */
  status: 'passes' | 'cut' | 'blocked' | 'unknown';
  packet: string;
  before: LockoutSide;
  after: LockoutSide;
}

/** The connection's first packet. */
function managementPacket(path: ManagementPath): Packet {
  return {
    interface: path.interface,
    direction: 'in',
    proto: 'tcp',
    src: path.source,
    srcPort: path.sourcePort ?? 49152,
    dst: path.address,
    dstPort: path.port,
    tcpFlags: 'S',
  };
}

function side(result: EvaluationResult): LockoutSide {
  return { verdict: result.verdict, rule: result.rule, explanation: result.explanation };
}

/** Evaluates the management path before and after. Throws `PacketError` (naming the field) for a bad path. */
export function checkLockout(before: PfRuleset, after: PfRuleset, path: ManagementPath): LockoutCheck {
  const packet = managementPacket(path);
  const was = createEvaluator(before).evaluate(packet);
  const now = createEvaluator(after).evaluate(packet);
  // A pass that an rdr/binat sent to another address reaches another host, not the API.
  const reaches = (result: EvaluationResult) =>
    result.verdict === 'pass' &&
    !(result.translations ?? []).some((step) => step.stage === 'translate' && step.field === 'destination');
  const status = reaches(now)
    ? 'passes'
    : now.verdict === 'unknown'
      ? 'unknown'
      : reaches(was)
        ? 'cut'
        : 'blocked';
  return { status, packet: now.packet, before: side(was), after: side(now) };
}

/** The one-line form of a management path, for the CLI. */
export const MANAGEMENT_LINE_SYNTAX =
  '<interface> <source> -> <address>:<port>  (IPv6 in brackets: [2001:db8::1]:443)';

/** Parses `lan 192.168.1.50 -> 192.168.1.1:443`. Throws `PacketError` naming the part at fault. */
export function parseManagementLine(line: string): ManagementPath {
  const match = /^\s*(\S+)\s+(\S+)\s*->\s*(\[[^\]]+\]|[^\s:]+):(\d+)\s*$/.exec(line);
  if (match === null) throw new PacketError('management', `expected ${MANAGEMENT_LINE_SYNTAX}`);
  const port = Number(match[4]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PacketError('dstPort', `port ${match[4]} is not 1-65535`);
  }
  return {
    interface: match[1] as string,
    source: match[2] as string,
    address: (match[3] as string).replace(/^\[|\]$/g, ''),
    port,
  };
}
