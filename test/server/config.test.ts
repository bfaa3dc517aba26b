/**
 * @module Configuration from the environment: defaults, overrides, and a clear error naming the variable
 * (never echoing a secret-bearing value such as a database URL).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

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
