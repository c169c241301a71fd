/**
 * Signing a keyset, and checking one synchronously: what the admin's browser (signing, at setup
 * and to add or remove members), the server and the tests do. protocol/index.ts exports it; the
 * survivor pages only verify, asynchronously (keyset.ts `verifyKeysetHistoryAsync`), so
 * protocol/survivor.ts leaves this out and their budget does not carry it.
 */
import nacl from 'tweetnacl';
import { runSync } from './crypto-steps';
import { toBase64url } from './encoding';
import {
  historySteps,
  keysetMessage,
  successorSteps,
  verifyKeysetSteps,
  type Keyset,
  type KeysetExpectations,
  type SignedKeyset,
  type VerifiedHistory,
  type VerifiedKeyset,
} from './keyset';

/** Only the admin's browser signs a keyset, rarely: tweetnacl is enough (no async variant). */
export function signKeyset(keyset: Keyset, instance: nacl.SignKeyPair): SignedKeyset {
  const sig = nacl.sign.detached(keysetMessage(keyset), instance.secretKey);
  return { keyset, instancePk: toBase64url(instance.publicKey), sig: toBase64url(sig) };
}

export const verifyKeyset = (signed: SignedKeyset, expect: KeysetExpectations): VerifiedKeyset =>
  runSync(verifyKeysetSteps(signed, expect));

/** A new keyset must extend the current one: same instance key, next version, prev = hash(current). */
export const verifyKeysetSuccessor = (current: SignedKeyset, next: SignedKeyset): VerifiedKeyset => runSync(successorSteps(current, next));

/** verifyKeysetHistoryAsync, run at once (keyset.ts says what it checks). */
export const verifyKeysetHistory = (history: SignedKeyset[], expect: KeysetExpectations): VerifiedHistory =>
  runSync(historySteps(history, expect));
