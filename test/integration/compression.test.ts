/**
 * Pages and assets go out compressed (DESIGN.md: cheap phones on slow links), from the brotli
 * and gzip copies scripts/build.mjs makes: whichever copy a request's Accept-Encoding allows
 * decodes to exactly the built file; a client that allows none gets the plain bytes; HEAD gives
 * the same headers; every answer stays no-store, says Vary: Accept-Encoding and its real type,
 * and carries no ETag or Last-Modified; the Subresource Integrity hashes in the pages hold for
 * the decoded bytes. Bytes are read off a real socket, so nothing decodes them on the way.
 * Needs the build.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { PAGES } from '../../server/app';
import { acceptedEncodings } from '../../server/http/static';
import { CLIENT_DIR, makeTestServer, type TestServer } from '../support/harness';

let t: TestServer;
let server: http.Server;
let base: string;

beforeAll(async () => {
  if (!fs.existsSync(path.join(CLIENT_DIR, 'index.html.br')))
    throw new Error('dist/client has no compressed copies: run `npm run build` first');
  t = await makeTestServer();
  server = http.createServer(t.app as http.RequestListener); // the Express app (harness types it for supertest)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request with exactly these headers (none added), and the body bytes as they came. */
function raw(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const TYPES: Record<string, RegExp> = {
  '.html': /^text\/html; charset=utf-8$/i,
  '.js': /^(text|application)\/javascript; charset=utf-8$/i,
  '.css': /^text\/css; charset=utf-8$/i,
};
const decode = { br: (b: Buffer) => zlib.brotliDecompressSync(b), gzip: (b: Buffer) => zlib.gunzipSync(b) };

/** Every page route and every built script and stylesheet, with the file it must decode to. */
const pages = Object.entries(PAGES).map(([route, file]) => ({ url: route, file: path.join(CLIENT_DIR, file) }));
const assets = fs.existsSync(path.join(CLIENT_DIR, 'assets'))
  ? fs
      .readdirSync(path.join(CLIENT_DIR, 'assets'))
      .filter((f) => /\.(js|css)$/.test(f))
      .map((f) => ({ url: `/assets/${f}`, file: path.join(CLIENT_DIR, 'assets', f) }))
  : [];

/** Below this, a compressed copy may not be smaller (headers and checksums), and the build keeps none. */
const TINY = 200;
const sizeOf = (file: string) => fs.statSync(file).size;

test('the build wrote a smaller brotli and gzip copy of every page, script and stylesheet but the tiniest', () => {
  expect(pages.length).toBeGreaterThanOrEqual(7);
  expect(assets.map((a) => a.url)).toEqual(
    expect.arrayContaining([
      '/assets/survivor-base.js',
      '/assets/survivor-crypto.js',
      '/assets/awaaz.css',
      '/assets/share.js',
      '/assets/return.js',
    ]),
  );
  for (const { file } of [...pages, ...assets].filter((f) => sizeOf(f.file) >= TINY)) {
    for (const suffix of ['.br', '.gz'])
      expect({ file: file + suffix, smaller: fs.existsSync(file + suffix) && sizeOf(file + suffix) < sizeOf(file) }).toEqual({
        file: file + suffix,
        smaller: true,
      });
  }
});

test('a file too small to gain from compression goes out plain, whatever is asked', async () => {
  const tiny = assets.filter((a) => !fs.existsSync(a.file + '.br'));
  for (const { url, file } of tiny) {
    const res = await raw(url, { 'Accept-Encoding': 'gzip, deflate, br' });
    expect({ url, status: res.status, encoding: res.headers['content-encoding'], same: res.body.equals(fs.readFileSync(file)) }).toEqual({
      url,
      status: 200,
      encoding: undefined,
      same: true,
    });
    expect(res.headers['vary']).toMatch(/Accept-Encoding/i);
  }
});

describe.each([...pages, ...assets].filter((f) => sizeOf(f.file) >= TINY).map((f) => [f.url, f.file] as const))('%s', (url, file) => {
  const built = fs.readFileSync(file);
  const type = TYPES[path.extname(file)];

  function expectCommonHeaders(res: Raw): void {
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(type);
    expect(res.headers['vary']).toMatch(/(^|,\s*)Accept-Encoding(\s*,|$)/i);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['etag']).toBeUndefined();
    expect(res.headers['last-modified']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  }

  test.each([
    ['br', 'br'],
    ['gzip', 'gzip'],
    ['gzip, deflate, br, zstd', 'br'], // what Chromium sends over https
    ['gzip, deflate', 'gzip'], // what browsers send over http (an onion service)
    ['br;q=0, gzip;q=0.5', 'gzip'],
    ['*', 'br'],
    ['*, br;q=0', 'gzip'],
  ] as const)('Accept-Encoding: %s gets %s, which decodes to the built file', async (accept, encoding) => {
    const res = await raw(url, { 'Accept-Encoding': accept });
    expectCommonHeaders(res);
    expect(res.headers['content-encoding']).toBe(encoding);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(res.body.length).toBeLessThan(built.length);
    expect(decode[encoding](res.body).equals(built)).toBe(true);
  });

  test.each([['(none)'], ['identity'], ['deflate'], ['gzip;q=0, br;q=0'], ['*;q=0']])(
    'Accept-Encoding: %s gets the plain bytes',
    async (accept) => {
      const res = await raw(url, accept === '(none)' ? {} : { 'Accept-Encoding': accept });
      expectCommonHeaders(res);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.body.equals(built)).toBe(true);
    },
  );

  test('HEAD says the same as GET, without a body', async () => {
    for (const accept of ['br', 'gzip', 'identity']) {
      const get = await raw(url, { 'Accept-Encoding': accept });
      const head = await raw(url, { 'Accept-Encoding': accept }, 'HEAD');
      expectCommonHeaders(head);
      expect(head.body.length).toBe(0);
      expect(head.headers['content-encoding']).toBe(get.headers['content-encoding']);
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
    }
  });
});

