/**
 * Survivor page weight (DESIGN.md "Performance budgets"): everything a survivor's browser
 * loads for the survivor pages (/, /share, /return, /safety), at most 80 KB gzipped in total.
 *
 *   npm run build && node dist/bench/page-size.js
 *
 * Counts, once each, the HTML of every survivor page and every file those pages reference
 * (scripts, stylesheets, icons, images) plus any /assets/ file a script names (wasm: none
 * today, the argon2 wasm is inside the crypto script). Sizes are those of the gzip copies
 * the build wrote (zopfli: what Tor Browser receives from an onion service, which offers no
 * brotli over http), so the figure is deterministic. test/integration/size-budget.test.ts holds
 * the budget.
 *
 * Except LAZY_ASSETS: scripts a page loads only on a survivor's action, never up front, and
 * the catalogs of languages other than English, loaded only for their readers. They are listed
 * apart (`lazy`), with what makes a page load them, and are not in the total; the figure for a
 * reader of another language is the total plus that language's catalog (printed below it).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { catalogAssetPath, DEFAULT_LANG, LANGS, type LazyLang } from '../i18n/languages';

export const SURVIVOR_PAGES: Record<string, string> = {
  '/': 'index.html',
  '/share': 'share.html',
  '/return': 'return.html',
  '/safety': 'safety.html',
};
export const SURVIVOR_BUDGET_BYTES = 80 * 1024;

/** Assets no survivor page loads until the survivor does something that needs them (scripts/build.mjs LAZY_SCRIPTS, LAZY_LAYERED, and the catalogs). */
export const LAZY_ASSETS: Record<string, string> = {
  '/assets/pdf-cleaner.js': 'pdf-lib, loaded by lib/metadata.ts when a survivor attaches a PDF',
  '/assets/evidence-tools.js':
    'the evidence picker: cleaning, sealing and uploading files, loaded by lib/evidence-tools-loader.ts when a survivor chooses a first file',
  '/assets/matching.js':
    'the matching escrow (normalizing, the RFC 9497 OPRF of @noble/curves, sealing to the matching counselors), loaded by lib/matching-loader.ts when a survivor chooses to add an identifier of the person, or must derive one again after a key rotation',
  '/assets/drafts.js':
    'the drafts proposed to a survivor (approving the exact words, asking for changes, withdrawing consent), loaded by lib/drafts-loader.ts only for a case that has a draft',
  '/assets/kdf-worker.js':
    'argon2id in pure JavaScript and the proof of work, in a Worker, loaded by lib/kdf.ts only where WebAssembly is missing (Tor Browser Safer)',
  ...Object.fromEntries(
    LANGS.filter((l): l is LazyLang => l !== DEFAULT_LANG).map((l) => [
      catalogAssetPath(l),
      `the ${l} messages, loaded by lib/i18n.ts only for a reader of that language (chosen, remembered, or asked for by the browser)`,
    ]),
  ),
};

export interface FileWeight {
  /** the URL path the browser fetches */
  url: string;
  bytes: number;
  gzip: number;
  /** which survivor pages load it */
  pages: string[];
}

export interface PageWeights {
  files: FileWeight[];
  totalGzip: number;
  /** LAZY_ASSETS that a counted file names: loaded only on demand, outside the total */
  lazy: FileWeight[];
  /** references to anything that is not on this server (there must be none) */
  thirdParty: string[];
}

/**
 * What a browser that accepts gzip receives: the build's gzip copy beside the file (zopfli,
 * scripts/build.mjs) when it decodes to the file as it is now, else gzip -9 of the file.
 */
function gzip(disk: string, bytes: Buffer): number {
  const copy = disk + '.gz';
  if (fs.existsSync(copy)) {
    const gz = fs.readFileSync(copy);
    if (zlib.gunzipSync(gz).equals(bytes)) return gz.length;
  }
  return zlib.gzipSync(bytes, { level: 9 }).length;
}
type Kind = 'html' | 'js' | 'css' | 'other';
const kindOf = (url: string): Kind => (url.endsWith('.js') ? 'js' : url.endsWith('.css') ? 'css' : 'other');

