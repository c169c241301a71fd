/** Small DOM helpers. No innerHTML anywhere: text goes in as text, so decrypted content cannot inject markup. */
import { localize, msg, unlocalize, type MessageKey, type Params } from './messages';

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
}

export function show(el: HTMLElement, visible = true): void {
  el.hidden = !visible;
}

/** Shows one step of a page and hides its siblings with the same data-step attribute. */
export function showStep(id: string): void {
  document.querySelectorAll<HTMLElement>('[data-step]').forEach((s) => (s.hidden = s.id !== id));
  const heading = byId(id).querySelector<HTMLElement>('h1, h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { text?: string; className?: string; attrs?: Record<string, string> } = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.text !== undefined) node.textContent = props.text;
  if (props.className) node.className = props.className;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

/** Writes a message into a status region (role=status or role=alert in the page). */
export function say(region: HTMLElement, message: string, kind: 'info' | 'error' = 'info'): void {
  unlocalize(region);
  region.textContent = message;
  region.dataset.kind = kind;
  region.hidden = message === '';
}

/** Like say, with a catalog message that follows a change of language. */
export function sayMessage(region: HTMLElement, key: MessageKey, params?: Params, kind: 'info' | 'error' = 'info'): void {
  localize(region, key, params);
  region.dataset.kind = kind;
  region.hidden = false;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : msg('error.generic');
}

/** How a page shows a failed action in a status region; the default shows the error's message. */
export type ErrorReporter = (region: HTMLElement, e: unknown) => void;
const reportPlainly: ErrorReporter = (region, e) => say(region, errorMessage(e), 'error');

/** Runs an action (async or not) from a form submit, disabling its submit button meanwhile. */
export function onSubmit(
  form: HTMLFormElement,
  status: HTMLElement,
  action: () => void | Promise<void>,
  report: ErrorReporter = reportPlainly,
): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll<HTMLButtonElement>('button');
    buttons.forEach((b) => (b.disabled = true));
    say(status, '');
    // A synchronous throw is reported like a rejection.
    new Promise<void>((resolve) => resolve(action()))
      .catch((e) => report(status, e))
      .finally(() => buttons.forEach((b) => (b.disabled = false)));
  });
}

/**
 * Listens with an async handler. addEventListener ignores what a listener returns, so a
 * rejection would go unnoticed: the handlers report what they expect themselves, and anything
 * else is logged here.
 */
export function listen(target: EventTarget, type: string, handler: () => Promise<void>): void {
  target.addEventListener(type, () => {
    handler().catch((e: unknown) => console.error(e));
  });
}

/** A text field of a form (FormData also holds files; a file where text is expected reads as empty). */
export function formText(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}

/** Lets the browser paint a progress message before a long synchronous step (argon2, proof of work). */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 30));
}

/** The token of a setup or invite link (`#<token>`, an invite's perhaps followed by `&fp=…`). */
export function fragmentToken(): string | undefined {
  const token = location.hash.slice(1).split('&')[0];
  return /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
}

export async function copyText(text: string, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    localize(button, 'copy.done');
  } catch {
    localize(button, 'copy.failed');
  }
}
