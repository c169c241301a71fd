/**
 * Languages of the survivor pages: English (default) and Urdu, right to left.
 *
 * The HTML carries the English text as a no-JavaScript fallback and names each message with
 * data-i18n="key" (text) or data-i18n-attr="attr:key;attr:key" (placeholder, aria-label,
 * title). This module fills them from the catalogs at load and again, without a reload,
 * whenever the language changes. The choice is kept in localStorage under one key, and only
 * when it differs from what the browser asks for, so English readers leave nothing behind.
 *
 * Only English ships in survivor-base.js. Another language's catalog is one script,
 * assets/catalog-<lang>.js (i18n/lazy-catalogs.ts), fetched under the integrity hash the build
 * recorded (AWAAZ_CATALOGS) when the reader chooses that language or the stored choice or the
 * browser asks for it; until it has run, a message falls back to English and the page stays
 * hidden (i18n-pending).
 */
import { en } from '../../i18n/en';
import { DEFAULT_LANG, isLang, LANGS, RTL, type Lang, type LazyLang } from '../../i18n/languages';
import { unpackCatalog } from '../../i18n/packing';
import { lazyScript } from './lazy-script';
import { fill, formatDate, isMessageKey, parseMessage, plain, setTranslator, withDates, type MessageKey, type Params } from './messages';

export { isLang, LANGS, type Lang } from '../../i18n/languages';
export const LANG_KEY = 'awaaz.lang';

/** Path and Subresource Integrity hash of each lazy language's catalog script (scripts/build.mjs). */
declare const AWAAZ_CATALOGS: Record<LazyLang, { src: string; sri: string }>;
type Catalogs = Partial<Record<Lang, Record<string, string>>>;

/** English is the object lib/messages.ts reads, to which the evidence tools and the public pages add theirs (addMessages). */
const english: Record<string, string> = en;
/** By language, then key: English, and each other language once its catalog has run. */
const CATALOGS: Catalogs = { en: english };
/** Other languages' messages that came with a later script (addMessages), kept apart from the lazy catalogs. */
const ADDED = Object.fromEntries(LANGS.map((l) => [l, l === DEFAULT_LANG ? english : {}])) as Record<Lang, Record<string, string>>;

let current: Lang = DEFAULT_LANG;
const listeners: ((lang: Lang) => void)[] = [];

export function lang(): Lang {
  return current;
}

export function otherLang(l: Lang = current): Lang {
  return l === 'en' ? 'ur' : 'en';
}

/** A language's messages, once its catalog script has run (it sets globalThis.AwaazCatalogs[lang] to the values, i18n/packing.ts). */
function catalogOf(l: Lang): Record<string, string> | undefined {
  CATALOGS[l] ??= unpackCatalog((globalThis as { AwaazCatalogs?: Record<string, unknown> }).AwaazCatalogs?.[l]);
  return CATALOGS[l];
}

const catalogLoaders: Partial<Record<LazyLang, () => Promise<unknown>>> = {};

/** Fetches a language's catalog once (a failed fetch is tried again on the next call). */
export function loadLang(l: Lang): Promise<void> {
  if (catalogOf(l)) return Promise.resolve();
  const load = (catalogLoaders[l as LazyLang] ??= lazyScript<unknown>(() => {
    const asset = AWAAZ_CATALOGS[l as LazyLang];
    return asset && { src: asset.src, integrity: asset.sri };
  }, 'AwaazCatalogs'));
  return load().then(() => {
    if (!catalogOf(l)) throw new Error(`catalog-${l}`);
  });
}

/** A message in the current language, or in English while (or if) its catalog is missing. */
function message(key: string): string {
  return catalogOf(current)?.[key] ?? ADDED[current][key] ?? english[key];
}

/** A message in the current language as plain text (Latin parameters isolated in Urdu). */
export function t(key: MessageKey, params?: Params): string {
  return plain(message(key), localDates(params), RTL[current]);
}

/** {day} and {date} parameters, and dates shown alone, in the current language (i18n/format.ts formatDate). */
function localDates(params: Params | undefined): Params | undefined {
  return withDates(params, message('date.months'), message('date.at'));
}
function localDate(value: string): string {
  return formatDate(value, message('date.months'), message('date.at'));
}

/** What the browser asks for: Urdu if the first preferred language is Urdu, else English. */
function browserLang(): Lang {
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || '';
  return /^ur\b/i.test(first) ? 'ur' : 'en';
}

