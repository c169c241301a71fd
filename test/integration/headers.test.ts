/**
 * Security headers and the built pages (DESIGN.md "HTTP"): the exact CSP, no referrer, no
 * X-Powered-By, no caching, nosniff; no inline script or style in any page, and every script
 * and stylesheet pinned by a Subresource Integrity hash that matches what the server serves.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { PAGES } from '../../server/app';
import { CLIENT_DIR, makeTestServer, type TestServer } from '../support/harness';
import { expectError } from './expect-error';

/** DESIGN.md, "HTTP", directive by directive */
const DESIGN_CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; worker-src blob:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

function directives(csp: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of csp
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, ...sources] = part.split(/\s+/);
    expect(out[name.toLowerCase()]).toBeUndefined(); // a directive given twice
    out[name.toLowerCase()] = sources.sort();
  }
  return out;
}

let t: TestServer;
beforeAll(async () => {
  if (!fs.existsSync(path.join(CLIENT_DIR, 'index.html'))) throw new Error('dist/client is missing: run `node scripts/build.mjs` first');
  t = await makeTestServer();
});
afterAll(() => t.close());

const pageRoutes = Object.keys(PAGES);

test('the pages named by DESIGN.md are all served (and checked below)', () => {
  expect(pageRoutes).toEqual(expect.arrayContaining(['/', '/invite', '/return', '/setup', '/share', '/staff']));
});

describe.each([
  ...pageRoutes.map((p) => [`page ${p}`, p, 200] as const),
  ['API GET /api/instance', '/api/instance', 200] as const,
  ['API error GET /api/nope', '/api/nope', 404] as const,
  ['asset /assets/landing.js', '/assets/landing.js', 200] as const,
  ['missing asset', '/assets/nope.js', 404] as const,
])('%s', (_label, url, status) => {
  let res: request.Response;
  beforeAll(async () => {
    res = await request(t.app).get(url);
  });

  test(`answers ${status}`, () => {
    expect(res.status).toBe(status);
  });
  test('carries exactly the CSP of DESIGN.md', () => {
    const csp = res.headers['content-security-policy'];
    expect(typeof csp).toBe('string');
    expect(directives(csp)).toEqual(directives(DESIGN_CSP));
    expect(res.headers['content-security-policy-report-only']).toBeUndefined();
  });
  test('sends no referrer, no X-Powered-By, no caching, nosniff, no framing', () => {
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['etag']).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
  });
  test('denies the powerful features no page uses, and lets only this origin write to the clipboard', () => {
    const policy = permissions(res.headers['permissions-policy']);
    for (const feature of DENIED_FEATURES) expect({ feature, allow: policy[feature] }).toEqual({ feature, allow: '()' });
    expect(policy['clipboard-write']).toBe('(self)');
    // Nothing is granted to another origin or to every origin.
    expect(Object.values(policy).every((allow) => allow === '()' || allow === '(self)')).toBe(true);
  });
});

/** The features DESIGN.md's pages never need: a script that got in must not be able to ask for them. */
const DENIED_FEATURES = [
  'camera',
  'microphone',
  'geolocation',
  'payment',
  'usb',
  'serial',
  'hid',
  'bluetooth',
  'display-capture',
  'browsing-topics',
  'clipboard-read',
  'publickey-credentials-get',
];

function permissions(header: unknown): Record<string, string> {
  expect(typeof header).toBe('string');
  const out: Record<string, string> = {};
  for (const item of String(header)
    .split(',')
    .map((p) => p.trim())) {
    const [feature, allow] = item.split('=');
    expect(out[feature]).toBeUndefined(); // a feature given twice
    out[feature] = allow;
  }
  return out;
}

describe('methods and paths the server does not serve', () => {
  test.each([['/'], ['/share'], ['/api/instance'], ['/api/staff/login'], ['/api/nope'], ['/assets/landing.js'], ['/stories']])(
    'OPTIONS %s is 404 with the error shape and grants no cross-origin access',
    async (url) => {
      const res = await request(t.app)
        .options(url)
        .set('Origin', 'https://elsewhere.example')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type');
      expectError(res, 404, 'not_found', 'OPTIONS');
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      expect(res.headers['allow']).toBeUndefined();
      expect(res.headers['permissions-policy']).toBeDefined();
    },
  );

  test.each([['/assets'], ['/assets/'], ['/assets//'], ['/assets/./']])(
    'GET %s is 404 with the error shape, never a redirect',
    async (url) => {
      const res = await request(t.app).get(url).redirects(0);
      expectError(res, 404, 'not_found');
      expect(res.headers['location']).toBeUndefined();
    },
  );

  test.each([['POST'], ['PUT'], ['DELETE'], ['PATCH']])(
    '%s of an asset that exists is 404 with the error shape, not a bare 405',
    async (method) => {
      const res = await request(t.app)
        [method.toLowerCase() as 'post' | 'put' | 'delete' | 'patch']('/assets/landing.js')
        .set('Content-Type', 'application/json')
        .send('{}');
      expectError(res, 404, 'not_found');
      expect(res.headers['allow']).toBeUndefined();
      // ...while GET and HEAD serve it.
      expect((await request(t.app).get('/assets/landing.js')).status).toBe(200);
      expect((await request(t.app).head('/assets/landing.js')).status).toBe(200);
    },
  );
});

