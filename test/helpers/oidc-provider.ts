/**
 * @module A real OpenID provider in the test process: oidc-provider 9 (an OpenID Certified implementation) on
 * 127.0.0.1 with its development interactions (a login form taking any account id), back-channel logout and
 * RP-initiated logout, an RS256 key of its own, and accounts whose claims a test sets. `Browser` follows
 * redirects with fetch and a cookie jar and fills in the provider's forms, as a person would.
 *
 * oidc-provider prints an "unsupported runtime" notice on Node 20; it runs (docs/adr/0229-sso-test-providers.md).
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestAccount {
  claims: Record<string, unknown>;
}

export interface TestClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  backchannel_logout_uri?: string;
  token_endpoint_auth_method?: string;
  [key: string]: unknown;
}

export interface TestOpenIdProvider {
  issuer: string;
  /** The provider's signing key (tests forge and sign their own tokens with it or another). */
  signingKey: KeyObject;
  accounts: Map<string, TestAccount>;
  /** Sets the clients (before the first request: the provider is built on the first call). */
  start(clients: TestClient[]): void;
  /** Errors the provider reported (e.g. a back-channel logout our endpoint refused). */
  errors: string[];
  close(): Promise<void>;
}

/** Listens first (so the issuer URL is known for registering the relying party), answers once started. */
export async function listenOpenIdProvider(): Promise<TestOpenIdProvider> {
  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | null = null;
  const server: Server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, TestAccount>();
  const errors: string[] = [];
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };
  return {
    issuer,
    signingKey: privateKey,
    accounts,
    errors,
    start(clients) {
      const provider = new Provider(issuer, {
        clients,
        jwks: { keys: [jwk] },
        cookies: { keys: ['test-cookie-key-0123456789'] },
        scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', 'access'],
        claims: {
          openid: ['sub'],
          profile: ['preferred_username', 'name'],
          email: ['email'],
          groups: ['groups'],
          access: ['grant_ttl'],
        },
        features: {
          devInteractions: { enabled: true },
          backchannelLogout: { enabled: true },
          rpInitiatedLogout: { enabled: true },
        },
        // Its SSRF guard refuses loopback; Portcullis listens on 127.0.0.1 here.
        fetch: (target: string, options: RequestInit & { dispatcher?: unknown }) => {
          const { dispatcher: _guard, ...rest } = options;
          return fetch(target, rest);
        },
        findAccount: (_ctx, id) => {
          const account = accounts.get(id);
          return account ? { accountId: id, claims: () => ({ sub: id, ...account.claims }) } : undefined;
        },
      });
      for (const event of ['backchannel.error', 'server_error']) {
        provider.on(event, (...args) => {
          const err = args.find((a): a is Error => a instanceof Error);
          errors.push(`${event}: ${err?.message ?? 'unknown'}`);
        });
      }
      handler = provider.callback();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** fetch with a cookie jar (by name: both servers are on 127.0.0.1), redirects followed by hand. */
export class Browser {
  readonly cookies = new Map<string, string>();

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const res = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [k = '', v = ''] = a.trim().split('=');
        return (
          (k.toLowerCase() === 'max-age' && Number(v) <= 0) ||
          (k.toLowerCase() === 'expires' && new Date(v).getTime() < Date.now())
        );
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /**
   * Follows redirects from `url`, signing in at the provider's login form as `login` and approving its consent
   * form, until a page that is not the provider's answers; returns that last response and its URL.
   */
  async follow(url: string, login: string, init: { form?: Record<string, string> } = {}): Promise<{ res: Response; url: string; body: string }> {
    let current = url;
    let res = await this.request(current, init);
    for (let hops = 0; hops < 30; hops++) {
      if (res.status >= 300 && res.status < 400) {
        current = new URL(res.headers.get('location') as string, current).href;
        res = await this.request(current);
        continue;
      }
      const body = await res.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(body)?.[1];
      if (action && body.includes('name="prompt" value="login"')) {
        res = await this.request(new URL(action, current).href, { form: { prompt: 'login', login, password: 'any' } });
        continue;
      }
      if (action && body.includes('name="prompt" value="consent"')) {
        res = await this.request(new URL(action, current).href, { form: { prompt: 'consent' } });
        continue;
      }
      return { res, url: current, body };
    }
    throw new Error('too many redirects');
  }
}

/** A compact JWS (RS256) of `payload`, for tokens a test forges. */
export function signJwt(payload: Record<string, unknown>, key: KeyObject, header: Record<string, unknown> = {}): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'RS256', kid: 'test-rs256', ...header })}.${encode(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}
