/**
 * "Add evidence" as a page holds it before any file is chosen: the fieldset, its hint and the
 * file input. Choosing a first file loads the evidence tools (lib/evidence-tools-loader.ts),
 * whose picker (lib/evidence-picker.ts) takes over the same fieldset. A survivor who attaches
 * nothing never downloads them. Also: the list of files a testimony or message carries.
 */
import type { AttachmentManifest } from '../../protocol/survivor';
import { DEFAULT_LIMITS, type AttachmentLimits } from './attachment-records';
import { formatSize } from './attachment-view';
import { el } from './dom';
import { evidenceTools } from './evidence-tools-loader';
import { LocalizedError, localize, unlocalize } from './messages';
import type { Message } from './metadata';

export interface EvidencePicker {
  element: HTMLElement;
  setLimits(limits: AttachmentLimits): void;
  /** bytes the case's earlier files already count against the testimony limit (a reply) */
  setUsed(bytes: number): void;
  /** Throws a LocalizedError if a file is not ready to be sent. */
  check(): void;
  /** Encrypts and uploads every file (in order) and returns their manifests. */
  upload(token: string): Promise<AttachmentManifest[]>;
  clear(): void;
}

function message(tag: 'p' | 'li' | 'legend' | 'label', m: Message, className?: string): HTMLElement {
  const node = el(tag, className ? { className } : {});
  localize(node, m.key, m.params);
  return node;
}

export function evidenceSlot(id: string): EvidencePicker {
  let limits = DEFAULT_LIMITS;
  let used = 0;
  let picker: ReturnType<Awaited<ReturnType<typeof evidenceTools>>['evidencePicker']> | undefined;
  /** the tools are being fetched for files just chosen */
  let pending = false;
  /** files chosen while the tools could not be loaded: the survivor must remove them or choose again */
  let failed: string | undefined;
  // The browser's own file button speaks its own language ("Choose Files", "No file chosen"),
  // whatever the page's: the input is hidden from sight only (it still takes focus and opens
  // the file chooser from the keyboard), and its label, drawn as a button, speaks the page's.
  const input = el('input', { className: 'file-picker', attrs: { type: 'file', id: `${id}-file`, multiple: '' } });
  const label = message('label', { key: 'evidence.add' });
  label.classList.add('button', 'secondary');
  label.setAttribute('for', input.id);
  const status = el('p', { attrs: { role: 'status' } });
  status.hidden = true;
  const element = el('fieldset', { className: 'evidence' }, [
    message('legend', { key: 'evidence.legend' }),
    message('p', { key: 'evidence.noProof' }),
    message('p', { key: 'evidence.hint' }, 'hint'),
    input,
    label,
    status,
  ]);

  input.addEventListener('change', () => {
    const files = Array.from(input.files ?? []);
    input.value = '';
    if (files.length === 0) return;
    // Until the tools are here (a moment, or longer over Tor), say that the files are being prepared.
    failed = undefined;
    unlocalize(status);
    localize(status, 'evidence.cleaning');
    status.hidden = false;
    pending = true;
    evidenceTools().then(
      (tools) => {
        pending = false;
        status.hidden = true;
        picker ??= tools.evidencePicker(id, { element, input });
        picker.setLimits(limits);
        picker.setUsed(used);
        picker.add(files);
      },
      () => {
        // Nothing may be sent as if it were attached: the survivor removes the files (or chooses them again).
        pending = false;
        const names = files.map((f) => f.name).join(', ');
        failed = names;
        const remove = el('button', { className: 'secondary', attrs: { type: 'button' } });
        localize(remove, 'evidence.remove', { name: names });
        remove.addEventListener('click', () => {
          failed = undefined;
          status.hidden = true;
          input.focus();
        });
        const text = el('span');
        localize(text, 'evidence.notPrepared', { name: names });
        status.replaceChildren(text, ' ', remove);
        status.hidden = false;
      },
    );
  });

  return {
    element,
    setLimits(l) {
      limits = l;
      picker?.setLimits(l);
    },
    setUsed(bytes) {
      used = bytes;
      picker?.setUsed(bytes);
    },
    check() {
      if (failed !== undefined) throw new LocalizedError('evidence.notPrepared', { name: failed });
      if (pending) throw new LocalizedError('evidence.stillCleaning');
      picker?.check();
    },
    async upload(token) {
      return picker ? picker.upload(token) : [];
    },
    clear() {
      picker?.clear();
    },
  };
}

/** The files attached to a testimony or message, named and sized (the return page). */
export function attachedList(manifests: AttachmentManifest[]): HTMLElement[] {
  if (manifests.length === 0) return [];
  return [
    el(
      'ul',
      { className: 'attached' },
      manifests.map((m) => message('li', { key: 'evidence.attached', params: { name: m.name, size: formatSize(m.size) } })),
    ),
  ];
}
