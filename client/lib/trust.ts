/**
 * Trust in the instance's keyset: verify the whole chain of keysets (one instance key from
 * version 1 to the newest), check it against this browser's pin (protocol/pin.ts: the
 * fingerprint pinned on first use or from the organisation's fingerprint link, the
 * instanceId, the highest version seen and its hash), and refuse, worded for the survivor, anything that
 * differs. Every fingerprint a page shows comes from here, computed from what was verified.
 */
import { keysetHash, ProtocolError, verifyKeysetHistoryAsync, type SignedKeyset, type VerifiedHistory } from '../../protocol/survivor';
import { pinAfterVerified } from '../../protocol/pin';
import type { InstanceInfo } from '../../protocol/api';
import { api } from './api';
import { LocalizedError, msg } from './messages';
import { readPin, writePin } from './pin-store';

/** A refusal to encrypt, worded for the survivor (in their language) and naming the reason. */
export class TrustError extends LocalizedError {}

/** The server's fingerprint is not the one in the organisation's link: do not send; check the link with them. */
function linkMismatch(): TrustError {
  return new TrustError('trust.failed', { reason: msg('trust.linkMismatch') });
}

/**
 * The whole keyset history, verified as a chain against the pin. Envelopes go to `current`
 * only; readers of threads accept signatures of anyone in `signers` (a member at some
 * version). With `remember`, success updates the pin: pages pin when the survivor acts
 * (sends, opens her testimonies), not when she only looks, so a visit leaves no trace here.
 */
export async function trustedHistory(
  instanceId: string,
  fetchHistory: () => Promise<SignedKeyset[]>,
  remember = true,
): Promise<VerifiedHistory> {
  const pin = readPin();
  // A link that contradicted the pin: nothing is trusted until the survivor has checked with the organisation.
  if (pin?.conflict !== undefined) throw linkMismatch();
  const history = await fetchHistory();
  if (history.length === 0) throw new TrustError('trust.notSetUp');
  let verified: VerifiedHistory;
  try {
    verified = await verifyKeysetHistoryAsync(history, {
      instanceId,
      pinnedFingerprint: pin?.fingerprint,
      minVersion: pin?.version || undefined,
      pinnedInstanceId: pin?.instanceId,
      pinnedHash: pin?.keysetHash,
    });
  } catch (e) {
    // Some keyset's instance key is not the one the organisation's link named.
    if (pin?.fromLink && e instanceof ProtocolError && e.code === 'fingerprint_changed') throw linkMismatch();
    // The technical reason stays in English (it names the check that failed).
    const reason = e instanceof ProtocolError ? e.message : msg('trust.unknownReason');
    throw new TrustError('trust.failed', { reason });
  }
  const { fingerprint, keyset } = verified.current;
  if (remember) writePin(pinAfterVerified(pin, instanceId, fingerprint, keyset.version, keysetHash(keyset)));
  return verified;
}

/** The keyset chain as the server serves it now (never a cached copy), verified against the pin. */
export async function currentTrustedHistory(info?: InstanceInfo, remember?: boolean): Promise<VerifiedHistory> {
  const instance = info ?? (await api<InstanceInfo>('GET', '/api/instance'));
  return trustedHistory(instance.instanceId, async () => (await api<{ keysets: SignedKeyset[] }>('GET', '/api/keysets')).keysets, remember);
}
