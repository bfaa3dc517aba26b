import { describe, expect, it } from 'vitest';
import { CONSOLE_PAGES, hasConsole, navPages, visiblePages } from './registry';

describe('console page registry', () => {
  it('shows a page only to holders of its permission; dashboard, requests and tokens to everyone signed in', () => {
    const viewer = visiblePages({ 'gateway.view': 'all', 'access.view': ['site-1'] }).map((p) => p.label);
    expect(viewer).toEqual(['Dashboard', 'Gateways', 'Vendors', 'Knocs', 'Grants', 'Requests', 'Topology', 'VLANs', 'Distribution', 'Sites', 'API tokens']);
    // Approvers are a group, not a permission: anyone signed in may open Requests (the API filters the list).
    expect(visiblePages({}).map((p) => p.label)).toEqual(['Dashboard', 'Requests', 'API tokens']);
  });

  it('offers the console only when a page needs a permission the person holds', () => {
    expect(hasConsole({})).toBe(false);
    expect(hasConsole({ 'audit.view': 'all' })).toBe(true);
  });

  it('lists detail pages in no sidebar but routes them for holders of their permission', () => {
    const reader = { 'firewall.view': 'all' };
    expect(visiblePages(reader).map((p) => p.path)).toContain('gateways/$id');
    expect(navPages(reader).map((p) => p.label)).toEqual(['Dashboard', 'Firewall rules', 'NAT', 'VPN', 'IDS alerts', 'Policy diff', 'Requests', 'Firewall settings', 'API tokens', 'Pending changes', 'Packet tracer', 'Policy tests', 'Gateway sync', 'Lint findings']);
  });

  it('has unique paths', () => {
    const paths = CONSOLE_PAGES.map((p) => p.path);
    expect(new Set(paths).size).toBe(paths.length);
  });
});
