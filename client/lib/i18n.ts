/**
 * Languages of the survivor pages: English (default) and Urdu, right to left.
 *
 * The HTML carries the English text as a no-JavaScript fallback and names each message with
 * data-i18n="key" (text) or data-i18n-attr="attr:key;attr:key" (placeholder, aria-label,
 * title). This module fills them from the catalogs at load and again, without a reload,
 * whenever the language changes. The choice is kept in localStorage under one key, and only
 * when it differs from what the browser asks for, so English readers leave nothing behind.
 */
import { en } from '../../i18n/en';
import { ur } from '../../i18n/ur';
import { fill, formatDate, isMessageKey, parseMessage, plain, setTranslator, withDates, type MessageKey, type Params } from './messages';

export type Lang = 'en' | 'ur';
export const LANGS: readonly Lang[] = ['en', 'ur'];
export const LANG_KEY = 'awaaz.lang';

/** By key; the evidence tools and the public pages add their messages when they load (addMessages). */
const CATALOGS: Record<Lang, Record<string, string>> = { en, ur };
const RTL: Record<Lang, boolean> = { en: false, ur: true };

let current: Lang = 'en';
const listeners: ((lang: Lang) => void)[] = [];

export function lang(): Lang {
  return current;
}

export function otherLang(l: Lang = current): Lang {
  return l === 'en' ? 'ur' : 'en';
}

/** A message in the current language as plain text (Latin parameters isolated in Urdu). */
export function t(key: MessageKey, params?: Params): string {
  return plain(CATALOGS[current][key], localDates(params), RTL[current]);
}

/** {day} and {date} parameters, and dates shown alone, in the current language (i18n/format.ts formatDate). */
function localDates(params: Params | undefined): Params | undefined {
  return withDates(params, CATALOGS[current]['date.months'], CATALOGS[current]['date.at']);
}
function localDate(value: string): string {
  return formatDate(value, CATALOGS[current]['date.months'], CATALOGS[current]['date.at']);
}

/** What the browser asks for: Urdu if the first preferred language is Urdu, else English. */
function browserLang(): Lang {
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || '';
  return /^ur\b/i.test(first) ? 'ur' : 'en';
}

function storedLang(): Lang | undefined {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return v === 'en' || v === 'ur' ? v : undefined;
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
  const template = CATALOGS[current][key];
  const isolate = RTL[current];
  if (PLAIN_ONLY.has(el.tagName)) {
    el.textContent = plain(template, params, isolate);
    return;
  }
  const slots = new Map<string, Element>();
  for (const child of Array.from(el.children)) {
    const name = (child as HTMLElement).dataset?.slot;
    if (name) slots.set(name, child);
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

/** Fills every data-i18n and data-i18n-attr under root in the current language. */
export function translate(root: ParentNode = document): void {
  root.querySelectorAll<HTMLElement>('[data-i18n]').forEach((el) => {
    const key = el.dataset.i18n ?? '';
    if (isMessageKey(key)) renderMessage(el, key, argsOf(el));
  });
  root.querySelectorAll<HTMLElement>('[data-i18n-attr]').forEach((el) => {
    for (const pair of (el.dataset.i18nAttr ?? '').split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key && isMessageKey(key)) el.setAttribute(attr, t(key));
    }
  });
  root.querySelectorAll<HTMLElement>('time[data-date]').forEach((el) => (el.textContent = localDate(el.dataset.date ?? '')));
}

/**
 * Adds messages that ship with a script loaded later (the evidence tools, i18n/evidence.ts),
 * so that survivor-base.js does not carry them. English is the same object lib/messages.ts reads.
 */
export function addMessages(more: Record<Lang, Record<string, string>>): void {
  for (const l of LANGS) Object.assign(CATALOGS[l], more[l]);
}

/** Runs after every change of language (for what a page draws itself). */
export function onLangChange(listener: (lang: Lang) => void): void {
  listeners.push(listener);
}

/**
 * Chooses the language before the body is parsed (this runs from a blocking script in the
 * head): sets <html lang dir>, and hides the body until it is translated when the language
 * is not English, so an Urdu reader never sees a flash of English.
 */
export function initLang(): Lang {
  current = storedLang() ?? browserLang();
  setTranslator({ text: t, render: renderMessage, date: localDate });
  setDocumentLang(current);
  if (current !== 'en') document.documentElement.classList.add('i18n-pending');
  return current;
}

/** Switches language at once, without a reload; `remember` keeps the choice for next time. */
export function setLang(l: Lang, remember = true): void {
  current = l;
  setDocumentLang(l);
  translate(document);
  if (remember) {
    try {
      if (l === browserLang()) localStorage.removeItem(LANG_KEY);
      else localStorage.setItem(LANG_KEY, l);
    } catch {
      // Storage may be disabled (some private modes): the choice then lasts for this page only.
    }
  }
  for (const listener of listeners) listener(l);
}

export function isLang(v: string): v is Lang {
  return (LANGS as readonly string[]).includes(v);
}
