/**
 * Ed25519 verification behind one small interface, so that the server can verify with
 * OpenSSL (node:crypto) while browsers use tweetnacl: the same bytes are accepted either way.
 *
 * tweetnacl accepts a signature whose S half is not reduced (S + L verifies as S), so anyone
 * could make a second valid spelling of any signature. Every verifier here first refuses
 * S >= L, as RFC 8032 and OpenSSL do.
 */
import nacl from 'tweetnacl';
import { runSync, verifyStep } from './crypto-steps';

export interface CryptoBackend {
  /** Ed25519 detached signature check; lengths are checked by the caller. */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
  sha512(bytes: Uint8Array): Uint8Array;
}

export const naclBackend: CryptoBackend = {
  verify: (message, signature, publicKey) => nacl.sign.detached.verify(message, signature, publicKey),
  sha512: (bytes) => nacl.hash(bytes),
};

/** The order L of the Ed25519 base point, little-endian. */
const L = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0x10,
]);

/** True when the signature's S (bytes 32..63, little-endian) is below L. */
export function hasCanonicalS(signature: Uint8Array): boolean {
  if (signature.length !== nacl.sign.signatureLength) return false;
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i];
    if (s !== L[i]) return s < L[i];
  }
  return false; // S == L
}

/** Length checks, the canonical-S rule, then the backend's Ed25519 check (crypto-steps.ts verifyStep). */
export function verifyDetached(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
  backend: CryptoBackend = naclBackend,
): boolean {
  return runSync(verifyStep(message, signature, publicKey), backend);
}
