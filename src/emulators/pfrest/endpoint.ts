/**
 * @module What an emulated pfRest endpoint is (one URL: its methods, fields and handler) and what an area module
 * gets to build its endpoints from: the box, the write effects and the calling user.
 */
import type { WriteEffects } from './collection.ts';
import type { RequestData } from './decode.ts';
import type { Controls } from './query.ts';
import type { PfRestState } from './state.ts';

export interface Caller {
  user: string;
  clientIp: string;
}

export interface RequestContext {
  method: string;
  data: RequestData;
  list: unknown[] | null;
  controls: Controls;
  caller: Caller;
}

export interface Endpoint {
  methods: readonly string[];
  fields: readonly string[];
  defaultLimit?: number;
  /** Auth methods this endpoint pins, whatever the global setting (§4: `/auth/key` is BasicAuth only). */
  authMethods?: readonly string[];
  handle(ctx: RequestContext): unknown;
}

/** What an area module (`areas/*.ts`) builds its endpoints from. */
export interface AreaContext {
  box(): PfRestState;
  effects: WriteEffects;
  /** Marks a non-filter subsystem clean, as its own apply endpoint does. */
  clearSubsystem(subsystem: string): void;
  /** Seconds since the epoch, for created/updated stamps. */
  now(): number;
}