function storedLang(): Lang | undefined {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return v && isLang(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function setDocumentLang(l: Lang): void {
  const html = document.documentElement;
  html.lang = l;
  html.dir = RTL[l] ? 'rtl' : 'ltr';
}

const PLAIN_ONLY = new Set(['TITLE', 'OPTION', 'TEXTAREA']);

/** Safe link targets in catalogs: this site's own paths, or https pages (Tor Browser). */
function safeHref(href: string): string | undefined {
  if (/^\/[a-z0-9/_-]*(#[a-z0-9_-]*)?$/i.test(href)) return href;
  if (/^https:\/\/[a-z0-9.-]+(\/[a-z0-9/._-]*)?$/i.test(href)) return href;
  return undefined;
}

/**
 * Writes a message into an element: **bold** becomes <strong>, [text](href) a link, and
 * {name} either the element's own child marked data-slot="name" (kept as it is, with its id
 * and content) or the parameter's value in a <bdi>, so Latin text keeps its order in Urdu.
 */
export function renderMessage(el: HTMLElement, key: MessageKey, given: Params = {}): void {
  const params = localDates(given)!;
  const template = message(key);
  const isolate = RTL[current];
  const slots = new Map<string, Element>();
  for (const child of Array.from(el.children)) {
    const name = (child as HTMLElement).dataset?.slot;
    if (name) slots.set(name, child);
  }
  if (!template) {
    // English that only the page's HTML carries (scripts/build.mjs htmlOnlyEnglish): the page's own text, its slots kept live.
    el.replaceChildren(...(PAGE_TEXT.get(el) ?? []).map((n) => slots.get((n as HTMLElement).dataset?.slot ?? '') ?? n.cloneNode(true)));
    return;
  }
  if (PLAIN_ONLY.has(el.tagName)) {
    el.textContent = plain(template, params, isolate);
    return;
  }
  const nodes: (Node | string)[] = [];
  for (const piece of parseMessage(template)) {
    if ('text' in piece) nodes.push(piece.text);
    else if ('bold' in piece) {
      const strong = document.createElement('strong');
      strong.textContent = fill(piece.bold, params, isolate);
      nodes.push(strong);
    } else if ('link' in piece) {
      const href = safeHref(piece.href);
      const text = fill(piece.link, params, isolate);
      if (!href) {
        nodes.push(text);
        continue;
      }
      const a = document.createElement('a');
      a.href = href;
      if (href.startsWith('https:')) a.rel = 'noreferrer';
      a.textContent = text;
      nodes.push(a);
    } else {
      const slot = slots.get(piece.slot);
      if (slot) nodes.push(slot);
      else if (piece.slot in params) {
        const bdi = document.createElement('bdi');
        bdi.textContent = String(params[piece.slot]);
        nodes.push(bdi);
      } else nodes.push(`{${piece.slot}}`);
    }
  }
  el.replaceChildren(...nodes);
}

function argsOf(el: HTMLElement): Params | undefined {
  if (!el.dataset.i18nArgs) return undefined;
  try {
    return JSON.parse(el.dataset.i18nArgs) as Params;
  } catch {
    return undefined;
  }
}

/** Each element's text and attributes as the page came, kept the first time it is translated (the English of renderMessage's empty messages). */
const PAGE_TEXT = new WeakMap<Element, Node[]>();
const PAGE_ATTRS = new WeakMap<Element, Record<string, string | null>>();

/** Fills every data-i18n and data-i18n-attr under root in the current language. */
export function translate(root: ParentNode = document): void {
  root.querySelectorAll<HTMLElement>('[data-i18n]').forEach((el) => {
    const key = el.dataset.i18n ?? '';
    if (!english[key] && !PAGE_TEXT.has(el))
      PAGE_TEXT.set(
        el,
        Array.from(el.childNodes, (n) => n.cloneNode(true)),
      );
    if (isMessageKey(key)) renderMessage(el, key, argsOf(el));
  });
  root.querySelectorAll<HTMLElement>('[data-i18n-attr]').forEach((el) => {
    const original = PAGE_ATTRS.get(el) ?? {};
    PAGE_ATTRS.set(el, original);
    for (const pair of (el.dataset.i18nAttr ?? '').split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (!(attr in original)) original[attr] = el.getAttribute(attr);
      if (attr && key && isMessageKey(key)) el.setAttribute(attr, t(key) || (original[attr] ?? ''));
    }
  });
  root.querySelectorAll<HTMLElement>('time[data-date]').forEach((el) => (el.textContent = localDate(el.dataset.date ?? '')));
}

/**
 * Adds messages that ship with a script loaded later (the evidence tools, i18n/evidence.ts;
 * the public pages, i18n/public.ts), so that survivor-base.js does not carry them.
 */
export function addMessages(more: Record<Lang, Record<string, string>>): void {
  for (const l of LANGS) Object.assign(ADDED[l], more[l]);
}

/** Runs after every change of language (for what a page draws itself). */
export function onLangChange(listener: (lang: Lang) => void): void {
  listeners.push(listener);
}

/** Shows the current language: <html lang dir>, every message on the page, and what pages draw themselves. */
function applyLang(): void {
  setDocumentLang(current);
  translate(document);
  for (const listener of listeners) listener(current);
}

/** How long a page stays hidden waiting for its language's catalog before it shows in English. */
const CATALOG_WAIT_MS = 5000;

/**
 * Chooses the language before the body is parsed (this runs from a blocking script in the
 * head): sets <html lang dir>, and hides the body until it is translated when the language
 * is not English, so a reader of another language never sees a flash of English. Resolves
 * (never rejects) once the language's catalog is in place and applied; if it cannot be
 * fetched in time, the page is shown in English (nothing stored changes, so the next page
 * tries again, and the switch still offers the language).
 */
export function initLang(): Promise<void> {
  current = storedLang() ?? browserLang();
  setTranslator({ text: t, render: renderMessage, date: localDate });
  setDocumentLang(current);
  if (current === DEFAULT_LANG) return Promise.resolve();
  document.documentElement.classList.add('i18n-pending');
  const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('catalog-timeout')), CATALOG_WAIT_MS));
  return Promise.race([loadLang(current), late]).then(applyLang, () => {
    current = DEFAULT_LANG;
    applyLang();
  });
}

/** Switches language without a reload (once its catalog is in: at once when already fetched); `remember` keeps the choice for next time. */
export function setLang(l: Lang, remember = true): Promise<void> {
  return loadLang(l).then(() => {
    current = l;
    applyLang();
    if (!remember) return;
    try {
      if (l === browserLang()) localStorage.removeItem(LANG_KEY);
      else localStorage.setItem(LANG_KEY, l);
    } catch {
      // Storage may be disabled (some private modes): the choice then lasts for this page only.
    }
  });
}
