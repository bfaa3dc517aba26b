/**
 * @module UCI as rpcd's `uci` object sees it (docs/reference/openwrt-api.md §3, §4): committed packages,
 * per-session staged deltas replayed on top of them (what `uci.get` returns to that session), the delta list
 * `uci.changes` dumps, and the name checks rpcd applies.
 */

export type UciValue = string | string[];

export interface UciSection {
  name: string;
  type: string;
  anonymous: boolean;
  options: Record<string, UciValue>;
}

export interface UciPackage {
  sections: UciSection[];
}

export type UciConfigs = Record<string, UciPackage>;

/** One staged change, in libuci's delta vocabulary (`uci.changes` prints `[cmd, section, option?, value?]`). */
export type UciDelta =
  | { cmd: 'add'; section: string; type: string }
  | { cmd: 'set'; section: string; option?: string; value: string }
  | { cmd: 'list-add'; section: string; option: string; value: string }
  | { cmd: 'remove'; section: string; option?: string }
  | { cmd: 'rename'; section: string; option?: string; value: string }
  | { cmd: 'order'; section: string; value: number };

/** ubus status codes (openwrt/ubus ubusmsg.h). */
export const UBUS = {
  OK: 0,
  INVALID_COMMAND: 1,
  INVALID_ARGUMENT: 2,
  METHOD_NOT_FOUND: 3,
  NOT_FOUND: 4,
  NO_DATA: 5,
  PERMISSION_DENIED: 6,
  TIMEOUT: 7,
  NOT_SUPPORTED: 8,
  UNKNOWN_ERROR: 9,
  CONNECTION_FAILED: 10,
  NO_MEMORY: 11,
  PARSE_ERROR: 12,
  SYSTEM_ERROR: 13,
} as const;

export class UbusStatus extends Error {
  constructor(readonly status: number) {
    super(`ubus status ${status}`);
  }
}

const NAME_RE = /^[A-Za-z0-9_]+$/;
const TYPE_RE = /^[A-Za-z0-9_-]+$/;

export const validName = (s: string): boolean => NAME_RE.test(s);
export const validType = (s: string): boolean => TYPE_RE.test(s);
/** A section reference may also be an extended `@type[n]` form, which this emulator does not resolve. */
export const validSectionRef = (s: string): boolean => NAME_RE.test(s);

export function clonePackage(p: UciPackage): UciPackage {
  return {
    sections: p.sections.map((s) => ({
      ...s,
      options: Object.fromEntries(
        Object.entries(s.options).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]),
      ),
    })),
  };
}

/** Replays deltas over a copy of `base`; deltas that no longer fit (section gone) are skipped, as libuci does. */
export function applyDeltas(base: UciPackage | undefined, deltas: UciDelta[]): UciPackage {
  const pkg = base ? clonePackage(base) : { sections: [] };
  const find = (name: string) => pkg.sections.find((s) => s.name === name);
  for (const d of deltas) {
    const s = find(d.section);
    switch (d.cmd) {
      case 'add':
        if (!s) pkg.sections.push({ name: d.section, type: d.type, anonymous: true, options: {} });
        break;
      case 'set':
        if (d.option === undefined) {
          if (s) s.type = d.value;
          else pkg.sections.push({ name: d.section, type: d.value, anonymous: false, options: {} });
        } else if (s) {
          if (d.value === '') delete s.options[d.option];
          else s.options[d.option] = d.value;
        }
        break;
      case 'list-add':
        if (s) {
          const cur = s.options[d.option];
          s.options[d.option] = Array.isArray(cur) ? [...cur, d.value] : cur === undefined ? [d.value] : [cur, d.value];
        }
        break;
      case 'remove':
        if (!s) break;
        if (d.option === undefined) pkg.sections.splice(pkg.sections.indexOf(s), 1);
        else delete s.options[d.option];
        break;
      case 'rename':
        if (!s) break;
        if (d.option === undefined) {
          s.name = d.value;
          s.anonymous = false;
        } else if (d.option in s.options) {
          s.options[d.value] = s.options[d.option] as UciValue;
          delete s.options[d.option];
        }
        break;
      case 'order': {
        if (!s) break;
        pkg.sections.splice(pkg.sections.indexOf(s), 1);
        pkg.sections.splice(Math.min(d.value, pkg.sections.length), 0, s);
        break;
      }
    }
  }
  return pkg;
}

/** rpcd's `.anonymous/.type/.name/.index` section dump (uci.c rpc_uci_dump_section). */
export function dumpSection(s: UciSection, index?: number): Record<string, unknown> {
  return {
    '.anonymous': s.anonymous,
    '.type': s.type,
    '.name': s.name,
    ...(index !== undefined ? { '.index': index } : {}),
    ...Object.fromEntries(Object.entries(s.options).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])),
  };
}

export function dumpDelta(d: UciDelta): Array<string | number> {
  switch (d.cmd) {
    case 'add':
      return ['add', d.section, d.type];
    case 'set':
      return d.option === undefined ? ['set', d.section, d.value] : ['set', d.section, d.option, d.value];
    case 'list-add':
      return ['list-add', d.section, d.option, d.value];
    case 'remove':
      return d.option === undefined ? ['remove', d.section] : ['remove', d.section, d.option];
    case 'rename':
      return d.option === undefined ? ['rename', d.section, d.value] : ['rename', d.section, d.option, d.value];
    case 'order':
      return ['order', d.section, d.value];
  }
}

/** libuci names anonymous sections `cfg` + 2 hex digits of a per-package counter + 4 of a hash. */
export function anonymousName(counter: number, type: string, salt: number): string {
  let h = salt >>> 0;
  for (const c of type) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return `cfg${(counter & 0xff).toString(16).padStart(2, '0')}${(h & 0xffff).toString(16).padStart(4, '0')}`;
}

/** `uci.get` option-or-list as string(s). */
export function optionText(v: UciValue | undefined): string | undefined {
  return Array.isArray(v) ? v.join(' ') : v;
}

export function optionList(v: UciValue | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? [...v] : v.split(/\s+/).filter((x) => x !== '');
}
