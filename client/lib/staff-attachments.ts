/**
 * Evidence in the staff case view: for each file a testimony or message names, a button that
 * downloads its records and decrypts them here, with a progress bar; then a preview for
 * images and a link to save the file under its neutral name. Both come from a blob: URL made
 * in this browser (the CSP allows img-src blob:): the server never serves a viewable file.
 */
import type { AttachmentManifest } from '../../protocol';
import type { StaffAttachment } from '../../protocol/api';
import { api } from './api';
import { downloadAttachment, formatSize } from './attachments';
import { el, errorMessage, listen, say } from './dom';

const objectUrls = new Set<string>();

/** Forgets every decrypted file of the case view (on closing or opening a case). */
export function revokeAttachmentUrls(): void {
  objectUrls.forEach((url) => URL.revokeObjectURL(url));
  objectUrls.clear();
}

export function renderAttachments(caseId: string, manifests: AttachmentManifest[]): HTMLElement[] {
  if (manifests.length === 0) return [];
  return [
    el(
      'ul',
      { className: 'attached' },
      manifests.map((m) => attachmentItem(caseId, m)),
    ),
  ];
}

function attachmentItem(caseId: string, m: AttachmentManifest): HTMLLIElement {
  const button = el('button', {
    text: 'Download and decrypt',
    className: 'secondary',
    attrs: { type: 'button', 'aria-label': `Download and decrypt ${m.name}` },
  });
  const progress = el('progress', { attrs: { max: String(m.records), value: '0', 'aria-label': `Decrypting ${m.name}` } });
  progress.hidden = true;
  const status = el('p', { attrs: { role: 'status' } });
  status.hidden = true;
  const item = el('li', {}, [el('strong', { text: m.name, attrs: { dir: 'ltr' } }), ` (${formatSize(m.size)}) `, button, progress, status]);
  listen(button, 'click', async () => {
    button.disabled = true;
    progress.hidden = false;
    say(status, 'Downloading and decrypting…');
    try {
      const id = encodeURIComponent(m.id);
      const stored = await api<StaffAttachment>('GET', `/api/staff/attachments/${id}`);
      if (stored.caseId !== caseId || stored.size !== m.size || stored.records !== m.records)
        throw new Error('the file on the server does not match what the sender described.');
      const blob = await downloadAttachment(
        m,
        (i) => `/api/staff/attachments/${id}/records/${i}`,
        (done) => (progress.value = done),
      );
      const url = URL.createObjectURL(blob);
      objectUrls.add(url);
      const shown: HTMLElement[] = [el('a', { text: `Save ${m.name}`, attrs: { href: url, download: m.name } })];
      if (blob.type.startsWith('image/'))
        shown.unshift(el('img', { className: 'evidence-preview', attrs: { src: url, alt: `${m.name}, decrypted in this browser` } }));
      button.replaceWith(...shown);
      progress.hidden = true;
      say(status, 'Decrypted in this browser.');
    } catch (e) {
      button.disabled = false;
      say(status, `${m.name} could not be opened: ${errorMessage(e)}`, 'error');
    }
  });
  return item;
}
