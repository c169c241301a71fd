/**
 * "Add evidence" on the survivor's pages (a testimony on /share, a reply on /return), once a
 * first file is chosen (it ships in the lazily loaded evidence tools; lib/evidence-slot.ts is
 * what the page holds before): each
 * file is cleaned as soon as it is chosen (lib/metadata.ts) and shown as it will be sent: the
 * redrawn picture, its neutral name and size, and what was removed, or the warning that it
 * cannot be cleaned with a box to tick to send it anyway. On sending, the files are encrypted
 * and uploaded one after the other under a labelled progress bar.
 */
import type { AttachmentManifest } from '../../protocol/survivor';
import { DEFAULT_LIMITS, MAX_ATTACHMENTS } from './attachment-records';
import { formatSize } from './attachment-view';
import { bearerNow } from './api';
import { uploadAttachment } from './attachments';
import { cleanEvidence } from './metadata';
import type { EvidencePicker } from './evidence-slot';
import { el } from './dom';
import { LocalizedError, localize, msg, type MessageKey } from './messages';
import type { CleanedEvidence, Message } from './metadata';
import { onQuickExit } from './quick-exit';

/** Preview URLs alive on this page; quick exit revokes them with the rest of the page's state. */
const previews = new Set<string>();
onQuickExit(() => {
  previews.forEach((url) => URL.revokeObjectURL(url));
  previews.clear();
});

interface Item {
  row: HTMLLIElement;
  /** the original name, shown only here, to say what was replaced */
  original: string;
  cleaned?: CleanedEvidence;
  /** what must be done before sending (a file too large, or one that could not be prepared) */
  problem?: Message;
  consent?: HTMLInputElement;
  preview?: string;
  /** uploaded under this session: a second press of Send after a later failure does not upload again */
  uploaded?: { token: string; manifest: AttachmentManifest };
}

function message(tag: 'p' | 'li' | 'span', m: Message, className?: string): HTMLElement {
  const node = el(tag, className ? { className } : {});
  localize(node, m.key, m.params);
  return node;
}

/** What a page shows before any file is chosen (lib/evidence-slot.ts); the picker fills it in. */
export interface EvidenceShell {
  element: HTMLElement;
  input: HTMLInputElement;
}