test('the integrity hashes in every page hold for the decoded bytes of each copy', async () => {
  const sri = (bytes: Buffer) => 'sha384-' + crypto.createHash('sha384').update(bytes).digest('base64');
  let checked = 0;
  for (const { url } of pages) {
    const html = decode.br((await raw(url, { 'Accept-Encoding': 'br' })).body).toString('utf8');
    const pinned = [...html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="(\/assets\/[^"]+)"[^>]*?integrity="([^"]+)"/g)];
    for (const [, asset, integrity] of pinned) {
      for (const encoding of ['br', 'gzip'] as const) {
        const res = await raw(asset, { 'Accept-Encoding': encoding });
        expect({ asset, encoding, sent: res.headers['content-encoding'] }).toEqual({ asset, encoding, sent: encoding });
        expect({ asset, encoding, sri: sri(decode[encoding](res.body)) }).toEqual({ asset, encoding, sri: integrity });
      }
      checked++;
    }
    // The lazily loaded evidence tools are pinned in a <meta> (path, then hash).
    for (const [, asset, integrity] of html.matchAll(/<meta name="awaaz-[a-z-]+" content="(\/assets\/\S+) (sha384-\S+)">/g)) {
      expect(sri(decode.gzip((await raw(asset, { 'Accept-Encoding': 'gzip' })).body))).toBe(integrity);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(pages.length);
});

test('a missing asset is still a 404, whatever the encoding asked for', async () => {
  for (const accept of ['br', 'gzip', 'identity']) {
    const res = await raw('/assets/nope.js', { 'Accept-Encoding': accept });
    expect(res.status).toBe(404);
    expect(res.headers['content-encoding']).toBeUndefined();
  }
  // A name that tries to leave the assets folder reaches no file.
  const escape = await raw('/assets/..%2findex.html', { 'Accept-Encoding': 'br' });
  expect([400, 403, 404]).toContain(escape.status);
  expect(escape.headers['content-encoding']).toBeUndefined();
});

test('Accept-Encoding is read as RFC 9110 says: q-values, *, refusals, case', () => {
  const list = (h: string | undefined) => [...acceptedEncodings(h)].sort();
  expect(list(undefined)).toEqual([]);
  expect(list('')).toEqual([]);
  expect(list('GZIP, Br')).toEqual(['br', 'gzip']);
  expect(list('br;q=0, gzip;q=0.001')).toEqual(['gzip']);
  expect(list('br; q=0.0')).toEqual([]);
  expect(list('x-gzip')).toEqual(['gzip']);
  expect(list('*;q=0.5, br;q=0')).toEqual(['gzip']);
  expect(list('*;q=0')).toEqual([]);
  expect(list('gzip;q=nonsense')).toEqual([]);
});

describe.each([['/stories'], ['/stats'], ['/stories?context=workplace'], ['/stories/no-such-story']])(
  'the public page %s, drawn per request',
  (url) => {
    test('goes out as br or gzip when allowed, decoding to the very page sent plain', async () => {
      const plain = await raw(url, {});
      expect([200, 404]).toContain(plain.status);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.toString('utf8')).toMatch(/^<!doctype html>/i);
      for (const [accept, encoding] of [
        ['gzip, deflate, br', 'br'],
        ['gzip, deflate', 'gzip'],
        ['br;q=0, gzip', 'gzip'],
      ] as const) {
        const res = await raw(url, { 'Accept-Encoding': accept });
        expect({ accept, status: res.status, encoding: res.headers['content-encoding'] }).toEqual({
          accept,
          status: plain.status,
          encoding,
        });
        expect(res.headers['content-type']).toMatch(/^text\/html; charset=utf-8$/i);
        expect(res.headers['vary']).toMatch(/Accept-Encoding/i);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['x-robots-tag']).toBe('noindex, noarchive');
        expect(res.headers['etag']).toBeUndefined();
        expect(res.body.length).toBeLessThan(plain.body.length);
        expect(decode[encoding](res.body).equals(plain.body)).toBe(true);
        const head = await raw(url, { 'Accept-Encoding': accept }, 'HEAD');
        expect({
          status: head.status,
          encoding: head.headers['content-encoding'],
          length: head.headers['content-length'],
          body: head.body.length,
        }).toEqual({
          status: plain.status,
          encoding,
          length: res.headers['content-length'],
          body: 0,
        });
      }
    });
  },
);
