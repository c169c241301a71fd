/**
 * Quick exit: the button on every survivor page, or Escape pressed three times within two
 * seconds, clears what the page holds and replaces it with a neutral site. location.replace
 * overwrites this page's history entry, so Back does not lead here again; survivor pages
 * also move between themselves with location.replace (lib/survivor-page.ts), so the tab
 * never holds more than one Awaaz entry.
 *
 * JavaScript cannot wipe a string from memory; what it can do is drop every reference the
 * page keeps (pages register that with onQuickExit), empty every field, and tear the page
 * down before leaving.
 */
import { DEFAULT_QUICK_EXIT_URL, isExitUrl } from './exit-url';

export const ESCAPE_PRESSES = 3;
export const ESCAPE_WINDOW_MS = 2000;

let exitUrl = DEFAULT_QUICK_EXIT_URL;
/** A cleanup's promise (the clipboard) is waited for at most this long: the page is blank already. */
const LEAVE_WAIT_MS = 300;
const cleanups: (() => void | Promise<unknown>)[] = [];
let armed = false;

export function quickExitUrl(): string {
  return exitUrl;
}

/** The instance's configured exit (from GET /api/instance); ignored unless http(s). */
export function setQuickExitUrl(url: unknown): void {
  if (!isExitUrl(url)) return;
  exitUrl = url;
  document.querySelectorAll<HTMLAnchorElement>('a[data-quick-exit]').forEach((a) => (a.href = url));
}

/**
 * Registers what a page must forget on quick exit (its codename, keys, session…). A cleanup
 * that must finish before the page leaves returns its promise: an asynchronous write cut off by
 * the navigation would not happen (the clipboard kept her codename).
 */
export function onQuickExit(cleanup: () => void | Promise<unknown>): void {
  cleanups.push(cleanup);
}

export function quickExit(): void {
  const pending: Promise<unknown>[] = [];
  for (const cleanup of cleanups.splice(0)) {
    try {
      const done = cleanup();
      if (done) pending.push(done.catch(() => undefined));
    } catch {
      // keep leaving whatever happens
    }
  }
  try {
    sessionStorage.clear();
  } catch {
    // storage disabled: nothing to clear
  }
  try {
    document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>('input, textarea, select').forEach((field) => {
      if (field instanceof HTMLInputElement && (field.type === 'checkbox' || field.type === 'radio')) field.checked = false;
      else field.value = '';
    });
    document.title = '';
    document.body?.replaceChildren();
  } catch {
    // the page is going away anyway
  }
  const leave = () => location.replace(exitUrl);
  if (pending.length === 0) leave();
  else void Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, LEAVE_WAIT_MS))]).then(leave);
}

/** Listens for the button and for Escape; safe to call before the body exists. */
export function armQuickExit(): void {
  if (armed) return;
  armed = true;
  let presses: number[] = [];
  document.addEventListener(
    'keydown',
    (e) => {
      if (e.key !== 'Escape' && e.key !== 'Esc') return;
      const now = performance.now();
      presses = presses.filter((at) => now - at < ESCAPE_WINDOW_MS);
      presses.push(now);
      if (presses.length >= ESCAPE_PRESSES) {
        e.preventDefault();
        quickExit();
      }
    },
    true,
  );
  document.addEventListener(
    'click',
    (e) => {
      const target = e.target as Element | null;
      if (!target?.closest?.('[data-quick-exit]')) return;
      e.preventDefault();
      quickExit();
    },
    true,
  );
}
