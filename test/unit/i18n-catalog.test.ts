/**
 * The message catalogs (i18n/*.ts) against each other and against their use:
 * - English and Urdu have exactly the same keys, no empty value, the same {placeholders} and
 *   the same link targets, and every Urdu message is written in Urdu script;
 * - every key that survivor pages name (data-i18n, data-i18n-attr in the HTML; msg/t/
 *   localize/sayMessage/LocalizedError and key-shaped literals in client code) exists, and
 *   every key in the catalogs is used;
 * - the English text left in the HTML as the no-JavaScript fallback is the catalog's, and no
 *   text on a survivor page sits outside a data-i18n element;
 * - survivor code holds no hard-coded sentence.
 */
import fs from 'node:fs';
import path from 'node:path';
import { en as enCore } from '../../i18n/en';
import { evidenceEn, evidenceUr } from '../../i18n/evidence';
import { draftsEn, draftsUr } from '../../i18n/drafts';
import { matchingEn, matchingUr } from '../../i18n/matching';
import { publicEn, publicUr } from '../../i18n/public';
import { ur as urCore } from '../../i18n/ur';
import { parseMessage } from '../../i18n/format';
import { CONTEXT_VALUES, DRAFT_STATUS_VALUES, PROVINCE_VALUES, STATUS_VALUES } from '../../client/lib/testimony-values';
import { CaseStatus } from '../../protocol/api';
import { IDENTIFIER_PROBLEMS, IDENTIFIER_TYPES, SOCIAL_NETWORKS } from '../../protocol/matching';

const ROOT = path.resolve(__dirname, '../..');
const CLIENT = path.join(ROOT, 'client');
/** The catalogs with the evidence tools' and the public pages' messages, which ship apart (i18n/evidence.ts, public.ts). */
const en = { ...enCore, ...evidenceEn, ...publicEn, ...matchingEn, ...draftsEn };
const ur: Record<keyof typeof en, string> = { ...urCore, ...evidenceUr, ...publicUr, ...matchingUr, ...draftsUr };
const keys = Object.keys(en) as (keyof typeof en)[];

/** Survivor pages and the partial they share (staff pages are English only). */
const SURVIVOR_HTML = [
  'pages/index.html',
  'pages/share.html',
  'pages/return.html',
  'pages/safety.html',
  'pages/public.html',
  'pages/partials/header.html',
];
/** The public pages (wall, story, statistics) are drawn by the server from the same catalogs. */
const PUBLIC_SERVER_TS = ['server/routes/public.ts', 'server/http/html.ts'];
/** Code that runs on survivor pages. */
const SURVIVOR_TS = [
  'landing.ts',
  'share.ts',
  'return.ts',
  'safety.ts',
  'survivor-base.ts',
  'lib/api.ts',
  'lib/dom.ts',
  'lib/exit-url.ts',
  'lib/i18n.ts',
  'lib/messages.ts',
  'lib/quick-exit.ts',
  'lib/survivor-page.ts',
  'lib/case-thread.ts',
  'lib/survivor.ts',
  'lib/testimony.ts',
  'lib/trust.ts',
  'lib/sharing.ts',
  'lib/survivor-publishing.ts',
  'drafts.ts',
  'lib/drafts-loader.ts',
  'lib/survivor-drafts.ts',
  'lib/attachments.ts',
  'lib/evidence-picker.ts',
  'lib/evidence-slot.ts',
  'lib/evidence-tools-loader.ts',
  'lib/metadata.ts',
  'lib/metadata-scan.ts',
  'matching.ts',
  'lib/matching-loader.ts',
  'lib/survivor-matching.ts',
  // Not listed, like protocol/: lib/attachment-records.ts and lib/pdf-clean.ts (with its entry
  // pdf-cleaner.ts) show nothing; their errors carry codes that lib/attachments.ts and
  // lib/metadata.ts turn into catalog messages.
];
/** Keys built at run time from data: the prefix and the values the code may append. */
const DYNAMIC: Record<string, readonly string[]> = {
  'status.': STATUS_VALUES,
  'context.': CONTEXT_VALUES,
  'province.': PROVINCE_VALUES,
  'draftStatus.': DRAFT_STATUS_VALUES,
  'matching.type.': IDENTIFIER_TYPES,
  'matching.network.': SOCIAL_NETWORKS,
  'matching.problem.': IDENTIFIER_PROBLEMS,
};

