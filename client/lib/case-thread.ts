/**
 * A case's thread and notes as a reader sees them: checked in order (verifyThread), each
 * envelope's signature checked against who may have written it, then decrypted here.
 * Shared by the survivor's page and the staff workspace.
 *
 * Signatures and key agreement go through the browser's crypto provider (WebCrypto where it
 * has Ed25519 and X25519, off the main thread; protocol/crypto-provider.ts), which remembers
 * what it verified for the page's life: a reply or a re-open checks only what is new. A long
 * thread is opened newest first, a slice at a time, so no task holds the page for long.
 */
import type nacl from 'tweetnacl';
import {
  envelopeHash,
  fromBase64url,
  keyId,
  openEnvelopeAsync,
  readersOf,
  sealEnvelopeAsync,
  verifyThread,
  type Opened,
  type AttachmentManifest,
  type Envelope,
  type Keyset,
  type AnyKeyGrant,
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
  /**
   * A message signed and linked as it should be whose contents are not what a message holds
   * (a manifest that is not one) comes back with `unreadable`, its reason, instead of failing
   * the thread: the survivor's page shows that one line as unsafe and the rest as usual.
   */
  unreadableAlone?: boolean;
}

export type ThreadEntry =
  | { kind: 'testimony'; seq: number; day: string; testimony: TestimonyBody }
  | {
      kind: 'message';
      seq: number;
      day: string;
      fromStaff: boolean;
      author: string;
      text: string;
      attachments: AttachmentManifest[];
      unreadable?: string;
    }
  | { kind: 'note'; day: string; author: string; text: string };

export function openAs<T>(
  env: Envelope,
  grants: AnyKeyGrant[],
  reader: Reader,
  signers: Uint8Array[],
  history: VerifiedHistory,
): Promise<Opened<T>> {
  return openEnvelopeAsync<T>(env, {
    box: reader.box,
    expectedKind: env.kind,
    expectedCaseId: env.caseId,
    trustedSigners: signers,
    grants,
    trustedGranters: [...history.signers.keys()].map(fromBase64url),
  });
}

/** Envelopes opened at once: each slice is a short task of hashing, then waits on the provider. */
const SLICE = 32;
/** Envelopes hashed in one task when the links are checked before anything is shown. */
const HASHED_PER_TASK = 128;

/** Lets the page run (Chromium may answer WebCrypto within the same task, so awaiting it alone does not). */
const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * `open` of every index, newest first, one slice at a time; results in index order. Between
 * slices the page gets its turn (Chromium may answer WebCrypto within the same task, so
 * awaiting it alone does not let input or painting in). `onSlice`, after each slice, gets
 * the results so far and where the slice starts and ends; what it throws ends the run.
 */
export async function newestFirst<T>(
  count: number,
  open: (i: number) => Promise<T>,
  onSlice?: (out: T[], start: number, end: number) => void,
): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  for (let end = count; end > 0; end -= SLICE) {
    const start = Math.max(0, end - SLICE);
    const slice = await Promise.all(Array.from({ length: end - start }, (_, k) => open(start + k)));
    slice.forEach((value, k) => (out[start + k] = value));
    onSlice?.(out, start, end);
    if (start > 0) await pause();
  }
  return out;
}

/**
 * Opens every entry (checking each signature against who may have written it) and the order
 * of the whole thread. Throws (ProtocolError) if the thread was reordered, spliced or
 * swapped, or an entry's signature is not from the survivor (testimony, survivor messages)
 * or a keyset member (staff messages).
 *
 * Newest first: `onShown`, when given, gets each slice's entries (and the index of the first)
 * as soon as they are checked as far as they can be without opening the older ones. Before
 * the first slice, the testimony is opened and checked against the case's survivor key, and
 * every link of the whole thread, from the testimony to the newest entry, is checked (hashes
 * only, a few short tasks): otherwise a server that swapped the survivor key could show
 * messages it signed itself, appended after the genuine ones, until the testimony's turn came.
 * Then each slice's own signatures and case ids are checked. So what `onShown` gets is a run
 * of this case's thread, in the order it was written, ending at the newest entry the server
 * gave, each entry signed by the key that signed this thread's testimony or by a keyset
 * member; what is still to check is the signatures and contents of the older entries, which
 * the shown ones' links already commit to. The last call (from 0) comes once the whole
 * thread is checked. If a later check fails, this throws, and what was shown must be taken
 * back (client/README.md "Opening a thread").
 */
