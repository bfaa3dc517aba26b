// @vitest-environment jsdom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import openapi from '../../api/openapi.json';
import { renderWithProviders } from '../../test/render';
import { bodyOf, type FieldSpec, ObjectTable } from '../../components/ObjectTable';
import { labelOf, settingSpecsOf } from './Settings';

afterEach(cleanup);

describe('settings form from the OpenAPI document', () => {
  it('reads every setting with its range or choices from the committed API document', () => {
    const specs = settingSpecsOf(openapi);
    const retention = specs.find((s) => s.name === 'log_retention_days');
    expect(retention).toMatchObject({ kind: 'int', min: 7, max: 365 });
    expect(retention?.description).toMatch(/retention/i);
    expect(specs.find((s) => s.name === 'default_policy')).toMatchObject({ kind: 'enum', values: ['allow', 'deny'] });
    expect(specs.find((s) => s.name === 'log_blocked')).toMatchObject({ kind: 'bool' });
    expect(specs.length).toBeGreaterThanOrEqual(10);
    expect(labelOf('log_retention_days')).toBe('Log retention days');
    expect(labelOf('ids_mode')).toBe('IDS mode');
    expect(labelOf('distribution_lock_ttl_seconds')).toBe('Distribution lock TTL seconds');
  });

  it('finds nothing in a document without the settings route (the page then shows an empty form, not a crash)', () => {
    expect(settingSpecsOf({ paths: {} })).toEqual([]);
    expect(settingSpecsOf(null)).toEqual([]);
  });
});

describe('the shared object table', () => {
  const fields: FieldSpec[] = [
    { name: 'description', label: 'Description', kind: 'text' },
    { name: 'translated_port', label: 'Translated port', kind: 'text', nullable: true },
    { name: 'rule_order', label: 'Order', kind: 'int' },
    { name: 'is_enabled', label: 'Enabled', kind: 'bool' },
  ];

  it('sends trimmed text, empty nullable text as null and numbers as numbers', () => {
    expect(bodyOf(fields, { description: '  web ', translated_port: '', rule_order: '3', is_enabled: false })).toEqual({
      description: 'web',
      translated_port: null,
      rule_order: 3,
      is_enabled: false,
    });
    expect(bodyOf(fields, { description: '', translated_port: ' 8080 ', rule_order: '', is_enabled: true })).toEqual({
      description: '',
      translated_port: '8080',
      rule_order: null,
      is_enabled: true,
    });
  });

  it('shows one page of rows with a next page only when the server has more, and no write buttons without write access', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ id: `r${i}`, name: `row ${i}` }));
    renderWithProviders(
      <ObjectTable<{ id: string; name: string }>
        noun="thing"
        caption="Things"
        empty="None."
        queryKey={['things']}
        label={(r) => r.name}
        columns={[{ header: 'Name', cell: (r) => r.name }]}
        fields={[]}
        filters={[]}
        list={async (q) => ({ items: rows.slice(q.offset, q.offset + q.limit) })}
      />,
    );
    await screen.findByText('row 24');
    expect(screen.queryByText('row 25')).toBeNull();
    expect(screen.getByRole('button', { name: 'Next page' }).hasAttribute('disabled')).toBe(false);
    expect(screen.getByRole('button', { name: 'Previous page' }).hasAttribute('disabled')).toBe(true);
    expect(screen.queryByRole('button', { name: /New thing|Edit|Delete/ })).toBeNull();
  });
});