test('an error answer from the JSON parser carries the headers too', async () => {
  const res = await request(t.app).post('/api/pow').set('Content-Type', 'application/json').send('{');
  expect(res.status).toBe(400);
  expect(directives(res.headers['content-security-policy'])).toEqual(directives(DESIGN_CSP));
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['x-powered-by']).toBeUndefined();
});

/** The raw bytes the server sends for a URL. */
async function served(url: string): Promise<Buffer> {
  const res = await request(t.app)
    .get(url)
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  expect({ url, status: res.status }).toEqual({ url, status: 200 });
  return res.body as Buffer;
}

const sri = (bytes: Buffer) => 'sha384-' + crypto.createHash('sha384').update(bytes).digest('base64');

/** Attributes of one start tag, lower-cased names. */
function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const body = tag.replace(/^<[a-zA-Z0-9-]+/, '').replace(/\/?>$/, '');
  for (const m of body.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[m[1].toLowerCase()] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return out;
}

const builtPages = fs.existsSync(CLIENT_DIR) ? fs.readdirSync(CLIENT_DIR).filter((f) => f.endsWith('.html')) : [];

test('every page route has its built file', () => {
  for (const file of Object.values(PAGES)) expect(builtPages).toContain(file);
});

describe.each(builtPages.map((f) => [f]))('built page %s', (file) => {
  const html = fs.readFileSync(path.join(CLIENT_DIR, file), 'utf8');
  const tags = [...html.matchAll(/<[a-zA-Z][^>]*>/g)].map((m) => m[0]);

  test('has at least one script, and every <script> is external, empty, and pinned by a matching sha384', async () => {
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script\s*>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    // every opening tag is matched by a closing one (no stray or unclosed inline script)
    expect(scripts.length).toBe((html.match(/<script\b/gi) ?? []).length);
    for (const [whole, content] of scripts) {
      expect(content.trim()).toBe('');
      const attrs = attributes(whole.slice(0, whole.indexOf('>') + 1));
      expect(attrs.src).toMatch(/^\/assets\/[A-Za-z0-9._-]+\.js$/);
      expect(attrs.integrity).toMatch(/^sha384-[A-Za-z0-9+/]{64}$/);
      expect(attrs.type === undefined || attrs.type === 'module' || attrs.type === 'text/javascript').toBe(true);
      expect(sri(await served(attrs.src))).toBe(attrs.integrity);
    }
  });

  test('every stylesheet is pinned by a matching sha384 too', async () => {
    for (const tag of tags.filter((x) => /^<link\b/i.test(x))) {
      const attrs = attributes(tag);
      if (!/\bstylesheet\b/i.test(attrs.rel ?? '')) continue;
      expect(attrs.href).toMatch(/^\/assets\//);
      expect(attrs.integrity).toMatch(/^sha384-/);
      expect(sri(await served(attrs.href))).toBe(attrs.integrity);
    }
  });

  test('has no <style> element, no style= attribute, no on*= handler, no javascript: URL', () => {
    expect(html).not.toMatch(/<style[\s>]/i);
    for (const tag of tags) {
      const names = Object.keys(attributes(tag));
      expect({ tag, style: names.filter((n) => n === 'style') }).toEqual({ tag, style: [] });
      expect({ tag, handlers: names.filter((n) => /^on/.test(n)) }).toEqual({ tag, handlers: [] });
      expect(tag).not.toMatch(/javascript:/i);
    }
  });

  test('is served byte for byte at its route', async () => {
    const route = Object.entries(PAGES).find(([, f]) => f === file)?.[0];
    if (route === undefined) return; // a built page no route serves is not reachable
    expect((await served(route)).toString('utf8')).toBe(html);
  });
});
