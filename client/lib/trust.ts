/**
 * Trust in the instance's keyset: verify its signature, pin the instance fingerprint on first
 * use, and refuse a changed fingerprint or a keyset version lower than one seen before. The
 * pin lives in localStorage (the only survivor data kept on the device besides the language).
 */
import { ProtocolError, verifyKeyset, type VerifiedKeyset, verifyKeysetHistory, type SignedKeyset, type VerifiedHistory } from '../../protocol/survivor';
import type { InstanceInfo } from '../../protocol/api';
import { LocalizedError, msg } from './messages';

const PIN_KEY = 'awaaz.pin';

interface Pin {
  instanceId: string;
  fingerprint: string;
  version: number;
}

function readPin(instanceId: string): Pin | undefined {
  try {
    const pin = JSON.parse(localStorage.getItem(PIN_KEY) ?? 'null') as Pin | null;
    return pin && pin.instanceId === instanceId ? pin : undefined;
  } catch {
    return undefined;
  }
}

/** A refusal to encrypt, worded for the survivor (in their language) and naming the reason. */
export class TrustError extends LocalizedError {}

/** Verifies the served keyset against the pin; on success, updates the pin. */
export function trustedKeyset(info: InstanceInfo): VerifiedKeyset {
  if (!info.keyset) throw new TrustError('trust.notSetUp');
  const pin = readPin(info.instanceId);
  try {
    const verified = verifyKeyset(info.keyset, { instanceId: info.instanceId, pinnedFingerprint: pin?.fingerprint, minVersion: pin?.version });
    localStorage.setItem(PIN_KEY, JSON.stringify({ instanceId: info.instanceId, fingerprint: verified.fingerprint, version: verified.keyset.version } satisfies Pin));
    return verified;
  } catch (e) {
    // The technical reason stays in English (it names the protocol check that failed).
    const reason = e instanceof ProtocolError ? e.message : msg('trust.unknownReason');
    throw new TrustError('trust.failed', { reason });
  }
}

export function pinnedFingerprint(instanceId: string): string | undefined {
  return readPin(instanceId)?.fingerprint;
}

/**
 * The whole keyset history, verified as a chain, with the newest checked against the pin
 * like trustedKeyset. Readers of threads use it: a message or grant signed by someone who
 * was a member at any version is accepted; new envelopes go to the newest version only.
 */
export async function trustedHistory(instanceId: string, fetchHistory: () => Promise<SignedKeyset[]>): Promise<VerifiedHistory> {
  const pin = readPin(instanceId);
  try {
    const verified = verifyKeysetHistory(await fetchHistory(), { instanceId, pinnedFingerprint: pin?.fingerprint, minVersion: pin?.version });
    localStorage.setItem(PIN_KEY, JSON.stringify({ instanceId, fingerprint: verified.current.fingerprint, version: verified.current.keyset.version } satisfies Pin));
    return verified;
  } catch (e) {
    const reason = e instanceof ProtocolError ? e.message : msg('trust.unknownReason');
    throw new TrustError('trust.failed', { reason });
  }
}
