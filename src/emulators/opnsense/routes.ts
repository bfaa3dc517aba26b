/**
 * @module Routing as `OPNsense\Mvc\Router::parsePath` and `Dispatcher::resolve` do it
 * (docs/reference/opnsense-api.md §1): `/api/<module>/<controller>/<action>/<params…>`; the module matches
 * case-insensitively, the controller is `ucwords(part, '_')` without underscores (so `alias_util` and
 * `aliasUtil` both reach `AliasUtil`, `aliasutil` does not), the action is a PHP method name (case-insensitive).
 * A missing required parameter is a dispatch error (404) like an unknown action.
 */
import type { Ctx } from './context.ts';
import type { VersionProfile } from './types.ts';

export interface Route {
  module: string;
  /** Controller class name without `Controller`, e.g. `AliasUtil`. */
  controller: string;
  /** Action method name without `Action`, e.g. `searchItem`. */
  action: string;
  /** Required positional parameters of the action method. */
  required: number;
  /** Only on these firmware profiles (default: all). */
  versions?: readonly VersionProfile[];
  handler: (ctx: Ctx) => unknown;
}

export interface Resolved {
  route: Route;
  params: string[];
}

function ucwordsJoin(part: string): string {
  return part
    .split('_')
    .map((w) => (w === '' ? '' : (w[0] as string).toUpperCase() + w.slice(1)))
    .join('');
}

export function resolveRoute(routes: Route[], path: string, version: VersionProfile): Resolved | null {
  if (!path.startsWith('/api/')) return null;
  const parts = path
    .slice('/api/'.length)
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  if (parts.length < 2) return null;
  const [module, controllerPart, actionPart, ...params] = parts as [string, string, string | undefined, ...string[]];
  const controller = ucwordsJoin(controllerPart);
  const actionName = actionPart === undefined ? 'index' : ucwordsJoin(actionPart);
  const route = routes.find(
    (r) =>
      r.module.toLowerCase() === module.toLowerCase() &&
      r.controller === controller &&
      r.action.toLowerCase() === actionName.toLowerCase() &&
      (r.versions === undefined || r.versions.includes(version)),
  );
  if (!route || params.length < route.required) return null;
  return { route, params };
}
