/**
 * Taking a published story down (admins and advocates): from the "Take a story down" block by
 * its address, or from a published draft in the Publishing panel. The reason is public: the
 * story's address shows it (410) and so does the survivor's page.
 *
 * The page needs `#takedown-panel` with `#takedown-form`, `#takedown-address`,
 * `#takedown-reason` and `#takedown-status`.
 */
import { api } from './api';
import { byId, el, onSubmit, say, show } from './dom';

const ALIAS = /^[a-z2-9]{10}$/;

/** The alias in a story's address (or the alias itself). */
export function storyAlias(address: string): string {
  const trimmed = address.trim();
  const alias = /\/stories\/([^/?#\s]+)\/?(?:[?#].*)?$/.exec(trimmed)?.[1] ?? trimmed;
  if (!ALIAS.test(alias)) throw new Error('That is not the address of a story: it ends with /stories/ and 10 letters and digits.');
  return alias;
}

async function takeDown(alias: string, reason: string): Promise<void> {
  if (!reason.trim()) throw new Error('Give the reason: it is shown on the story’s address and to the survivor.');
  if (!confirm('Take this story down? It leaves the wall and the feed at once and its words are erased; this cannot be undone.'))
    throw new Error('Nothing was taken down.');
  await api('POST', `/api/staff/stories/${alias}/takedown`, { reason: reason.trim() });
}

export function initTakedownPanel(): void {
  show(byId('takedown-panel'));
}

export function bindTakedownPanel(): void {
  const status = byId('takedown-status');
  onSubmit(byId<HTMLFormElement>('takedown-form'), status, async () => {
    const alias = storyAlias(byId<HTMLInputElement>('takedown-address').value);
    await takeDown(alias, byId<HTMLTextAreaElement>('takedown-reason').value);
    byId<HTMLInputElement>('takedown-address').value = '';
    byId<HTMLTextAreaElement>('takedown-reason').value = '';
    say(status, `The story /stories/${alias} was taken down. Its address now shows your reason.`);
  });
}

/** A small form under a published draft: the reason, then the story comes down; `after` redraws. */
export function takedownForm(alias: string, after: (message: string) => Promise<void>): HTMLElement {
  const id = `takedown-${alias}`;
  const reason = el('textarea', { attrs: { id, required: '', maxlength: '500', dir: 'auto' } });
  const status = el('p', { attrs: { role: 'status', hidden: '' } });
  const form = el('form', { className: 'takedown', attrs: { autocomplete: 'off' } }, [
    el('label', { text: 'Reason for taking it down (shown publicly and to the survivor)', attrs: { for: id } }),
    reason,
    status,
    el('button', { text: 'Take it down', attrs: { type: 'submit' } }),
  ]);
  form.hidden = true;
  const open = el('button', { text: 'Take this story down', className: 'secondary', attrs: { type: 'button' } });
  open.addEventListener('click', () => {
    form.hidden = false;
    open.hidden = true;
    reason.focus();
  });
  onSubmit(form, status, async () => {
    await takeDown(alias, reason.value);
    await after(`The story /stories/${alias} was taken down.`);
  });
  return el('div', {}, [open, form]);
}