/** The picker, once a first file is chosen: it takes over the page's shell and adds the files. */
export function evidencePicker(id: string, shell: EvidenceShell): EvidencePicker & { add(files: File[]): void } {
  let limits = DEFAULT_LIMITS;
  let used = 0;
  let added = 0;
  let items: Item[] = [];

  const { input, element } = shell;
  const list = el('ul', { className: 'evidence' });
  const bar = el('progress', { attrs: { id: `${id}-progress`, max: '1', value: '0' } });
  const barLabel = el('label', { attrs: { for: bar.id } });
  localize(barLabel, 'evidence.progress');
  const status = el('p', { attrs: { role: 'status' } });
  const sending = el('div', {}, [barLabel, bar, status]);
  sending.hidden = true;
  element.append(list, sending);

  const removeItem = (item: Item) => {
    if (item.preview) {
      URL.revokeObjectURL(item.preview);
      previews.delete(item.preview);
    }
    items = items.filter((i) => i !== item);
    item.row.remove();
  };
  const removeButton = (item: Item, name: string) => {
    const button = el('button', { className: 'secondary', attrs: { type: 'button' } });
    localize(button, 'evidence.remove', { name });
    button.addEventListener('click', () => {
      removeItem(item);
      input.focus();
    });
    return button;
  };
  const tooBig = (item: Item, size: number): Message | undefined =>
    size > limits.fileBytes
      ? {
          key: 'evidence.tooBig',
          params: { name: item.cleaned?.name ?? item.original, size: formatSize(size), limit: formatSize(limits.fileBytes) },
        }
      : undefined;

  const show = (item: Item, c: CleanedEvidence) => {
    item.cleaned = c;
    const parts: HTMLElement[] = [];
    if (c.kind === 'image') {
      item.preview = URL.createObjectURL(c.blob);
      previews.add(item.preview);
      parts.push(
        el('img', {
          className: 'evidence-preview',
          attrs: { src: item.preview, alt: msg('evidence.preview'), 'data-i18n-attr': 'alt:evidence.preview' },
        }),
      );
    }
    parts.push(
      el('p', {}, [
        el('strong', { text: c.name, attrs: { dir: 'ltr' } }),
        ' · ',
        el('span', { text: formatSize(c.blob.size), attrs: { dir: 'ltr' } }),
      ]),
    );
    item.problem = tooBig(item, c.blob.size);
    if (item.problem) parts.push(message('p', item.problem, 'notice'));
    if (c.warning) {
      parts.push(message('p', { key: c.warning }, 'notice'));
      item.consent = el('input', { attrs: { type: 'checkbox' } });
      parts.push(el('label', { className: 'inline' }, [item.consent, message('span', { key: 'evidence.sendAnyway' })]));
    }
    parts.push(
      message('p', { key: 'evidence.removed' }, 'hint'),
      el(
        'ul',
        {},
        c.removed.map((m) => message('li', m)),
      ),
    );
    if (c.kind === 'image') parts.push(message('p', { key: 'evidence.redrawn' }, 'hint'));
    if (c.kind === 'pdf') parts.push(message('p', { key: 'evidence.pdfKept' }, 'notice'));
    item.row.replaceChildren(...parts, removeButton(item, c.name));
  };

  const add = (file: File) => {
    const item: Item = { row: el('li'), original: file.name };
    items.push(item);
    list.append(item.row);
    const n = ++added;
    // A file far over the limit is not even read into memory.
    item.problem = file.size > 4 * limits.fileBytes ? tooBig(item, file.size) : undefined;
    if (item.problem) {
      item.row.replaceChildren(message('p', item.problem, 'notice'), removeButton(item, file.name));
      return;
    }
    item.row.append(message('p', { key: 'evidence.cleaning' }, 'hint'));
    cleanEvidence(file, n).then(
      (c) => items.includes(item) && show(item, c),
      () => {
        item.problem = { key: 'evidence.notPrepared', params: { name: file.name } };
        item.row.replaceChildren(message('p', item.problem, 'notice'), removeButton(item, file.name));
      },
    );
  };

  const fail = (key: MessageKey, params?: Message['params']): never => {
    throw new LocalizedError(key, params);
  };

  return {
    element,
    add(files) {
      files.forEach(add);
    },
    setLimits(l) {
      limits = l;
    },
    setUsed(bytes) {
      used = bytes;
    },
    check() {
      if (items.length > MAX_ATTACHMENTS) fail('evidence.tooMany', { count: MAX_ATTACHMENTS });
      for (const item of items) {
        if (item.problem) fail(item.problem.key, item.problem.params);
        if (!item.cleaned) fail('evidence.stillCleaning');
        if (item.consent && !item.consent.checked) fail('evidence.needConsent', { name: item.cleaned!.name });
      }
      const total = used + items.reduce((n, i) => n + i.cleaned!.blob.size, 0);
      if (total > limits.testimonyBytes) fail('evidence.tooMuch', { size: formatSize(total), limit: formatSize(limits.testimonyBytes) });
    },
    async upload(token) {
      const ready = items.slice();
      if (ready.length === 0) return [];
      const total = ready.reduce((n, i) => n + i.cleaned!.blob.size, 0);
      let done = 0;
      bar.max = Math.max(1, total);
      bar.value = 0;
      sending.hidden = false;
      input.disabled = true;
      try {
        const manifests: AttachmentManifest[] = [];
        for (const [index, item] of ready.entries()) {
          const sendingNow = { key: 'evidence.sending', params: { n: index + 1, count: ready.length } } as const;
          localize(status, sendingNow.key, sendingNow.params);
          // (Its token may have been renewed since: the same session, so no second copy.)
          if (!item.uploaded || bearerNow(item.uploaded.token) !== bearerNow(token)) {
            const manifest = await uploadAttachment(item.cleaned!, token, {
              progress: (sent) => {
                bar.value = done + sent;
                if (status.dataset.i18n !== sendingNow.key) localize(status, sendingNow.key, sendingNow.params);
              },
              retrying: () => localize(status, 'evidence.retrying'),
            });
            item.uploaded = { token, manifest };
          }
          done += item.cleaned!.blob.size;
          bar.value = done;
          manifests.push(item.uploaded.manifest);
        }
        return manifests;
      } catch (e) {
        sending.hidden = true; // the page says what failed; what was sent is kept for the next try
        throw e;
      } finally {
        input.disabled = false;
      }
    },
    clear() {
      items.slice().forEach(removeItem);
      added = 0;
      sending.hidden = true;
    },
  };
}
