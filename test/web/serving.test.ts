/**
 * The web UI served by the API process (src/server/plugins/web.ts): files from a built directory, SPA fallback
 * for client routes, API paths never answered with the page, gzip copies, caching, and the CSP that lets the
 * built app run without inline scripts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorHandling } from '../../src/server/plugins/errors.ts';
import { registerHttpPlugins } from '../../src/server/plugins/external.ts';
import { registerWebApp } from '../../src/server/plugins/web.ts';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-1a2b.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = 'console.log("portcullis");'.repeat(50);

async function webApp(dist: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  registerErrorHandling(app);
  await registerHttpPlugins(app);
  await registerWebApp(app, dist);
  await app.ready();
  return app;
}

describe('web UI serving', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pc-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-1a2b.js'), SCRIPT);
    writeFileSync(join(dir, 'assets', 'app-1a2b.js.gz'), gzipSync(SCRIPT));
    app = await webApp(`${dir}/`);
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / uncached, with a CSP that allows only same-origin scripts', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toBe(INDEX);
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = String(res.headers['content-security-policy']);
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1];
    expect(scriptSrc).toBe("'self'");
    expect(csp).toContain("img-src 'self' data:");
  });

  it('answers client routes with index.html (SPA fallback), query string or not', async () => {
    for (const url of ['/admin/knocs', '/account', '/login?next=%2Fadmin']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe(INDEX);
    }
  });

  it('never answers an API or feed path with the page: the API’s 404 envelope instead', async () => {
    for (const url of ['/api/v1/nope', '/api', '/edl/abc.txt', '/metrics/x', '/api?x=1']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe('PC_ERR_NOT_FOUND');
    }
  });

  it('sends hashed assets gzip-compressed to browsers that take it, cached for a year', async () => {
    const gz = await app.inject({ method: 'GET', url: '/assets/app-1a2b.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.statusCode).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gz.rawPayload.length).toBeLessThan(SCRIPT.length);
    const plain = await app.inject({ method: 'GET', url: '/assets/app-1a2b.js', headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(SCRIPT);
  });

  it('a missing asset is a 404, not the page', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/missing-0000.js' });
    expect(res.statusCode).toBe(404);
  });

  it('never serves a file outside the build directory', async () => {
    writeFileSync(join(dir, '..', `pc-web-secret-${process.pid}.txt`), 'TOP-SECRET-CONTENT');
    try {
      for (const url of [
        `/assets/..%2f..%2fpc-web-secret-${process.pid}.txt`,
        `/..%2fpc-web-secret-${process.pid}.txt`,
        `/assets/%2e%2e/%2e%2e/pc-web-secret-${process.pid}.txt`,
      ]) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode, url).not.toBe(200);
        expect(res.body, url).not.toContain('TOP-SECRET-CONTENT');
      }
    } finally {
      rmSync(join(dir, '..', `pc-web-secret-${process.pid}.txt`), { force: true });
    }
  });

  it('registers the same two hidden routes with or without a build', async () => {
    expect(app.printRoutes({ commonPrefix: false })).not.toContain('app-1a2b');
  });

  it('without a build, / says how to build the UI', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pc-web-empty-'));
    const bare = await webApp(`${empty}/`);
    try {
      const res = await bare.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('npm run build:web');
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
