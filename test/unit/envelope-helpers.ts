/**
 * Fixtures shared by envelope.test.ts and envelope-tamper.test.ts (not a test file).
 *
 * Note on speed: inside jest's vm context every global lookup (Math, Float64Array) is slow, and
 * tweetnacl does many of them: an Ed25519 verification costs ~60 ms here against ~8 ms in plain
 * Node. The envelope tests therefore count their signature operations.
 */
import nacl from 'tweetnacl';
import { fromBase64url, randomId, toBase64url } from '../../protocol/encoding';
import { openEnvelope, sealEnvelope, signedPart, type Envelope, type OpenInput, type SealInput } from '../../protocol/envelope';
import { flipBit } from './helpers';

export const signer = nacl.sign.keyPair();
export const alice = nacl.box.keyPair();
export const bob = nacl.box.keyPair();
export const eve = nacl.box.keyPair();
export const caseId = randomId();
export const KIND = 'testimony';

export function seal(
  body: Record<string, unknown>,
  recipients = [alice.publicKey, bob.publicKey],
  over: Partial<SealInput> = {},
): Envelope {
  return sealEnvelope({ kind: KIND, caseId, body, recipients, signer, ...over });
}

export function openAs(env: Envelope, box: nacl.BoxKeyPair, over: Partial<OpenInput> = {}) {
  return openEnvelope(env, { box, expectedKind: KIND, expectedCaseId: caseId, trustedSigners: [signer.publicKey], ...over });
}

/** Re-signs an altered envelope, so that only the cryptography below the signature is tested. */
export function resign(env: Envelope, by: nacl.SignKeyPair = signer): Envelope {
  return { ...env, signer: toBase64url(by.publicKey), sig: toBase64url(nacl.sign.detached(signedPart(env), by.secretKey)) };
}

/** A byte field of an envelope, decoded, with a way to put altered bytes back. */
export interface Target {
  name: string;
  get: (e: Envelope) => string;
  set: (e: Envelope, value: string) => Envelope;
  /** the error when the field is altered and the signature is left as it was */
  unsignedCode: string;
}

export function keyTarget(i: number, field: 'kid' | 'epk' | 'wrapped'): Target {
  return {
    name: `keys[${i}].${field}`,
    get: (e) => e.keys[i][field] as string,
    set: (e, value) => ({ ...e, keys: e.keys.map((k, j) => (j === i ? { ...k, [field]: value } : k)) }),
    unsignedCode: 'bad_signature',
  };
}

export const CIPHERTEXT: Target = {
  name: 'ciphertext',
  get: (e) => e.ciphertext,
  set: (e, ciphertext) => ({ ...e, ciphertext }),
  unsignedCode: 'bad_signature',
};
export const SIG: Target = { name: 'sig', get: (e) => e.sig, set: (e, sig) => ({ ...e, sig }), unsignedCode: 'bad_signature' };
export const SIGNER: Target = {
  name: 'signer',
  get: (e) => e.signer,
  set: (e, s) => ({ ...e, signer: s }),
  unsignedCode: 'untrusted_signer',
};

/** Every byte field of a two-recipient envelope. */
export const TARGETS: Target[] = [
  CIPHERTEXT,
  keyTarget(0, 'kid'),
  keyTarget(0, 'epk'),
  keyTarget(0, 'wrapped'),
  keyTarget(1, 'kid'),
  keyTarget(1, 'epk'),
  keyTarget(1, 'wrapped'),
  SIG,
  SIGNER,
];

export function flipped(env: Envelope, target: Target, position: number, bit: number): Envelope {
  return target.set(env, toBase64url(flipBit(fromBase64url(target.get(env)), position, bit)));
}