function allFiles(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? allFiles(p, ext) : d.name.endsWith(ext) ? [p] : [];
  });
}
const read = (rel: string) => fs.readFileSync(path.join(CLIENT, rel), 'utf8');
const stripComments = (ts: string) => ts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const links = (s: string) =>
  parseMessage(s)
    .flatMap((p) => ('href' in p ? [p.href] : []))
    .sort();
const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('the catalogs', () => {
  test('English and Urdu have exactly the same keys', () => {
    expect(Object.keys(ur).sort()).toEqual([...keys].sort());
  });

  test.each(keys)('%s: no empty value, same placeholders and links in both languages', (key) => {
    for (const catalog of [en, ur]) {
      expect(typeof catalog[key]).toBe('string');
      expect(catalog[key].trim()).not.toBe('');
    }
    expect(placeholders(ur[key])).toEqual(placeholders(en[key]));
    expect(links(ur[key])).toEqual(links(en[key]));
  });

  test('every Urdu message is written in Urdu script (except the name of the other language, and KB and MB)', () => {
    // "30 KB" is how Urdu readers see sizes on their phones; "30 کے بی" reads as the word کے plus بی.
    const latin = ['lang.other', 'attachment.kb', 'attachment.mb'];
    const notUrdu = keys.filter((k) => !latin.includes(k) && !/[\u0600-\u06FF]/.test(ur[k]));
    expect(notUrdu).toEqual([]);
    // and no Urdu message is just the English one copied over
    expect(keys.filter((k) => !latin.includes(k) && ur[k] === en[k])).toEqual([]);
  });

  test('the language switch names the other language in that language', () => {
    expect(en['lang.other']).toBe('اردو');
    expect(ur['lang.other']).toBe('English');
  });

  test('every case status and every context has a label', () => {
    expect([...STATUS_VALUES].sort()).toEqual([...CaseStatus.options].sort());
    for (const [prefix, values] of Object.entries(DYNAMIC)) for (const v of values) expect(keys).toContain(prefix + v);
  });
});

/** An element's start tag position → [start, end of start tag, start of close tag, end]. */
function elementAt(html: string, start: number): { name: string; open: string; inner: string; end: number } {
  const open = /^<([a-zA-Z0-9]+)\b[^>]*>/.exec(html.slice(start));
  if (!open) throw new Error(`no tag at ${start}`);
  const name = open[1].toLowerCase();
  const innerStart = start + open[0].length;
  const tag = new RegExp(`<(/?)${name}\\b[^>]*>`, 'gi');
  tag.lastIndex = innerStart;
  let depth = 1;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return { name, open: open[0], inner: html.slice(innerStart, m.index), end: m.index + m[0].length };
  }
  throw new Error(`<${name}> at ${start} is not closed`);
}

function attr(openTag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(openTag)?.[1];
}

/** Turns the inner HTML of a data-i18n element back into catalog markup. */
function toMarkup(inner: string): string {
  let out = inner;
  // data-slot children become {name} (they may contain anything)
  for (let i = out.search(/<[a-z]+\b[^>]*\sdata-slot="/i); i >= 0; i = out.search(/<[a-z]+\b[^>]*\sdata-slot="/i)) {
    const el = elementAt(out, i);
    out = out.slice(0, i) + `{${attr(el.open, 'data-slot')}}` + out.slice(el.end);
  }
  out = out.replace(/<strong>([^<]*)<\/strong>/g, '**$1**').replace(/<a href="([^"]+)"[^>]*>([^<]*)<\/a>/g, '[$2]($1)');
  if (/</.test(out)) throw new Error(`markup the catalogs cannot express: ${out}`);
  return out
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"');
}

