/**
 * Message lookup for code shared by survivor and staff pages. Every user-facing string comes
 * from the catalogs in i18n/ (top level, shared with the server); this module knows only the English one, so staff pages
 * (English only) stay small. Survivor pages load lib/i18n.ts, which installs a translator
 * for the chosen language and a renderer for the catalogs' small markup.
 *
 * Catalog markup: `**bold**`, `[link text](/path)`, and `{name}` for a parameter or for a
 * child element marked `data-slot="name"` (kept in place, for example the handle).
 */
import { en } from '../../i18n/en';
import type { evidenceEn } from '../../i18n/evidence';
import type { DraftsMessageKey } from '../../i18n/drafts';
import type { MatchingMessageKey } from '../../i18n/matching';
import type { PublicMessageKey } from '../../i18n/public';
import { formatDate, plain, withDates, type Params } from '../../i18n/format';

export type { Catalog } from '../../i18n/en';
/** Every message: the catalogs', the evidence tools' (i18n/evidence.ts) and the public pages' (i18n/public.ts), registered when their scripts load. */
export type MessageKey = keyof typeof en | keyof typeof evidenceEn | PublicMessageKey | MatchingMessageKey | DraftsMessageKey;
/** The English messages as looked up by key; the evidence tools add theirs (lib/i18n.ts addMessages). */
const english: Record<string, string> = en;
export { fill, formatDate, parseMessage, plain, withDates, type Params, type Piece } from '../../i18n/format';

export interface Translator {
  /** the message for a key in the current language, as plain text */
  text(key: MessageKey, params?: Params): string;
  /** writes the message into an element (markup rendered, data-slot children kept) */
  render(el: HTMLElement, key: MessageKey, params?: Params): void;
  /** a UTC day or a camera's time, as people write it in the current language (formatDate) */
  date(value: string): string;
}

const englishDates = (params?: Params) => withDates(params, en['date.months'], en['date.at']);
const inEnglish: Translator = {
  text: (key, params) => plain(english[key], englishDates(params)),
  render: (el, key, params) => {
    el.textContent = plain(english[key], englishDates(params));
  },
  date: (value) => formatDate(value, en['date.months'], en['date.at']),
};

let current: Translator = inEnglish;

/** lib/i18n.ts calls this on survivor pages; staff pages keep English. */
export function setTranslator(t: Translator): void {
  current = t;
}

export function msg(key: MessageKey, params?: Params): string {
  return current.text(key, params);
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(english, key);
}

/** A UTC day or a camera's time as people write it in the current language ("29 November 2026"). */
export function dateText(value: string): string {
  return current.date(value);
}

/** A date shown on its own (not inside a message): a <time> that a change of language re-renders. */
export function dateElement(value: string): HTMLTimeElement {
  const time = document.createElement('time');
  time.dateTime = time.dataset.date = value;
  time.textContent = dateText(value);
  return time;
}

/**
 * Writes a message into an element and remembers its key and parameters on the element
 * (data-i18n, data-i18n-args), so that a change of language re-renders it in place.
 */
export function localize(el: HTMLElement, key: MessageKey, params?: Params): void {
  el.dataset.i18n = key;
  if (params && Object.keys(params).length > 0) el.dataset.i18nArgs = JSON.stringify(params);
  else delete el.dataset.i18nArgs;
  current.render(el, key, params);
}

/** Stops an element from being re-translated (its content is data, not a message). */
export function unlocalize(el: HTMLElement): void {
  delete el.dataset.i18n;
  delete el.dataset.i18nArgs;
}

/** An error whose message comes from the catalogs, so it can be shown in either language. */
export class LocalizedError extends Error {
  constructor(
    readonly key: MessageKey,
    readonly params?: Params,
  ) {
    super(msg(key, params));
    this.name = 'LocalizedError';
  }
}
