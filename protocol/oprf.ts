/**
 * RFC 9497 OPRF, mode 0x00, suite ristretto255-SHA512, through @noble/curves (never by hand):
 * the survivor's browser blinds an identifier and finalizes the server's evaluation; the
 * server evaluates with a key it keeps apart from the database (server/config.ts
 * `loadMatchingKey`) and never sees the identifier. Kept out of protocol/index.ts and
 * protocol/survivor.ts so the survivor pages' layers do not carry @noble/curves: the matching
 * lazy script (client/matching.ts), the server and the tests import it.
 */
import { ristretto255_oprf } from '@noble/curves/ed25519.js';
import { ProtocolError, utf8 } from './encoding';

export const OPRF_SUITE = 'ristretto255-SHA512';
/** A serialized ristretto255 element or scalar. */
export const OPRF_ELEMENT_BYTES = 32;

const oprf = ristretto255_oprf.oprf;

export interface Blinded {
  /** kept in the browser until finalize */
  blind: Uint8Array;
  /** sent to the server */
  blinded: Uint8Array;
}

/** The client's first step; `rng` is injectable for the RFC's known-answer tests only. */
export function oprfBlind(input: Uint8Array, rng?: (n: number) => Uint8Array): Blinded {
  const out = rng ? oprf.blind(input, (n = 32) => new Uint8Array(rng(n))) : oprf.blind(input);
  return { blind: out.blind, blinded: out.blinded };
}

/** The server's step: refuses bytes that are not a valid, non-identity ristretto255 element. */
export function oprfEvaluate(secretKey: Uint8Array, blinded: Uint8Array): Uint8Array {
  if (blinded.length !== OPRF_ELEMENT_BYTES) throw new ProtocolError('bad_element', 'a blinded element is 32 bytes');
  try {
    return oprf.blindEvaluate(secretKey, blinded);
  } catch {
    throw new ProtocolError('bad_element', 'the blinded element is not a valid ristretto255 element');
  }
}

/** The client's last step: the 64-byte OPRF output. */
export function oprfFinalize(input: Uint8Array, blind: Uint8Array, evaluated: Uint8Array): Uint8Array {
  try {
    return oprf.finalize(input, blind, evaluated);
  } catch {
    throw new ProtocolError('bad_element', 'the server answered with an element that is not valid');
  }
}

/** The server key from the 32-byte seed in its key file (RFC 9497 DeriveKeyPair, with Awaaz's key info). */
export function oprfKeyFromSeed(seed: Uint8Array, keyInfo: Uint8Array = utf8('awaaz/v1/matching-key')): Uint8Array {
  if (seed.length !== 32) throw new ProtocolError('bad_key', 'a matching key seed is 32 bytes');
  return oprf.deriveKeyPair(seed, keyInfo).secretKey;
}
