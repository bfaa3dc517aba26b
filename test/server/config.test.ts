/**
 * @module Configuration from the environment: defaults, overrides, and a clear error naming the variable
 * (never echoing a secret-bearing value such as a database URL), and the documented variables are exactly the
 * parsed ones.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_VAR_NAMES, loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:8080 with data in ./data', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: path.resolve('./data'),
      databaseUrl: undefined,
    });
    expect(config.trustProxy).toBe(false);
    expect(config.bodyLimit).toBe(1024 * 1024);
  });

  it('reads the environment and lets CLI overrides win', () => {
    const config = loadConfig(
      {
        PORTCULLIS_HOST: '0.0.0.0',
        PORTCULLIS_PORT: '9000',
        PORTCULLIS_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
      },
      { port: 0 },
    );
    expect(config).toMatchObject({ host: '0.0.0.0', port: 0, trustProxy: ['10.0.0.0/8', '127.0.0.1'] });
  });

  it.each([
    { row: 'port not a number', env: { PORTCULLIS_PORT: 'eighty' }, variable: 'PORTCULLIS_PORT' },
    { row: 'port out of range', env: { PORTCULLIS_PORT: '70000' }, variable: 'PORTCULLIS_PORT' },
    { row: 'unknown log level', env: { PORTCULLIS_LOG_LEVEL: 'loud' }, variable: 'PORTCULLIS_LOG_LEVEL' },
    {
      row: 'not a boolean',
      env: { PORTCULLIS_SECURE_COOKIES: 'maybe' },
      variable: 'PORTCULLIS_SECURE_COOKIES',
    },
    {
      row: 'database URL of another kind',
      env: { PORTCULLIS_DATABASE_URL: 'mysql://u:hunter2@db/x' },
      variable: 'PORTCULLIS_DATABASE_URL',
    },
  ])('rejects $row naming $variable', ({ env, variable }) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('the documented variables', () => {
  const rowNames = (file: string, heading: RegExp) => {
    const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    const start = text.search(heading);
    const table = text.slice(start).split('\n\n').find((block) => block.startsWith('| Variable')) ?? '';
    return table
      .split('\n')
      .map((line) => line.split('|')[1] ?? '')
      .flatMap((cell) => [...cell.matchAll(/`(PORTCULLIS_[A-Z0-9_]+)/g)].map((m) => m[1] as string));
  };

  it('docs/api.md lists exactly the variables src/config.ts parses', () => {
    const documented = rowNames('docs/api.md', /^## Starting/m);
    expect([...documented].sort()).toEqual([...ENV_VAR_NAMES].sort());
    expect(documented.length).toBe(new Set(documented).size);
  });

  it("README.md's configuration table names only variables src/config.ts parses", () => {
    const documented = rowNames('README.md', /^## Configuration/m);
    expect(documented.length).toBeGreaterThan(5);
    expect(documented.filter((name) => !(ENV_VAR_NAMES as string[]).includes(name))).toEqual([]);
  });

  it('every variable has its parser, and the server parses all of them at start', () => {
    const bad = Object.fromEntries(ENV_VAR_NAMES.map((name) => [name, name === 'PORTCULLIS_SCRYPT_LOG_N' ? '99' : '']));
    expect(() => loadConfig(bad)).toThrow(/PORTCULLIS_SCRYPT_LOG_N/);
    expect(() => loadConfig({ PORTCULLIS_LAB: 'sometimes' })).toThrow(/PORTCULLIS_LAB/);
    expect(() => loadConfig({ PORTCULLIS_RECONCILE_INTERVAL_SECONDS: '-1' })).toThrow(/PORTCULLIS_RECONCILE_INTERVAL_SECONDS/);
    expect(() => loadConfig({ PORTCULLIS_TRUST_PROXY: '10.0.0.0/33' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORTCULLIS_BOOTSTRAP_ADMIN: 'nocolon' })).toThrow(ConfigError);
  });

  it('parses PORTCULLIS_TRUST_PROXY once for both Fastify and the client-address function', () => {
    const listed = loadConfig({ PORTCULLIS_TRUST_PROXY: '10.0.0.0/8' });
    expect(listed.trustProxy).toEqual(['10.0.0.0/8']);
    expect(listed.access.trustedProxies).toHaveLength(1);
    const all = loadConfig({ PORTCULLIS_TRUST_PROXY: 'true' });
    expect(all.trustProxy).toBe(true);
    expect(all.access.trustedProxies).toHaveLength(2);
    expect(loadConfig({}).access.trustedProxies).toEqual([]);
  });
});
