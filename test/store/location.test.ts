/** @module Where direct CLI commands open the store, and how it is described without leaking credentials. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeLocation, storeLocation } from '../../src/store/open.ts';

describe('storeLocation', () => {
  it.each([
    { name: 'defaults to ./data', flags: {}, env: {}, want: { dataDir: resolve('data'), url: null } },
    {
      name: 'reads PORTCULLIS_DATA_DIR',
      flags: {},
      env: { PORTCULLIS_DATA_DIR: '/srv/pc' },
      want: { dataDir: '/srv/pc', url: null },
    },
    {
      name: 'prefers flags over the environment',
      flags: { dataDir: '/a', databaseUrl: 'postgres://h/db' },
      env: { PORTCULLIS_DATA_DIR: '/b', PORTCULLIS_DATABASE_URL: 'postgres://other/db' },
      want: { dataDir: '/a', url: 'postgres://h/db' },
    },
    {
      name: 'reads PORTCULLIS_DATABASE_URL',
      flags: {},
      env: { PORTCULLIS_DATABASE_URL: 'postgresql://h:5433/db' },
      want: { dataDir: resolve('data'), url: 'postgresql://h:5433/db' },
    },
  ])('$name', ({ flags, env, want }) => {
    expect(storeLocation(flags, env)).toEqual(want);
  });

  it('rejects a URL that is not PostgreSQL', () => {
    expect(() => storeLocation({ databaseUrl: 'mysql://h/db' }, {})).toThrow(/must start with postgres:\/\//);
  });
});

describe('describeLocation', () => {
  it('never includes credentials', () => {
    const text = describeLocation({
      dataDir: '/d',
      url: 'postgres://admin:s3cr3t-pw@db.internal:5432/portcullis',
    });
    expect(text).toBe('PostgreSQL at db.internal:5432/portcullis');
    expect(text).not.toContain('s3cr3t');
  });

  it('names the data directory for the embedded store', () => {
    expect(describeLocation({ dataDir: '/srv/pc', url: null })).toBe('embedded store in /srv/pc');
  });
});
