/**
 * @module An in-memory `AliasTarget` for the reconciler's unit tests: configured vs applied entries kept apart
 * like a real box, every call recorded, failures queued per method, and gates that hold a call open so tests
 * can decide exactly what arrives while a write or apply is in flight. The emulator-backed tests cover the
 * real adapter over HTTPS; this target isolates the reconciler's own logic.
 */
import {
  AdapterError,
  type AliasEntry,
  type AliasTarget,
  type ApplyResult,
  type DeviceAlias,
} from '../../../src/adapters/types.ts';

type Method = 'getAlias' | 'createAlias' | 'setAliasEntries' | 'apply' | 'killStates';

export class MemoryAliasTarget implements AliasTarget {
  readonly aliases = new Map<string, DeviceAlias>();
  /** Entries live after the last apply, per alias. */
  readonly applied = new Map<string, AliasEntry[]>();
  readonly calls: { method: Method; arg?: unknown }[] = [];
  /** Open connections per address, dropped by `killStates`. */
  readonly states = new Map<string, number>();
  /** When true, writes answer success but store nothing (pfSense "Deny Config Write"). */
  silentlyDropWrites = false;
  private readonly failures = new Map<Method, AdapterError[]>();
  private readonly gates = new Map<
    Method,
    { promise: Promise<void>; release: () => void; entered: () => void; reached: Promise<void> }
  >();

  count(method: Method): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  /** The next `times` calls of `method` throw `error`. */
  failNext(method: Method, error: AdapterError, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.failures.set(method, queue);
  }

  /** Holds the next call of `method` open until `release()`; `reached` resolves once it is in flight. */
  hold(method: Method): { release: () => void; reached: Promise<void> } {
    let release!: () => void;
    let entered!: () => void;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reached = new Promise<void>((resolve) => {
      entered = resolve;
    });
    this.gates.set(method, { promise, release, entered, reached });
    return { release, reached };
  }

  private async enter(method: Method, arg?: unknown): Promise<void> {
    this.calls.push({ method, arg });
    const gate = this.gates.get(method);
    if (gate !== undefined) {
      this.gates.delete(method);
      gate.entered();
      await gate.promise;
    }
    const failure = this.failures.get(method)?.shift();
    if (failure !== undefined) throw failure;
  }

  async getAlias(name: string): Promise<DeviceAlias | null> {
    await this.enter('getAlias', name);
    const alias = this.aliases.get(name);
    return alias === undefined ? null : structuredClone(alias);
  }

  async createAlias(name: string, type: 'host' | 'network', description: string): Promise<void> {
    await this.enter('createAlias', name);
    this.aliases.set(name, { name, type, descr: description, entries: [] });
  }

  async setAliasEntries(name: string, entries: AliasEntry[]): Promise<void> {
    await this.enter('setAliasEntries', entries.length);
    const alias = this.aliases.get(name);
    if (alias === undefined) throw new AdapterError('memory', 'PFS103', `alias ${name} not found`);
    if (!this.silentlyDropWrites) alias.entries = structuredClone(entries);
  }

  async apply(): Promise<ApplyResult> {
    await this.enter('apply');
    for (const [name, alias] of this.aliases) this.applied.set(name, structuredClone(alias.entries));
    return { applied: true, pending: [] };
  }

  async killStates(ip: string): Promise<number> {
    await this.enter('killStates', ip);
    const count = this.states.get(ip) ?? 0;
    this.states.delete(ip);
    return count;
  }

  appliedAddresses(name: string): string[] {
    return (this.applied.get(name) ?? []).map((entry) => entry.address);
  }
}
