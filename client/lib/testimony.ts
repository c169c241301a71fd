/** A testimony's plaintext, how it is sealed, opened and shown. Shared by survivor and staff pages. */
import type nacl from 'tweetnacl';
import { fromBase64url, openEnvelope, randomId, sealEnvelope, type Envelope } from '../../protocol';
import { el } from './dom';

export const CONTEXTS: Record<string, string> = {
  workplace: 'Workplace',
  family: 'Family',
  education: 'School, college or university',
  online: 'Online',
  public_place: 'Public place',
  other: 'Other',
};

export interface TestimonyBody {
  what: string;
  when: string;
  context: string;
  wantsReplies: boolean;
}

export const STATUS_LABELS: Record<string, string> = {
  new: 'Received, not yet read',
  in_review: 'Being reviewed',
  waiting_for_survivor: 'Waiting for you',
  closed: 'Closed',
};

export function sealTestimony(body: TestimonyBody, readers: Uint8Array[], survivor: { box: nacl.BoxKeyPair; sign: nacl.SignKeyPair }): Envelope {
  return sealEnvelope({
    kind: 'testimony',
    caseId: randomId(),
    body: { testimony: body },
    // The survivor is always a reader of their own testimony.
    recipients: [survivor.box.publicKey, ...readers],
    signer: survivor.sign,
  });
}

/** Opens a testimony envelope, checking it is signed by the case's survivor and names this case. */
export function openTestimony(env: Envelope, caseId: string, box: nacl.BoxKeyPair, survivorSignPk: string): TestimonyBody {
  const opened = openEnvelope<{ testimony: TestimonyBody }>(env, {
    box,
    expectedKind: 'testimony',
    expectedCaseId: caseId,
    trustedSigners: [fromBase64url(survivorSignPk)],
  });
  const t = opened.body.testimony;
  if (!t || typeof t.what !== 'string') throw new Error('The testimony is not in a format this page understands.');
  return t;
}

export function renderTestimony(t: TestimonyBody, meta: { day: string; status: string; handle?: string }): HTMLElement {
  const dl = el('dl', { className: 'meta' });
  const row = (k: string, v: string) => dl.append(el('dt', { text: k }), el('dd', { text: v }));
  if (meta.handle) row('Survivor', meta.handle);
  row('Sent on', meta.day);
  row('Status', STATUS_LABELS[meta.status] ?? meta.status);
  row('Where', CONTEXTS[t.context] ?? t.context);
  if (t.when) row('When', t.when);
  row('Wants replies', t.wantsReplies ? 'Yes' : 'No');
  return el('article', { className: 'testimony' }, [dl, el('p', { className: 'text', text: t.what })]);
}
