/**
 * Server-rendered HTML for the public pages (the wall, a story, statistics). Everything
 * inserted is escaped here; messages come from the catalogs in English, marked with their
 * keys (data-i18n, data-i18n-args) so the survivor-base script can show them in Urdu.
 */
import fs from 'node:fs';
import path from 'node:path';
import { en } from '../../i18n/en';
import { NOSCRIPT_KEYS, noscriptEn, noscriptUr, type NoscriptMessageKey } from '../../i18n/noscript';
import { publicEn } from '../../i18n/public';

/** What the public pages draw: the survivor catalog and the public pages' own messages (i18n/public.ts). */
export const pageMessages = { ...en, ...publicEn };
export type PageMessageKey = keyof typeof pageMessages;
import { fill, parseMessage, type Params } from '../../i18n/format';

/**
 * What XML 1.0 forbids (C0 controls but tab, line feed and carriage return; U+FFFE, U+FFFF;
 * unpaired surrogates). Written as U+FFFD, so a page or the Atom feed stays well-formed
 * whatever a stored row holds (stories are refused with them: protocol/api.ts).
 */
const NOT_IN_XML =
  // eslint-disable-next-line no-control-regex -- matching the characters XML 1.0 forbids is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text as HTML or XML character data or attribute value: markup escaped, characters XML forbids replaced. */
export function escapeHtml(text: string | number): string {
  return String(text)
    .replace(NOT_IN_XML, '\uFFFD')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Escaped and marked as safe to insert: the only type the page templates accept. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}
/** Markup written in server code itself (attributes, SVG): never for anything a person typed. */
export const trusted = (markup: string) => new Html(markup);

type Part = Html | string | number | null | undefined | false | Part[];
const render = (p: Part): string =>
  p === null || p === undefined || p === false
    ? ''
    : p instanceof Html
      ? p.value
      : Array.isArray(p)
        ? p.map(render).join('')
        : escapeHtml(p);

/** html`<p>${text}</p>`: interpolated values are escaped unless they are Html already. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  return new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]) : ''), ''));
}

/** A catalog message's markup (bold, links, placeholders) as escaped HTML. */
function markupHtml(template: string, params?: Params): string {
  return parseMessage(template)
    .map((p) => {
      if ('text' in p) return escapeHtml(fill(p.text, params));
      if ('bold' in p) return `<strong>${escapeHtml(fill(p.bold, params))}</strong>`;
      if ('link' in p) return `<a href="${escapeHtml(p.href)}">${escapeHtml(fill(p.link, params))}</a>`;
      return `<bdi>${escapeHtml(fill(`{${p.slot}}`, params))}</bdi>`;
    })
    .join('');
}

/** A catalog message in English, its markup rendered, inside an element that names its key. */
export function msgHtml(tag: string, key: PageMessageKey, params?: Params, attrs: Record<string, string> = {}): Html {
  const inner = markupHtml(pageMessages[key], params);
  const args = params && Object.keys(params).length ? ` data-i18n-args="${escapeHtml(JSON.stringify(params))}"` : '';
  const extra = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeHtml(v)}"`)
    .join('');
  return new Html(`<${tag} data-i18n="${key}"${args}${extra}>${inner}</${tag}>`);
}

/**
 * The built page frame (client/pages/public.html: header, quick exit, footer, the stylesheet
 * and scripts with their integrity hashes), with a title and a main part filled in.
 */
export function publicPageRenderer(clientDir: string) {
  let template: string | undefined;
  return (title: PageMessageKey, main: Html, head: Html = html``): string | undefined => {
    if (template === undefined) {
      const file = path.join(clientDir, 'public.html');
      if (!fs.existsSync(file)) return undefined;
      template = fs.readFileSync(file, 'utf8');
    }
    // Replaced by functions: a replacement string would read $&, $` and $' in a story's words
    // as patterns, and the page would no longer show the words the survivor approved.
    return template
      .replace('<!--slot:title-->', () => msgHtml('title', title).value)
      .replace('<!--slot:head-->', () => head.value)
      .replace('<!--slot:main-->', () => main.value);
  };
}

/**
 * What a page whose scripts cannot run (Tor Browser's Safest level) says first: that it needs
 * the Safer or Standard level, how to set it, and why. Written into the pages' HTML by the
 * build ({{noscript}}), in English and in Urdu at once: without scripts a page cannot read the
 * reader's language choice (kept in the browser), and the server cannot guess it either (Tor
 * Browser asks every server for English). The messages live in i18n/noscript.ts, apart
 * from the script catalogs, since no script ever shows them. client/styles.css hides the
 * controls that need scripts.
 */
export function noscriptNotice(): string {
  const part = (lang: 'en' | 'ur', messages: Record<NoscriptMessageKey, string>) =>
    `<div lang="${lang}" dir="${lang === 'ur' ? 'rtl' : 'ltr'}">${NOSCRIPT_KEYS.map((k) => `<p>${markupHtml(messages[k])}</p>`).join('')}</div>`;
  return `<noscript><section class="notice noscript" id="noscript">${part('en', noscriptEn)}${part('ur', noscriptUr)}</section></noscript>`;
}
