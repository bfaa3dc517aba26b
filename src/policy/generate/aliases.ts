/**
 * @module Aliases → pf tables and port lists (pfSense `filter_generate_aliases` / `filter_generate_nested_alias`,
 * filter.inc l.756-1018). Nested aliases are flattened once per alias and memoized, so a config whose aliases
 * total 200,000 CIDRs expands in linear time (docs/adr/0039). Contents stay compact canonical CIDR lists.
 */
import { type Cidr, formatCidr, parseCidr, parseIp, rangeToCidrs } from '../../net/ip.ts';
import type { AliasConfig, PfTable, PolicyWarning, PortRange, PortSpec } from '../model.ts';
import { policyWarning } from '../warnings.ts';

const ADDRESS_TYPES = new Set(['host', 'network', 'url', 'urltable']);
const PORT_TYPES = new Set(['port', 'url_ports', 'urltable_ports']);
const DYNAMIC_TYPES = new Set(['url', 'urltable', 'url_ports', 'urltable_ports']);

/** Resolved aliases: address aliases as tables, port aliases as port specs. */
export interface AliasResolution {
  tables: Map<string, PfTable>;
  ports: Map<string, PortSpec>;
  /** Alias names pfSense would skip entirely (numeric-only names, unknown types). */
  skipped: Set<string>;
}

interface Expansion {
  cidrs: string[];
  ports: PortRange[];
  dynamic: boolean;
}

/** Expands every alias; warnings go to `warnings`. */
export function resolveAliases(aliases: readonly AliasConfig[], warnings: PolicyWarning[]): AliasResolution {
  const byName = new Map<string, AliasConfig>();
  const skipped = new Set<string>();
  for (const alias of aliases) {
    if (byName.has(alias.name)) {
      warnings.push(
        policyWarning(
          'POL027',
          'alias',
          `alias "${alias.name}" is defined twice; the later one is left out`,
          { name: alias.name },
        ),
      );
      continue;
    }
    byName.set(alias.name, alias);
  }
  const memo = new Map<string, Expansion>();
  const onStack = new Set<string>();

  const expand = (alias: AliasConfig): Expansion => {
    const cached = memo.get(alias.name);
    if (cached !== undefined) return cached;
    onStack.add(alias.name);
    const isPortAlias = PORT_TYPES.has(alias.type);
    // Collected with duplicates, deduplicated once at the end (one native Set pass is far cheaper than per-entry checks).
    const collected: string[] = [];
    const ports: PortRange[] = [];
    let dynamic = DYNAMIC_TYPES.has(alias.type);
    for (const entry of alias.entries) {
      const nested = byName.get(entry);
      if (nested !== undefined && !skipped.has(entry)) {
        if (onStack.has(entry)) {
          warnings.push(
            policyWarning(
              'POL023',
              'alias',
              `alias "${alias.name}" nests "${entry}", which already contains it; expanded once`,
              { name: alias.name },
            ),
          );
          continue;
        }
        const inner = expand(nested);
        for (const cidr of inner.cidrs) collected.push(cidr);
        ports.push(...inner.ports);
        dynamic ||= inner.dynamic;
        continue;
      }
      if (isPortAlias) {
        const range = parsePortEntry(entry);
        if (range !== null) ports.push(range);
        else invalidEntry(alias, entry, warnings);
        continue;
      }
      const parsed = parseAddressEntry(entry);
      if (parsed === 'hostname') {
        // filterdns resolves host names (A and AAAA) into the table at run time (filter.inc l.803-812).
        dynamic = true;
        const code = /^[A-Za-z0-9_]+$/.test(entry) && !entry.includes('.') ? 'POL025' : 'POL021';
        warnings.push(
          policyWarning(
            code,
            'alias',
            code === 'POL025'
              ? `alias "${alias.name}" entry "${entry}" names no alias; pfSense resolves it as a host name at run time`
              : `alias "${alias.name}" entry "${entry}" is a host name resolved at run time; table contents are dynamic`,
            { name: alias.name },
          ),
        );
        continue;
      }
      if (parsed === null) {
        invalidEntry(alias, entry, warnings);
        continue;
      }
      for (const cidr of parsed) collected.push(cidr);
    }
    onStack.delete(alias.name);
    // pfSense drops duplicate entries while flattening (filter.inc `$aliasaddrnesting`); first occurrence wins.
    const result: Expansion = { cidrs: [...new Set(collected)], ports, dynamic };
    memo.set(alias.name, result);
    return result;
  };

  const tables = new Map<string, PfTable>();
  const portSpecs = new Map<string, PortSpec>();
  for (const alias of byName.values()) {
    if (/^\d+$/.test(alias.name)) {
      skipped.add(alias.name);
      warnings.push(
        policyWarning(
          'POL020',
          'alias',
          `alias "${alias.name}" has a numeric-only name; pfSense skips it (redmine #4289)`,
          { name: alias.name },
        ),
      );
    }
  }
  for (const alias of byName.values()) {
    if (skipped.has(alias.name)) continue;
    const expansion = expand(alias);
    if (DYNAMIC_TYPES.has(alias.type)) {
      warnings.push(
        policyWarning(
          'POL022',
          'alias',
          `alias "${alias.name}" (${alias.type}) is downloaded at run time; treated as dynamic`,
          { name: alias.name },
        ),
      );
    }
    if (ADDRESS_TYPES.has(alias.type)) {
      tables.set(alias.name, {
        name: alias.name,
        cidrs: expansion.cidrs,
        dynamic: expansion.dynamic,
        source: 'alias',
        aliasType: alias.type,
        ...(alias.descr ? { descr: alias.descr } : {}),
      });
    } else {
      portSpecs.set(alias.name, {
        ranges: expansion.ports,
        alias: alias.name,
        ...(expansion.dynamic ? { dynamic: true } : {}),
      });
    }
  }
  return { tables, ports: portSpecs, skipped };
}

