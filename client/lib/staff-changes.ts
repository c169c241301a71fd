/**
 * A survivor's request for changes to a draft, as staff read it on the draft in the
 * Publishing panel: an envelope of kind 'changes' signed by the survivor and sealed to the
 * moderators and the draft's author (server/services/publishing.ts requestChanges), checked
 * here to name this case and this draft.
 */
import type nacl from 'tweetnacl';
import { fromBase64url, openEnvelope } from '../../protocol';
import type { PublishingCase } from '../../protocol/api';
import { el, errorMessage } from './dom';

type Draft = PublishingCase['drafts'][number];

/** The request's words, or undefined when the draft has none. Throws if it cannot be opened safely. */
export function openChangeRequest(detail: PublishingCase, d: Draft, box: nacl.BoxKeyPair): string | undefined {
  if (!d.changes) return undefined;
  const opened = openEnvelope<{ changes: { draftId: string; text: string } }>(d.changes.envelope, {
    box,
    expectedKind: 'changes',
    expectedCaseId: detail.caseId,
    trustedSigners: [fromBase64url(detail.survivorSignPk)],
  });
  const changes = opened.body.changes;
  if (!changes || changes.draftId !== d.draftId || typeof changes.text !== 'string')
    throw new Error('the request names another draft than the server says');
  return changes.text;
}

/** "Waits on a change: …" (or what the survivor had asked, once a newer draft answered it). */
export function changeRequestNote(detail: PublishingCase, d: Draft, box: nacl.BoxKeyPair): HTMLElement | undefined {
  if (!d.changes) return undefined;
  try {
    const text = openChangeRequest(detail, d, box);
    const label = d.status === 'changes_requested' ? 'Waits on a change: ' : 'The survivor had asked: ';
    return el('p', { className: 'notice change-request' }, [label, el('q', { text: text ?? '', attrs: { dir: 'auto' } })]);
  } catch (e) {
    return el('p', { attrs: { role: 'alert' }, text: `The survivor's request for changes could not be opened: ${errorMessage(e)}` });
  }
}
