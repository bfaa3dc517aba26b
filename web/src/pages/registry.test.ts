import { describe, expect, it } from 'vitest';
import { CONSOLE_PAGES, hasConsole, visiblePages } from './registry';

describe('console page registry', () => {
  it('shows a page only to holders of its permission; dashboard and tokens to everyone signed in', () => {
    const viewer = visiblePages({ 'gateway.view': 'all', 'access.view': ['site-1'] }).map((p) => p.label);
    expect(viewer).toEqual(['Dashboard', 'Gateways', 'Knocs', 'Grants', 'Sites', 'API tokens']);
    expect(visiblePages({}).map((p) => p.label)).toEqual(['Dashboard', 'API tokens']);
  });

  it('offers the console only when a page needs a permission the person holds', () => {
    expect(hasConsole({})).toBe(false);
    expect(hasConsole({ 'audit.view': 'all' })).toBe(true);
  });

  it('has unique paths', () => {
    const paths = CONSOLE_PAGES.map((p) => p.path);
    expect(new Set(paths).size).toBe(paths.length);
  });
});