function invalidEntry(alias: AliasConfig, entry: string, warnings: PolicyWarning[]): void {
  warnings.push(
    policyWarning(
      'POL024',
      'alias',
      `alias "${alias.name}" entry "${entry}" is not valid for a ${alias.type} alias; entry left out`,
      { name: alias.name },
    ),
  );
}

/**
 * An address alias entry: an address, a CIDR (host bits cleared, as pfctl loads it) or a range `a-b` (split into
 * CIDRs); `'hostname'` for a DNS name; null when invalid.
 */
function parseAddressEntry(entry: string): string[] | 'hostname' | null {
  const dash = entry.indexOf('-');
  if (dash > 0 && !entry.includes('/')) {
    const first = parseIp(entry.slice(0, dash));
    const last = parseIp(entry.slice(dash + 1));
    if (first !== null && last !== null && first.family === last.family && first.value <= last.value) {
      const cidrs: Cidr[] =
        first.family === 4
          ? rangeToCidrs(4, first.value, last.value as number)
          : rangeToCidrs(6, first.value, last.value as bigint);
      return cidrs.map(formatCidr);
    }
  }
  const cidr = parseCidr(entry);
  if (cidr !== null) return [formatCidr(cidr)];
  return isHostname(entry) ? 'hostname' : null;
}

/** A port alias entry: `80`, `8000:8080` (pf inclusive range) or `8000-8080`. */
export function parsePortEntry(entry: string): PortRange | null {
  const parts = entry.split(/[:-]/);
  if (parts.length > 2) return null;
  const from = portNumber(parts[0]);
  const to = parts.length === 2 ? portNumber(parts[1]) : from;
  if (from === null || to === null || from > to) return null;
  return { from, to };
}

function portNumber(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

function isHostname(entry: string): boolean {
  return /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/.test(
    entry,
  );
}
