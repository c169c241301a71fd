/**
 * The server verifies signatures with OpenSSL (node:crypto) instead of tweetnacl: the same
 * Ed25519 and SHA-512, about fifty times faster, and without holding the event loop for
 * milliseconds per submission (bench/submit). protocol/signatures.ts adds the checks both
 * backends share (lengths, canonical S).
 */
import crypto, { type KeyObject } from 'node:crypto';
import type { CryptoBackend } from '../../protocol';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 key bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_CACHE_LIMIT = 10_000;
const keyCache = new Map<string, KeyObject>();

function publicKeyObject(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw).toString('base64');
  let key = keyCache.get(id);
  if (!key) {
    key = crypto.createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(id, key);
  }
  return key;
}

export const nodeBackend: CryptoBackend = {
  verify(message, signature, publicKey) {
    try {
      return crypto.verify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      return false; // a public key OpenSSL cannot parse verifies nothing
    }
  },
  sha512: (bytes) => crypto.createHash('sha512').update(bytes).digest(),
};
