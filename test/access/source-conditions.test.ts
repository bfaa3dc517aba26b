/** @module Knoc source conditions: denied wins, empty allowed list allows all, v4-mapped checked as IPv4. */
import { describe, expect, it } from 'vitest';
import { checkSource, compileSourceConditions } from '../../src/access/source-conditions.ts';
import { ValidationError } from '../../src/errors.ts';

const rfc1918 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

describe('checkSource', () => {
  it.each([
    {
      name: 'no conditions allow anything',
      allowed: [],
      denied: [],
      ip: '203.0.113.5',
      expected: { ok: true },
    },
    {
      name: 'inside an allowed range',
      allowed: rfc1918,
      denied: [],
      ip: '172.20.1.1',
      expected: { ok: true },
    },
    {
      name: 'outside every allowed range',
      allowed: rfc1918,
      denied: [],
      ip: '203.0.113.5',
      expected: { ok: false, reason: 'not_allowed' },
    },
    {
      name: 'denied wins over allowed',
      allowed: rfc1918,
      denied: ['10.66.0.0/16'],
      ip: '10.66.3.4',
      expected: { ok: false, reason: 'denied', range: '10.66.0.0/16' },
    },
    {
      name: 'v4-mapped client checked as IPv4',
      allowed: rfc1918,
      denied: [],
      ip: '::ffff:10.1.2.3',
      expected: { ok: true },
    },
    {
      name: 'IPv6 client against IPv4-only allowed list',
      allowed: rfc1918,
      denied: [],
      ip: '2001:db8::1',
      expected: { ok: false, reason: 'not_allowed' },
    },
    {
      name: 'IPv6 allowed range',
      allowed: ['2001:db8::/32'],
      denied: [],
      ip: '2001:db8:ff::1',
      expected: { ok: true },
    },
    {
      name: 'not an address',
      allowed: [],
      denied: [],
      ip: 'localhost',
      expected: { ok: false, reason: 'invalid_address' },
    },
  ])('$name', ({ allowed, denied, ip, expected }) => {
    expect(checkSource(ip, compileSourceConditions(allowed, denied))).toEqual(expected);
  });
});

describe('compileSourceConditions', () => {
  it('names the field and index of a bad range', () => {
    let caught: unknown;
    try {
      compileSourceConditions(['10.0.0.0/8'], ['192.168.0.0/16', '10.0.0.0/33']);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe('denied_sources.1');
    expect((caught as ValidationError).message).toMatch(/out of range/);
  });
});
