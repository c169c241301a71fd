/**
 * Padmé padding (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
 * Communication with PURBs", PETS 2019) over a length-prefixed plaintext.
 * A padded length leaks O(log log L) bits of the length, and at most ~12% overhead.
 */
import { ProtocolError } from './encoding';

const LENGTH_PREFIX = 4;

/** Padmé's padded size for a length L. */
export function padmeLength(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new ProtocolError('bad_length', 'length must be a non-negative integer');
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  // (L + mask) & ~mask, written with arithmetic so it works beyond 2^31.
  return Math.ceil(length / (mask + 1)) * (mask + 1);
}

/** 4-byte big-endian length || plaintext || zeros, to the Padmé size of the whole. */
export function pad(plaintext: Uint8Array): Uint8Array {
  if (plaintext.length > 0xffffffff) throw new ProtocolError('too_long', 'plaintext is too long to pad');
  const out = new Uint8Array(padmeLength(plaintext.length + LENGTH_PREFIX));
  new DataView(out.buffer).setUint32(0, plaintext.length, false);
  out.set(plaintext, LENGTH_PREFIX);
  return out;
}

export function unpad(padded: Uint8Array): Uint8Array {
  if (padded.length < LENGTH_PREFIX) throw new ProtocolError('bad_padding', 'padded plaintext is shorter than its length prefix');
  const length = new DataView(padded.buffer, padded.byteOffset, padded.byteLength).getUint32(0, false);
  if (LENGTH_PREFIX + length > padded.length) throw new ProtocolError('bad_padding', 'length prefix exceeds the padded plaintext');
  if (padmeLength(LENGTH_PREFIX + length) !== padded.length)
    throw new ProtocolError('bad_padding', 'padded size does not match Padmé for this length');
  for (let i = LENGTH_PREFIX + length; i < padded.length; i++) {
    if (padded[i] !== 0) throw new ProtocolError('bad_padding', 'padding bytes are not zero');
  }
  return padded.slice(LENGTH_PREFIX, LENGTH_PREFIX + length);
}