/** What a page or a script makes the browser fetch (URL paths), and anything off-site. */
function references(text: string, kind: Kind): { local: string[]; remote: string[] } {
  const local: string[] = [];
  const remote: string[] = [];
  const add = (url: string) => {
    if (url.startsWith('data:') || url.startsWith('#')) return;
    if (/^https?:\/\//i.test(url) || url.startsWith('//')) remote.push(url);
    else local.push(url.split(/[?#]/)[0]);
  };
  if (kind === 'html') {
    for (const m of text.matchAll(/<script\b[^>]*\ssrc="([^"]+)"/g)) add(m[1]);
    for (const m of text.matchAll(/<link\b[^>]*>/g)) {
      const href = /\shref="([^"]+)"/.exec(m[0])?.[1];
      if (href && /\srel="[^"]*\b(stylesheet|icon|preload|modulepreload|manifest)\b/.test(m[0])) add(href);
    }
    for (const m of text.matchAll(/<(?:img|source|video|audio|iframe|embed|object)\b[^>]*\s(?:src|data)="([^"]+)"/g)) add(m[1]);
    // A script a page loads on demand, named with its hash (scripts/build.mjs {{lazy:…}}).
    for (const m of text.matchAll(/<meta\b[^>]*\sname="awaaz-[a-z-]+"[^>]*\scontent="(\/assets\/[^" ]+) sha384-[^"]+"/g)) add(m[1]);
  } else if (kind === 'css') {
    for (const m of text.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/g)) add(m[1]);
    for (const m of text.matchAll(/@import\s+['"]([^'"]+)['"]/g)) add(m[1]);
  } else if (kind === 'js') {
    // Files a script fetches or loads by name from this server.
    for (const m of text.matchAll(/["'`](\/assets\/[A-Za-z0-9._/-]+)["'`]/g)) add(m[1]);
  }
  return { local, remote };
}

export function measureSurvivorPages(clientDir: string): PageWeights {
  const files = new Map<string, FileWeight>();
  const lazy = new Map<string, FileWeight>();
  const thirdParty: string[] = [];
  const fileFor = (url: string) => (url.startsWith('/assets/') ? path.join(clientDir, 'assets', url.slice('/assets/'.length)) : undefined);

  /** what each visited file makes the browser fetch, so a file shared by pages credits them all */
  const fetches = new Map<string, string[]>();
  const visit = (url: string, disk: string, page: string, kind: Kind) => {
    const counted = url in LAZY_ASSETS ? lazy : files;
    const seen = counted.get(url);
    if (seen) {
      if (seen.pages.includes(page)) return;
      seen.pages.push(page);
    } else {
      if (!fs.existsSync(disk)) throw new Error(`${page} loads ${url}, which is not in ${clientDir}`);
      const bytes = fs.readFileSync(disk);
      counted.set(url, { url, bytes: bytes.length, gzip: gzip(disk, bytes), pages: [page] });
      const refs = references(bytes.toString('utf8'), kind);
      thirdParty.push(...refs.remote.map((r) => `${url} -> ${r}`));
      fetches.set(url, refs.local);
    }
    for (const ref of fetches.get(url)!) {
      const target = fileFor(ref);
      if (!target) throw new Error(`${url} references ${ref}, which is not an asset`);
      visit(ref, target, page, kindOf(ref));
    }
  };

  for (const [route, file] of Object.entries(SURVIVOR_PAGES)) visit(route, path.join(clientDir, file), route, 'html');
  const list = [...files.values()];
  return { files: list, totalGzip: list.reduce((sum, f) => sum + f.gzip, 0), lazy: [...lazy.values()], thirdParty };
}

/** What a reader of each lazy language loads up front: the counted total and that language's catalog. */
export function readerTotals(w: PageWeights): Partial<Record<LazyLang, number>> {
  const totals: Partial<Record<LazyLang, number>> = {};
  for (const l of LANGS) {
    if (l === DEFAULT_LANG) continue;
    const catalog = w.lazy.find((f) => f.url === catalogAssetPath(l));
    if (catalog) totals[l] = w.totalGzip + catalog.gzip;
  }
  return totals;
}

export function formatWeights(w: PageWeights): string {
  const kb = (n: number) => (n / 1024).toFixed(1).padStart(6) + ' KB';
  const lines = w.files
    .sort((a, b) => b.gzip - a.gzip)
    .map((f) => `${f.url.padEnd(28)} ${kb(f.bytes)} raw ${kb(f.gzip)} gzip   ${f.pages.join(' ')}`);
  const verdict = w.totalGzip <= SURVIVOR_BUDGET_BYTES ? 'met' : 'EXCEEDED';
  return [
    'survivor pages, each file counted once (the gzip copy the build wrote):',
    ...lines,
    `${'total'.padEnd(28)} ${' '.repeat(13)} ${kb(w.totalGzip)} gzip   (${w.totalGzip} bytes; budget ${SURVIVOR_BUDGET_BYTES}: ${verdict})`,
    ...w.lazy.map(
      (f) => `not counted, loaded on demand: ${f.url} ${kb(f.bytes)} raw ${kb(f.gzip)} gzip   ${f.pages.join(' ')} (${LAZY_ASSETS[f.url]})`,
    ),
    ...Object.entries(readerTotals(w)).map(
      ([lang, total]) => `for a reader in ${lang} (the total and that catalog): ${kb(total)} gzip (${total} bytes)`,
    ),
  ].join('\n');
}

if (require.main === module) {
  const clientDir = path.resolve(__dirname, '../client');
  const weights = measureSurvivorPages(clientDir);
  console.log(formatWeights(weights));
  if (weights.thirdParty.length) console.log(`third-party references: ${weights.thirdParty.join(', ')}`);
}
