/**
 * What the server accepts as an envelope's recipients. The survivor's and staff browsers
 * choose the readers; the server only refuses a reader that the signed keyset does not name,
 * so nobody can be slipped in through the API either.
 */
import { fromBase64url, keyIdUsing, readersOf, type Envelope, type SignedKeyset } from '../../protocol';
import { nodeBackend } from '../crypto/node-backend';
import { badRequest, conflict, HttpError } from '../http/errors';
import type { Db } from '../db/database';
import type { KeysetRepo } from '../db/keyset-repo';

const notSetUp = () => new HttpError(503, 'not_set_up', 'this instance has no staff keys yet');

/** 409: what was sealed for an older keyset must be sealed again for the current one. */
export const keysetChanged = (current: number) =>
  conflict('keyset_changed', `the keyset is now version ${current}; reload and encrypt again`);

export async function currentKeysetFor(keysets: KeysetRepo, keysetVersion: number): Promise<SignedKeyset> {
  const current = await keysets.current();
  if (!current) throw notSetUp();
  if (keysetVersion !== current.keyset.version) throw keysetChanged(current.keyset.version);
  return current;
}

/**
 * First thing inside the transaction that writes an envelope's wrapped keys (or a survivor's
 * grants): the keyset its recipients were checked against is still the current one. A member
 * removed since that check has had their keys erased; this write would otherwise store a key
 * to them that nothing erases. On PostgreSQL it also holds off the next publication until this
 * transaction commits, so that its erasure sees what this one wrote (`holdOffPublications`).
 */
export async function requireKeysetStill(keysets: KeysetRepo, trx: Db, keysetVersion: number): Promise<void> {
  await keysets.holdOffPublications(trx);
  const current = await keysets.currentVersion(trx);
  if (current === undefined) throw notSetUp();
  if (current !== keysetVersion) throw keysetChanged(current);
}

const readerKids = new WeakMap<SignedKeyset, { moderatorKids: Set<string>; advocateKids: Set<string> }>();

/** The key ids of a keyset's readers, worked out once per keyset object (keysets-repo keeps each version's). */
function readerKidsOf(keyset: SignedKeyset): { moderatorKids: Set<string>; advocateKids: Set<string> } {
  let kids = readerKids.get(keyset);
  if (!kids) {
    const idOf = (pk: Uint8Array) => keyIdUsing(pk, nodeBackend);
    kids = {
      moderatorKids: new Set(readersOf(keyset.keyset).map(idOf)),
      advocateKids: new Set(readersOf(keyset.keyset, 'advocate').map(idOf)),
    };
    readerKids.set(keyset, kids);
  }
  return kids;
}

/**
 * The keyset an envelope says it was sealed for, if it may still be the current one: any
 * version older than one already seen is refused at once. The writer checks, inside its
 * transaction, that it still is the current one (so another instance's newer keyset counts).
 */
export async function namedKeyset(keysets: KeysetRepo, keysetVersion: number): Promise<SignedKeyset> {
  const named = keysetVersion >= keysets.newestKnownVersion() ? await keysets.ofVersion(keysetVersion) : undefined;
  return named ?? currentKeysetFor(keysets, keysetVersion);
}

/** Who may and who must read an envelope, beyond the moderators (at least one of whom always reads). */
export interface RecipientRule {
  /** the case's survivor: must read (testimony, thread, drafts) or must not (internal notes) */
  survivor: 'required' | 'forbidden';
  /**
   * advocates: not as advocates ('forbidden'; a member who is also a moderator still reads as
   * one), every advocate of the keyset ('all': a testimony they may read), or any of them
   * ('allowed': drafts)
   */
  advocates?: 'forbidden' | 'allowed' | 'all';
}

/**
 * Every recipient must be the case's survivor (per the rule), a moderator of the current
 * keyset or, where the rule lets them, an advocate. At least one moderator always reads.
 */
export function checkRecipients(env: Envelope, keyset: SignedKeyset, survivorBoxPk: string, rule: RecipientRule): void {
  const survivorKid = keyIdUsing(fromBase64url(survivorBoxPk), nodeBackend);
  const { moderatorKids, advocateKids } = readerKidsOf(keyset);
  const advocates = rule.advocates ?? 'forbidden';
  const kids = env.keys.map((k) => k.kid);
  if (new Set(kids).size !== kids.length) throw badRequest('invalid_request', 'envelope.keys lists a recipient twice');
  if (rule.survivor === 'required' && !kids.includes(survivorKid))
    throw badRequest('missing_recipient', "envelope.keys must include the survivor's own key");
  if (rule.survivor === 'forbidden' && kids.includes(survivorKid))
    throw badRequest('forbidden_recipient', 'an internal note must not be readable by the survivor');
  if (!kids.some((k) => moderatorKids.has(k))) throw badRequest('missing_recipient', 'envelope.keys must include at least one moderator');
  if (advocates === 'all' && [...advocateKids].some((k) => !kids.includes(k)))
    throw badRequest('missing_recipient', 'envelope.keys must include every advocate of the current keyset, since advocates may read this');
  const allowed = (k: string) => k === survivorKid || moderatorKids.has(k) || (advocates !== 'forbidden' && advocateKids.has(k));
  const stranger = kids.find((k) => !allowed(k));
  if (stranger !== undefined) {
    throw advocateKids.has(stranger)
      ? badRequest('forbidden_recipient', 'envelope.keys names an advocate, but advocates may not read this')
      : badRequest('unknown_recipient', 'envelope.keys names a key that is not in the current keyset');
  }
}

export function checkContext(env: Envelope, expected: { kind: Envelope['kind']; caseId: string; threaded: boolean }): void {
  if (env.kind !== expected.kind) throw badRequest('wrong_kind', `envelope.kind must be ${expected.kind} here`);
  if (env.caseId !== expected.caseId) throw badRequest('wrong_case', 'envelope.caseId does not name this case');
  if (expected.threaded && env.prev === undefined)
    throw badRequest('invalid_request', 'envelope.prev is required: name the message this one follows');
  if (!expected.threaded && env.prev !== undefined) throw badRequest('invalid_request', 'envelope.prev is only for thread messages');
}
