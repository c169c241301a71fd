/**
 * DESIGN.md budget: the survivor pages (/, /share, /return, /safety) together weigh at most
 * 80 KB gzipped (the gzip copies the build writes and the server sends), counting once each distinct file a survivor's browser loads for
 * them: the HTML, every script and stylesheet they reference, and any asset a script fetches.
 * Sizes of built files are deterministic: this is a budget, not a timing. Needs the build.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import os from 'node:os';
import vm from 'node:vm';
import {
  formatWeights,
  LAZY_ASSETS,
  measureSurvivorPages,
  readerTotals,
  SURVIVOR_BUDGET_BYTES,
  SURVIVOR_PAGES,
} from '../../bench/page-size';
import { en } from '../../i18n/en';
import { catalogAssetPath, DEFAULT_LANG, LANGS, type LazyLang } from '../../i18n/languages';
import { LAZY_CATALOGS } from '../../i18n/lazy-catalogs';
import { unpackCatalog } from '../../i18n/packing';
import { PAGES } from '../../server/app';
import { CLIENT_DIR } from '../support/harness';

beforeAll(() => {
  if (!fs.existsSync(path.join(CLIENT_DIR, 'safety.html'))) throw new Error('dist/client is missing: run `node scripts/build.mjs` first');
});

test('the survivor pages together stay within 80 KB gzipped', () => {
  const weights = measureSurvivorPages(CLIENT_DIR);
  console.log(formatWeights(weights));
  expect(SURVIVOR_BUDGET_BYTES).toBe(81920);
  expect(weights.totalGzip).toBeLessThanOrEqual(SURVIVOR_BUDGET_BYTES);
});

test('every survivor page is counted, and every file it loads is on this server', () => {
  const weights = measureSurvivorPages(CLIENT_DIR);
  for (const [route, file] of Object.entries(SURVIVOR_PAGES)) expect(PAGES[route]).toBe(file);
  const urls = weights.files.map((f) => f.url);
  expect(urls).toEqual(
    expect.arrayContaining([
      '/',
      '/share',
      '/return',
      '/safety',
      '/assets/awaaz.css',
      '/assets/survivor-base.js',
      '/assets/survivor-crypto.js',
    ]),
  );
  expect(weights.thirdParty).toEqual([]);
  // each distinct file once: nothing listed twice
  expect(new Set(urls).size).toBe(urls.length);
});

test('the shared code ships once: page scripts are small and carry no copy of the crypto or the catalogs', () => {
  for (const page of ['landing', 'share', 'return', 'safety']) {
    const js = fs.readFileSync(path.join(CLIENT_DIR, 'assets', `${page}.js`), 'utf8');
    expect({ page, gzip: zlib.gzipSync(js, { level: 9 }).length < 4096 }).toEqual({ page, gzip: true });
    expect(js).not.toContain('0abacus'); // the packed word list (protocol/codename-words.ts) lives in survivor-crypto.js
    expect(js).not.toContain('محفوظ'); // the Urdu catalog is a lazy asset (catalog-ur.js)
  }
});

test('the measurement counts a file a script fetches, and the budget would catch a heavy page', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-size-'));
  try {
    fs.cpSync(CLIENT_DIR, tmp, { recursive: true });
    // a script that fetches a large, incompressible asset
    fs.writeFileSync(path.join(tmp, 'assets/blob.wasm'), crypto.randomBytes(90 * 1024));
    fs.appendFileSync(path.join(tmp, 'assets/safety.js'), ';fetch("/assets/blob.wasm");');
    const weights = measureSurvivorPages(tmp);
    expect(weights.files.map((f) => f.url)).toContain('/assets/blob.wasm');
    expect(weights.totalGzip).toBeGreaterThan(SURVIVOR_BUDGET_BYTES);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the evidence tools and pdf-lib are not loaded up front: separate scripts, fetched by name and hash only when a survivor chooses a file (a PDF, for pdf-lib)', () => {
  const weights = measureSurvivorPages(CLIENT_DIR);
  expect(Object.keys(LAZY_ASSETS).sort()).toEqual([
    '/assets/catalog-ur.js',
    '/assets/drafts.js',
    '/assets/evidence-tools.js',
    '/assets/kdf-worker.js',
    '/assets/matching.js',
    '/assets/pdf-cleaner.js',
  ]);
  expect(weights.lazy.map((f) => f.url)).toContain('/assets/evidence-tools.js');
  for (const url of Object.keys(LAZY_ASSETS)) expect(weights.files.map((f) => f.url)).not.toContain(url);
  const sri = (file: string) =>
    'sha384-' +
    crypto
      .createHash('sha384')
      .update(fs.readFileSync(path.join(CLIENT_DIR, file)))
      .digest('base64');
  // No survivor page loads them with a <script> or a preload; share and return name the evidence
  // tools in a <meta> with the hash of the built file, which the loader checks (Subresource Integrity).
  for (const [page, file] of Object.entries(SURVIVOR_PAGES)) {
    const html = fs.readFileSync(path.join(CLIENT_DIR, file), 'utf8');
    expect(html).not.toContain('pdf-cleaner');
    expect(html).not.toContain('kdf-worker');
    expect(html).not.toMatch(/<(script|link)[^>]*evidence-tools/);
    if (page === '/share' || page === '/return')
      expect(html).toContain(`<meta name="awaaz-evidence-tools" content="/assets/evidence-tools.js ${sri('assets/evidence-tools.js')}">`);
  }
  // The evidence tools carry pdf-lib's hash, which matches the built file.
  expect(fs.readFileSync(path.join(CLIENT_DIR, 'assets/evidence-tools.js'), 'utf8')).toContain(
    JSON.stringify(sri('assets/pdf-cleaner.js')),
  );
  // The pure-JavaScript argon2id (Tor Browser Safer) is fetched by the crypto layer under its hash.
  expect(weights.lazy.map((f) => f.url)).toContain('/assets/kdf-worker.js');
  expect(fs.readFileSync(path.join(CLIENT_DIR, 'assets/survivor-crypto.js'), 'utf8')).toContain(
    JSON.stringify(sri('assets/kdf-worker.js')),
  );
  // Counted up front they would break the budget: this is why they are lazy.
  const gz = (file: string) => zlib.gzipSync(fs.readFileSync(path.join(CLIENT_DIR, file)), { level: 9 }).length;
  expect(weights.totalGzip + gz('assets/evidence-tools.js') + gz('assets/pdf-cleaner.js')).toBeGreaterThan(SURVIVOR_BUDGET_BYTES);
});

test('the matching escrow (with @noble/curves) is not loaded up front: the return page names it under its hash, to load when a survivor adds an identifier', () => {
  const weights = measureSurvivorPages(CLIENT_DIR);
  expect(weights.lazy.map((f) => f.url)).toContain('/assets/matching.js');
  expect(weights.files.map((f) => f.url)).not.toContain('/assets/matching.js');
  const sri =
    'sha384-' +
    crypto
      .createHash('sha384')
      .update(fs.readFileSync(path.join(CLIENT_DIR, 'assets/matching.js')))
      .digest('base64');
  for (const [page, file] of Object.entries(SURVIVOR_PAGES)) {
    const html = fs.readFileSync(path.join(CLIENT_DIR, file), 'utf8');
    expect(html).not.toMatch(/<(script|link)[^>]*matching\.js/);
    if (page === '/return') expect(html).toContain(`<meta name="awaaz-matching" content="/assets/matching.js ${sri}">`);
  }
  // The OPRF (its suite name is in @noble/curves' code) is in the lazy script and in no counted file.
  expect(fs.readFileSync(path.join(CLIENT_DIR, 'assets/matching.js'), 'utf8')).toContain('ristretto255-SHA512');
  for (const f of weights.files.filter((f) => f.url.startsWith('/assets/')))
    expect({ url: f.url, oprf: fs.readFileSync(path.join(CLIENT_DIR, f.url), 'utf8').includes('ristretto255') }).toEqual({
      url: f.url,
      oprf: false,
    });
  // Counted up front it would break the budget.
  const gz = zlib.gzipSync(fs.readFileSync(path.join(CLIENT_DIR, 'assets/matching.js')), { level: 9 }).length;
  expect(weights.totalGzip + gz).toBeGreaterThan(SURVIVOR_BUDGET_BYTES);
});

describe('a language other than English costs the survivor pages nothing up front', () => {
  const lazyLangs = LANGS.filter((l): l is LazyLang => l !== DEFAULT_LANG);
  const sri = (url: string) =>
    'sha384-' +
    crypto
      .createHash('sha384')
      .update(fs.readFileSync(path.join(CLIENT_DIR, url)))
      .digest('base64');
  /** What the browser reads as text in a counted file; the <noscript> notice is in both languages on purpose (no script can choose). */
  const countedText = (clientDir: string, url: string) => {
    const text = fs.readFileSync(path.join(clientDir, url.startsWith('/assets/') ? url : SURVIVOR_PAGES[url]), 'utf8');
    return url.startsWith('/assets/') ? text : text.replace(/<noscript>[\s\S]*?<\/noscript>/g, '');
  };
  const english: Record<string, string> = en;
  /** The messages of lazy languages found in the files the budget counts, and every run of Urdu script there. */
  function otherLanguagesIn(clientDir: string): { found: string[]; checked: number; urdu: string[] } {
    const weights = measureSurvivorPages(clientDir);
    const found: string[] = [];
    let checked = 0;
    for (const lang of lazyLangs) {
      // Messages of that language that English does not also use (the switch names Urdu in Urdu).
      const own = Object.entries(LAZY_CATALOGS[lang]).filter(([, text]) => !Object.values(english).some((e) => e.includes(text)));
      checked += own.length;
      for (const f of weights.files)
        for (const [key, text] of own) if (countedText(clientDir, f.url).includes(text)) found.push(`${f.url}: ${lang} ${key}`);
    }
    const urdu = new Set(weights.files.flatMap((f) => countedText(clientDir, f.url).match(/[\u0600-\u06FF]+/g) ?? []));
    return { found, checked, urdu: [...urdu] };
  }

  test('there is a lazy language, and its catalog is an asset the pages name only with its hash', () => {
    expect(lazyLangs).toEqual(['ur']);
    const weights = measureSurvivorPages(CLIENT_DIR);
    const base = fs.readFileSync(path.join(CLIENT_DIR, 'assets/survivor-base.js'), 'utf8');
    for (const lang of lazyLangs) {
      const url = catalogAssetPath(lang);
      expect(weights.lazy.map((f) => f.url)).toContain(url);
      expect(weights.files.map((f) => f.url)).not.toContain(url);
      // survivor-base.js loads it under the hash of the built file (the browser refuses other bytes).
      expect(base).toContain(`${JSON.stringify(url)},sri:${JSON.stringify(sri(url))}`);
      // Run, it hands over exactly that language's catalog.
      const sandbox: { globalThis?: unknown; AwaazCatalogs?: Record<string, unknown> } = {};
      sandbox.globalThis = sandbox;
      vm.runInNewContext(fs.readFileSync(path.join(CLIENT_DIR, url), 'utf8'), sandbox);
      expect(unpackCatalog(sandbox.AwaazCatalogs?.[lang])).toEqual(LAZY_CATALOGS[lang]);
    }
  });

  test('no file counted in the budget carries a message of another language, and no Urdu but the label of the switch', () => {
    const { found, checked, urdu } = otherLanguagesIn(CLIENT_DIR);
    expect(checked).toBeGreaterThan(200);
    expect(found).toEqual([]);
    // Urdu script anywhere in what is counted (outside <noscript>): only "اردو", the switch's label in English.
    expect(urdu).toEqual([english['lang.other']]);
  });

  test('the check would catch a catalog bundled back into a page script', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-lang-'));
    try {
      fs.cpSync(CLIENT_DIR, tmp, { recursive: true });
      fs.appendFileSync(path.join(tmp, 'assets/survivor-base.js'), `;var catalogs=${JSON.stringify(LAZY_CATALOGS)};`);
      const { found, urdu } = otherLanguagesIn(tmp);
      expect(found.length).toBeGreaterThan(200);
      expect(urdu.length).toBeGreaterThan(100);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('a reader of each language stays within the budget too (the pages and that catalog)', () => {
    const totals = readerTotals(measureSurvivorPages(CLIENT_DIR));
    for (const lang of lazyLangs) expect({ lang, within: totals[lang]! <= SURVIVOR_BUDGET_BYTES }).toEqual({ lang, within: true });
  });
});
