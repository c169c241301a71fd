/** Small DOM helpers. No innerHTML anywhere: text goes in as text, so decrypted content cannot inject markup. */

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

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { text?: string; className?: string; attrs?: Record<string, string> } = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.text !== undefined) node.textContent = props.text;
  if (props.className) node.className = props.className;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

/** Writes a message into a status region (role=status or role=alert in the page). */
export function say(region: HTMLElement, message: string, kind: 'info' | 'error' = 'info'): void {
  region.textContent = message;
  region.dataset.kind = kind;
  region.hidden = message === '';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : 'Something went wrong.';
}

/** Runs an async action from a form submit, disabling its submit button meanwhile. */
export function onSubmit(form: HTMLFormElement, status: HTMLElement, action: () => Promise<void>): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll<HTMLButtonElement>('button');
    buttons.forEach((b) => (b.disabled = true));
    say(status, '');
    action()
      .catch((e) => say(status, errorMessage(e), 'error'))
      .finally(() => buttons.forEach((b) => (b.disabled = false)));
  });
}

/** Lets the browser paint a progress message before a long synchronous step (argon2, proof of work). */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 30));
}

export function fragmentToken(): string | undefined {
  const token = location.hash.slice(1);
  return /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
}

export async function copyText(text: string, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Copy failed: select the text and copy it';
  }
}
