/**
 * A case's thread and notes as a reader sees them: checked in order (verifyThread), each
 * envelope's signature checked against who may have written it, then decrypted here.
 * Shared by the survivor's page and the staff workspace.
 */
import type nacl from 'tweetnacl';
import {
  envelopeHash,
  fromBase64url,
  keyId,
  openEnvelope,
  readersOf,
  sealEnvelope,
  verifyThread,
  type AttachmentManifest,
  type Envelope,
  type Keyset,
  type KeyGrant,
  type VerifiedHistory,
} from '../../protocol/survivor';
import type { EnvelopeItem } from '../../protocol/api';
import { readManifests } from './attachment-view';
import { LocalizedError } from './messages';
import type { TestimonyBody } from './testimony';

export interface Reader {
  box: nacl.BoxKeyPair;
}

export interface Trust {
  survivorSignPk: string;
  /** the verified keyset chain: anyone who was ever a member may have signed a past message or grant */
  history: VerifiedHistory;
}

export type ThreadEntry =
  | { kind: 'testimony'; seq: number; day: string; testimony: TestimonyBody }
  | { kind: 'message'; seq: number; day: string; fromStaff: boolean; author: string; text: string; attachments: AttachmentManifest[] }
  | { kind: 'note'; day: string; author: string; text: string };

function open<T>(env: Envelope, grants: KeyGrant[], reader: Reader, signers: Uint8Array[], history: VerifiedHistory) {
  return openEnvelope<T>(env, {
    box: reader.box,
    expectedKind: env.kind,
    expectedCaseId: env.caseId,
    trustedSigners: signers,
    grants,
    trustedGranters: [...history.signers.keys()].map(fromBase64url),
  });
}

/**
 * Verifies the order of the whole thread, then opens every entry. Throws (ProtocolError)
 * if the thread was reordered, spliced or swapped, or an entry's signature is not from the
 * survivor (testimony, survivor messages) or a keyset member (staff messages).
 */
export function openThread(caseId: string, items: EnvelopeItem[], reader: Reader, trust: Trust): ThreadEntry[] {
  verifyThread(
    items.map((i) => i.envelope),
    caseId,
  );
  const staff = trust.history.signers;
  const survivor = fromBase64url(trust.survivorSignPk);
  return items.map((i) => {
    const env = i.envelope;
    if (env.kind === 'testimony') {
      const t = open<{ testimony: TestimonyBody }>(env, i.grants, reader, [survivor], trust.history).body.testimony;
      return { kind: 'testimony', seq: 0, day: i.day, testimony: { ...t, attachments: readManifests(t.attachments) } };
    }
    const fromStaff = staff.has(env.signer);
    const signers = fromStaff ? [fromBase64url(env.signer)] : [survivor];
    const body = open<{ text: string; attachments?: unknown }>(env, i.grants, reader, signers, trust.history).body;
    const attachments = readManifests(body.attachments);
    return {
      kind: 'message',
      seq: i.seq ?? 0,
      day: i.day,
      fromStaff,
      author: fromStaff ? staff.get(env.signer)!.username : '',
      text: String(body.text),
      attachments,
    };
  });
}

export function openNotes(items: EnvelopeItem[], reader: Reader, history: VerifiedHistory): ThreadEntry[] {
  return items.map((i) => {
    const author = history.signers.get(i.envelope.signer);
    if (!author) throw new LocalizedError('thread.unknownAuthor');
    const body = open<{ text: string }>(i.envelope, i.grants, reader, [fromBase64url(i.envelope.signer)], history).body;
    return { kind: 'note', day: i.day, author: author.username, text: String(body.text) };
  });
}

/**
 * A new message in the thread, to the survivor and every moderator of the keyset, naming
 * the envelope it follows. `survivorBoxPk` must be a recipient the survivor's own signed
 * testimony names, so a server cannot substitute its own key for the survivor's.
 */
export function sealMessage(input: {
  caseId: string;
  thread: EnvelopeItem[];
  text: string;
  attachments?: AttachmentManifest[];
  survivorBoxPk: string;
  keyset: Keyset;
  signer: nacl.SignKeyPair;
}): Envelope {
  const survivorBox = fromBase64url(input.survivorBoxPk);
  const testimony = input.thread[0]?.envelope;
  if (!testimony || !testimony.keys.some((k) => k.kid === keyId(survivorBox))) throw new LocalizedError('thread.keyMismatch');
  const readers = readersOf(input.keyset).filter((pk) => keyId(pk) !== keyId(survivorBox));
  const prev = envelopeHash(input.thread[input.thread.length - 1].envelope);
  const body = input.attachments?.length ? { text: input.text, attachments: input.attachments } : { text: input.text };
  return sealEnvelope({ kind: 'message', caseId: input.caseId, prev, body, recipients: [survivorBox, ...readers], signer: input.signer });
}

/** An internal note: to the moderators only, never the survivor. */
export function sealNote(input: { caseId: string; text: string; keyset: Keyset; signer: nacl.SignKeyPair }): Envelope {
  return sealEnvelope({
    kind: 'note',
    caseId: input.caseId,
    body: { text: input.text },
    recipients: readersOf(input.keyset),
    signer: input.signer,
  });
}