describe.each(SURVIVOR_HTML)('%s', (file) => {
  const html = read(file);
  const bodyStart = html.indexOf('<body>');
  const i18nTags = [...html.matchAll(/<[a-zA-Z0-9]+\b[^>]*\sdata-i18n="([^"]+)"[^>]*>/g)];

  test('names only keys that exist, in data-i18n and data-i18n-attr', () => {
    const named = i18nTags.map((m) => m[1]);
    for (const m of html.matchAll(/\sdata-i18n-attr="([^"]+)"/g)) {
      for (const pair of m[1].split(';')) {
        const [attrName, key] = pair.split(':');
        expect(attrName).toMatch(/^(placeholder|aria-label|title|alt)$/);
        named.push(key);
      }
    }
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((k) => !(k in en))).toEqual([]);
  });

  test('keeps the English catalog text as its no-JavaScript fallback', () => {
    for (const m of i18nTags) {
      const key = m[1] as keyof typeof en;
      const el = elementAt(html, m.index);
      const fallback = el.name === 'title' || el.name === 'option' ? el.inner : toMarkup(el.inner);
      expect({ key, text: norm(fallback) }).toEqual({ key, text: norm(en[key]) });
      const attrPairs = attr(el.open, 'data-i18n-attr');
      for (const pair of attrPairs ? attrPairs.split(';') : []) {
        const [attrName, attrKey] = pair.split(':') as [string, keyof typeof en];
        expect({ attrName, value: attr(el.open, attrName) }).toEqual({ attrName, value: en[attrKey] });
      }
    }
  });

  test('has no text outside an element that names its message', () => {
    let rest = bodyStart >= 0 ? html.slice(bodyStart) : html;
    for (let i = rest.search(/<[a-zA-Z0-9]+\b[^>]*\sdata-i18n="/); i >= 0; i = rest.search(/<[a-zA-Z0-9]+\b[^>]*\sdata-i18n="/)) {
      rest = rest.slice(0, i) + rest.slice(elementAt(rest, i).end);
    }
    const text = rest
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/\{\{[^}]+\}\}/g, '')
      .replace(/<[^>]+>/g, ' ');
    expect(norm(text)).toBe('');
  });
});

describe('client code', () => {
  const sources = [...allFiles(CLIENT, '.ts'), ...PUBLIC_SERVER_TS.map((f) => path.join(ROOT, f))].map((f) => ({
    file: path.relative(CLIENT, f),
    code: stripComments(fs.readFileSync(f, 'utf8')),
  }));
  const namespaces = new Set(keys.map((k) => k.split('.')[0]));
  const used = new Set<string>();
  for (const f of SURVIVOR_HTML) {
    const html = read(f);
    for (const m of html.matchAll(/\sdata-i18n="([^"]+)"/g)) used.add(m[1]);
    for (const m of html.matchAll(/\sdata-i18n-attr="([^"]+)"/g)) for (const pair of m[1].split(';')) used.add(pair.split(':')[1]);
  }

  test('every key passed to msg, t, localize, sayMessage or a LocalizedError exists', () => {
    const calls = /\b(?:msg|t|localize|sayMessage|renderMessage|LocalizedError|TrustError)\(\s*(?:[\w$.]+\s*,\s*)?'([^']*)'/g;
    const missing: string[] = [];
    let found = 0;
    for (const { file, code } of sources) {
      for (const m of code.matchAll(calls)) {
        found++;
        used.add(m[1]);
        if (!(m[1] in en)) missing.push(`${file}: ${m[1]}`);
      }
    }
    expect(found).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  test('every key-shaped literal in client code exists (maps of keys, helpers)', () => {
    const missing: string[] = [];
    for (const { file, code } of sources) {
      for (const m of code.matchAll(/'([a-z]+)\.([A-Za-z0-9_.]+)'/g)) {
        if (!namespaces.has(m[1])) continue;
        const key = `${m[1]}.${m[2]}`;
        used.add(key);
        if (!(key in en)) missing.push(`${file}: ${key}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('the code builds the dynamic keys it is allowed to', () => {
    const code = sources.map((s) => s.code).join('\n');
    for (const prefix of Object.keys(DYNAMIC)) expect(code).toContain('`' + prefix + '${');
  });

  test('every catalog key is used somewhere', () => {
    const dynamic = Object.entries(DYNAMIC).flatMap(([prefix, values]) => values.map((v) => prefix + v));
    const unused = keys.filter((k) => !used.has(k) && !dynamic.includes(k));
    expect(unused).toEqual([]);
  });

  test('survivor code holds no hard-coded sentence: user-facing text comes from the catalogs', () => {
    // Developer-facing messages (a page missing an element, a layer not loaded) are not shown to survivors.
    const allowed = [/^page is missing #/];
    const sentences: string[] = [];
    for (const rel of SURVIVOR_TS) {
      const code = stripComments(read(rel));
      for (const m of code.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)) {
        const s = m[1] ?? m[2] ?? m[3];
        if (
          /[A-Za-z]{2,}[,:;]?\s+[A-Za-z]{2,}/.test(s) &&
          !/^[\w\s,[\]='"#.:()-]*(input|textarea|select|\[data-)/.test(s) &&
          !allowed.some((a) => a.test(s))
        )
          sentences.push(`${rel}: ${s}`);
      }
    }
    expect(sentences).toEqual([]);
  });
});
