/**
 * A case's internal notes (staff only, so apart from case-thread.ts, which the survivor pages
 * carry too): sealed to the moderators, never the survivor, and opened like thread entries.
 */
import type nacl from 'tweetnacl';
import { fromBase64url, readersOf, sealEnvelopeAsync, type Envelope, type Keyset, type VerifiedHistory } from '../../protocol';
import type { EnvelopeItem } from '../../protocol/api';
import { newestFirst, openAs, type Reader, type ThreadEntry } from './case-thread';
import { LocalizedError } from './messages';

export function openNotes(items: EnvelopeItem[], reader: Reader, history: VerifiedHistory): Promise<ThreadEntry[]> {
  return newestFirst(items.length, async (index) => {
    const i = items[index];
    const author = history.signers.get(i.envelope.signer);
    if (!author) throw new LocalizedError('thread.unknownAuthor');
    const body = (await openAs<{ text: string }>(i.envelope, i.grants, reader, [fromBase64url(i.envelope.signer)], history)).body;
    return { kind: 'note', day: i.day, author: author.username, text: String(body.text) };
  });
}

/** An internal note: to the moderators only, never the survivor. */
export function sealNote(input: { caseId: string; text: string; keyset: Keyset; signer: nacl.SignKeyPair }): Promise<Envelope> {
  return sealEnvelopeAsync({
    kind: 'note',
    caseId: input.caseId,
    body: { text: input.text },
    recipients: readersOf(input.keyset),
    signer: input.signer,
  });
}
