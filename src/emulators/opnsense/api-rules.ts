/**
 * @module Filter and NAT rules (docs/reference/opnsense-api.md §4, §5) — placeholder until the rule model lands.
 */
import type { Device } from './context.ts';
import type { Route } from './routes.ts';

export function tickRollback(_dev: Device): void {}

export const RULE_ROUTES: Route[] = [];
