/**
 * The frame every survivor page shares (landing, share, return, safety): language, quick
 * exit, one history entry, the instance facts, and errors worded for survivors. It runs from
 * the blocking survivor-base script in the head, before the body is parsed.
 */
import type { InstanceInfo } from '../../protocol/api';
import { api, ApiFailure } from './api';
import { sayMessage } from './dom';
import { RTL } from '../../i18n/languages';
import { initLang, loadLang, onLangChange, otherLang, setLang, translate } from './i18n';
import { LocalizedError, type MessageKey, type Params } from './messages';
import { takeFingerprintLink } from './pin-store';
import { armQuickExit, setQuickExitUrl } from './quick-exit';

let instance: Promise<InstanceInfo> | undefined;

/** GET /api/instance once per page (a failed attempt is retried by the next caller). */
export function instanceInfo(): Promise<InstanceInfo> {
  if (!instance) {
    instance = api<InstanceInfo>('GET', '/api/instance');
    instance.then(
      (info) => setQuickExitUrl(info.quickExitUrl),
      () => (instance = undefined),
    );
  }
  return instance;
}

/** Survivor-facing wording of the API errors a survivor can meet; the rest by status. */
const API_MESSAGES: Record<string, MessageKey> = {
  network: 'api.network',
  rate_limited: 'api.rateLimited',
  unauthorized: 'api.unauthorized',
  session_ended: 'api.sessionEnded',
  keyset_changed: 'api.keysetChanged',
  thread_moved: 'api.threadMoved',
  sharing_changed: 'api.sharingChanged',
  not_set_up: 'share.noModerator',
  too_large: 'evidence.serverTooBig',
};

export function describeError(e: unknown): { key: MessageKey; params?: Params } {
  if (e instanceof LocalizedError) return { key: e.key, params: e.params };
  if (e instanceof ApiFailure) {
    const key = API_MESSAGES[e.code];
    if (key) return { key };
    if (e.status >= 500) return { key: 'api.server', params: { status: e.status } };
    return { key: 'api.other', params: { code: e.code } };
  }
  if (e instanceof Error && e.message) return { key: 'error.detail', params: { detail: e.message } };
  return { key: 'error.generic' };
}

/** For onSubmit on survivor pages: the error in the reader's language, re-worded on a switch. */
export function reportError(region: HTMLElement, e: unknown): void {
  const { key, params } = describeError(e);
  sayMessage(region, key, params, 'error');
}

function whenParsed(run: () => void): void {
  if (document.readyState !== 'loading') {
    run();
    return;
  }
  const check = () => {
    if (document.readyState === 'loading') return;
    document.removeEventListener('readystatechange', check);
    run();
  };
  // "interactive" comes when the HTML is parsed, before deferred scripts run.
  document.addEventListener('readystatechange', check);
}

function wireLanguageSwitch(): void {
  const button = document.getElementById('lang-switch') as HTMLButtonElement | null;
  if (!button) return;
  const label = () => {
    // The button names the other language in that language (its own lang and direction).
    button.lang = otherLang();
    button.dir = RTL[otherLang()] ? 'rtl' : 'ltr';
  };
  label();
  onLangChange(label);
  button.hidden = false;
  // The other language's catalog is fetched on demand: start as soon as the reader moves towards the switch.
  const prefetch = () => {
    loadLang(otherLang()).catch(() => undefined); // a failed prefetch is tried again at the click
  };
  for (const event of ['pointerenter', 'touchstart', 'focus']) button.addEventListener(event, prefetch, { passive: true });
  button.addEventListener('click', () => {
    button.setAttribute('aria-busy', 'true');
    setLang(otherLang())
      .then(() => button.focus())
      // Not fetched (offline): the page stays in its language, and the next click tries again.
      .catch(() => undefined)
      .finally(() => button.removeAttribute('aria-busy'));
  });
}

/**
 * Moves between Awaaz pages with location.replace, so the tab's history holds one Awaaz entry
 * at most and Back after a quick exit cannot return here. Modified clicks (new tab) are left
 * alone; in-page anchors (the skip link) move focus instead of adding an entry.
 */
function keepOneHistoryEntry(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
    if (!a || a.target || a.hasAttribute('download') || a.hasAttribute('data-quick-exit')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    e.preventDefault();
    if (url.pathname === location.pathname && url.search === location.search && url.hash) {
      // In-page anchors (the skip link) move focus without adding a history entry.
      const target = document.getElementById(decodeURIComponent(url.hash.slice(1)));
      if (!target) return;
      if (!target.hasAttribute('tabindex')) target.tabIndex = -1;
      target.focus();
      target.scrollIntoView();
      return;
    }
    location.replace(url.href);
  });
}

export function startSurvivorPage(): void {
  takeFingerprintLink();
  // The link followed from this very page only changes the fragment: start the page again under it.
  addEventListener('hashchange', () => takeFingerprintLink() && location.reload());
  const languageReady = initLang();
  armQuickExit();
  whenParsed(() => {
    try {
      translate(document);
      wireLanguageSwitch();
      keepOneHistoryEntry();
    } finally {
      // Shown once in its language: at once for English, else when its catalog is in (or, failing that, in English).
      void languageReady.finally(() => document.documentElement.classList.remove('i18n-pending')); // languageReady never rejects: it falls back to English
    }
    instanceInfo().catch(() => undefined);
  });
}
