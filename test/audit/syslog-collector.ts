/** @module A real UDP syslog collector on 127.0.0.1 for the forwarder tests: keeps each message's audit id and host. */
import { createSocket, type Socket } from 'node:dgram';
import { SYSLOG_SD_ID } from '../../src/audit/syslog.ts';
import { parse5424 } from './rfc5424.ts';

export interface Received {
  auditId: number;
  hostname: string;
}

export class UdpCollector {
  readonly received: Received[] = [];
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(): Promise<UdpCollector> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const collector = new UdpCollector(socket, socket.address().port);
    socket.on('message', (datagram) => {
      const parsed = parse5424(datagram.toString('utf8'));
      collector.received.push({
        auditId: Number(parsed.sd.get(SYSLOG_SD_ID)?.get('audit_id')),
        hostname: parsed.hostname,
      });
    });
    return collector;
  }

  /** How many times each audit id arrived. */
  counts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const { auditId } of this.received) counts.set(auditId, (counts.get(auditId) ?? 0) + 1);
    return counts;
  }

  async waitForIds(ids: readonly number[], timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = this.counts();
      if (ids.every((id) => counts.has(id))) return;
      if (Date.now() > deadline) {
        throw new Error(`timed out; missing ids ${ids.filter((id) => !counts.has(id)).join(',')}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