export async function openThread(
  caseId: string,
  items: EnvelopeItem[],
  reader: Reader,
  trust: Trust,
  onShown?: (entries: ThreadEntry[], from: number) => void,
): Promise<ThreadEntry[]> {
  const staff = trust.history.signers;
  const survivor = fromBase64url(trust.survivorSignPk);
  /** each entry's envelopeHash, as opening it computed it */
  const hashes: string[] = [];
  const open = async (index: number): Promise<ThreadEntry> => {
    const i = items[index];
    const env = i.envelope;
    if (env.kind === 'testimony') {
      const t = await openAs<{ testimony: TestimonyBody }>(env, i.grants, reader, [survivor], trust.history);
      const testimony = t.body.testimony;
      hashes[index] = t.hash;
      return { kind: 'testimony', seq: 0, day: i.day, testimony: { ...testimony, attachments: readManifests(testimony.attachments) } };
    }
    const fromStaff = staff.has(env.signer);
    const signers = fromStaff ? [fromBase64url(env.signer)] : [survivor];
    const m = await openAs<{ text: string; attachments?: unknown }>(env, i.grants, reader, signers, trust.history);
    hashes[index] = m.hash;
    const entry: ThreadEntry = {
      kind: 'message',
      seq: i.seq ?? 0,
      day: i.day,
      fromStaff,
      author: fromStaff ? staff.get(env.signer)!.username : '',
      text: String(m.body.text),
      attachments: [],
    };
    try {
      entry.attachments = readManifests(m.body.attachments);
    } catch (e) {
      if (!trust.unreadableAlone) throw e;
      entry.unreadable = (e as Error).message;
    }
    return entry;
  };
  const envelopes = items.map((i) => i.envelope);
  // First of all, the thread starts with this case's testimony (an empty one is refused).
  verifyThread(envelopes.slice(0, 1), caseId);
  const opened: Promise<ThreadEntry>[] = [];
  const openOnce = (index: number) => (opened[index] ??= open(index));
  if (onShown) {
    await openOnce(0);
    for (let i = 0; i < envelopes.length - 1; i++) {
      hashes[i] ??= envelopeHash(envelopes[i]);
      if (i % HASHED_PER_TASK === HASHED_PER_TASK - 1) await pause();
    }
    verifyThread(envelopes, caseId, hashes);
  }
  return newestFirst(items.length, openOnce, (out, from, end) => {
    // The run from this slice to the newest entry (the newer ones again: a few comparisons).
    verifyThread(envelopes, caseId, hashes, from);
    onShown?.(out.slice(from, end), from);
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
}): Promise<Envelope> {
  const survivorBox = fromBase64url(input.survivorBoxPk);
  const testimony = input.thread[0]?.envelope;
  if (!testimony || !testimony.keys.some((k) => k.kid === keyId(survivorBox))) throw new LocalizedError('thread.keyMismatch');
  const readers = readersOf(input.keyset).filter((pk) => keyId(pk) !== keyId(survivorBox));
  const prev = envelopeHash(input.thread[input.thread.length - 1].envelope);
  const body = input.attachments?.length ? { text: input.text, attachments: input.attachments } : { text: input.text };
  return sealEnvelopeAsync({
    kind: 'message',
    caseId: input.caseId,
    prev,
    body,
    recipients: [survivorBox, ...readers],
    signer: input.signer,
  });
}
