/**
 * Ed25519 and X25519 behind one small async interface: WebCrypto where the browser has them
 * (native, about 100x faster than tweetnacl, and independent of the JIT that Tor Browser's
 * Safer level turns off), tweetnacl otherwise. Both give the same bytes: Ed25519 signatures
 * are deterministic (RFC 8032) and X25519 is a function; WebCrypto is used only after a
 * known-answer self-test (RFC 8032 test 1, RFC 7748 section 6.1) passes, and any operation
 * WebCrypto refuses (an all-zero X25519 result, a key it will not import) is answered by
 * tweetnacl, so a reader never sees a different result. Secretbox and SHA-512 stay tweetnacl
 * (WebCrypto has no XSalsa20-Poly1305, and its digest is async).
 */
import nacl from 'tweetnacl';
import { fromBase64url, toBase64url, utf8 } from './encoding';

export interface CryptoProvider {
  readonly name: 'webcrypto' | 'tweetnacl';
  /** Ed25519 detached signature with a tweetnacl 64-byte secret key (seed || public key). */
  sign(message: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array>;
  /** Ed25519 check alone; lengths and the canonical-S rule are checked by verifyDetached. */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
  /** X25519(secretKey, publicKey): the raw shared point (nacl.scalarMult). */
  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>;
}

export const naclProvider: CryptoProvider = {
  name: 'tweetnacl',
  sign: (message, secretKey) => Promise.resolve(nacl.sign.detached(message, secretKey)),
  verify: (message, signature, publicKey) => Promise.resolve(nacl.sign.detached.verify(message, signature, publicKey)),
  x25519: (secretKey, publicKey) => Promise.resolve(nacl.scalarMult(secretKey, publicKey)),
};

/** A raw 32-byte Ed25519 seed (oid 112) or X25519 private key (oid 110) in PKCS #8 (RFC 8410). */
const pkcs8 = (oid: number, key: Uint8Array) =>
  new Uint8Array([48, 46, 2, 1, 0, 48, 5, 6, 3, 43, 101, oid, 4, 34, 4, 32, ...key.subarray(0, 32)]);
/** The X25519 base point u = 9: X25519(sk, 9) is sk's public key. */
export const X25519_BASE = new Uint8Array(32);
X25519_BASE[0] = 9;

type Subtle = typeof globalThis.crypto.subtle;
type Key = Awaited<ReturnType<Subtle['importKey']>>;
/** The bytes WebCrypto takes (our arrays are never views of a SharedArrayBuffer). */
export const buf = (bytes: Uint8Array) => bytes as Uint8Array<ArrayBuffer>;

/** WebCrypto Ed25519 and X25519 over `subtle`, with `fallback` (tweetnacl) answering what WebCrypto refuses. */
export function webCryptoProvider(subtle: Subtle, fallback: CryptoProvider = naclProvider): CryptoProvider {
  const importKey = (format: 'raw' | 'pkcs8', bytes: Uint8Array, alg: string, usages: ('sign' | 'verify' | 'deriveBits')[]) =>
    subtle.importKey(format, buf(bytes), alg, false, usages);
  // Ed25519 keys are kept: a page signs with one and verifies a handful of signers; and
  // X25519 private keys: a reader unwraps every envelope with the same one, and importing it
  // costs about ten times the key agreement (the import derives its public key). Cleared when
  // large (one-off ephemeral keys of sealing pass through too), so a long session cannot grow
  // it without end. (X25519 public keys are ephemeral, one per envelope: not worth keeping.)
  const keys = new Map<string, Promise<Key>>();
  const kept = (format: 'raw' | 'pkcs8', bytes: Uint8Array, alg: 'Ed25519' | 'X25519', usages: ('sign' | 'verify' | 'deriveBits')[]) => {
    // A private key is kept by its hash, so no string holds the seed.
    const id = alg + format + String.fromCharCode(...(format === 'raw' ? bytes : nacl.hash(bytes)));
    if (keys.size > 256) keys.clear();
    let key = keys.get(id);
    if (!key) keys.set(id, (key = importKey(format, bytes, alg, usages)));
    return key;
  };
  return {
    name: 'webcrypto',
    sign: async (message, secretKey) =>
      new Uint8Array(await subtle.sign('Ed25519', await kept('pkcs8', pkcs8(112, secretKey), 'Ed25519', ['sign']), buf(message))),
    verify: async (message, signature, publicKey) => {
      try {
        return await subtle.verify('Ed25519', await kept('raw', publicKey, 'Ed25519', ['verify']), buf(signature), buf(message));
      } catch {
        return fallback.verify(message, signature, publicKey);
      }
    },
    x25519: async (secretKey, publicKey) => {
      try {
        // An X25519 public key has no usages of its own (WebCrypto refuses any).
        const [pub, priv] = await Promise.all([
          importKey('raw', publicKey, 'X25519', []),
          kept('pkcs8', pkcs8(110, secretKey), 'X25519', ['deriveBits']),
        ]);
        return new Uint8Array(
          await subtle.deriveBits({ name: 'X25519', public: pub } as unknown as Parameters<Subtle['deriveBits']>[0], priv, 256),
        );
      } catch {
        // WebCrypto refuses an all-zero result (a small-order public key); tweetnacl returns it.
        return fallback.x25519(secretKey, publicKey);
      }
    },
  };
}

/**
 * Known answers (computed with tweetnacl, and checked against RFC 8032 and RFC 7748 by
 * test/vectors/provider-vectors.ts): the Ed25519 public key of the seed 7,7,...,7 and its
 * signature of "awaaz", and X25519(7,7,...,7, 9), base64url.
 */
const SELF_TEST = {
  signPk: '6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw',
  sig: 'j6GiqqkqyC0kya2ORv_klLhtbA7AXYTuapRGpkJkCGKEtFf9uQodySFaMVNN307LNQUQZ8KSzo8OQLxlaAvsDg',
  boxPk: 'E75P6uryBMf9M1j8nAByGIHRdCeBKCJ-xnTzf3_pe20',
};

/**
 * True when `provider` gives the known answers: a signature, a verification both ways, a key
 * agreement. Test a WebCrypto provider built with no fallback, so that it answers itself.
 */
export async function passesSelfTest(provider: CryptoProvider): Promise<boolean> {
  try {
    const secret = new Uint8Array(64).fill(7);
    const pk = fromBase64url(SELF_TEST.signPk);
    secret.set(pk, 32);
    const message = utf8('awaaz');
    const sig = await provider.sign(message, secret);
    const forged = sig.slice();
    forged[0] ^= 1;
    return (
      toBase64url(sig) === SELF_TEST.sig &&
      (await provider.verify(message, sig, pk)) &&
      !(await provider.verify(message, forged, pk)) &&
      toBase64url(await provider.x25519(secret.subarray(0, 32), X25519_BASE)) === SELF_TEST.boxPk
    );
  } catch {
    return false;
  }
}

/**
 * `provider`, remembering for its life every signature it found valid (keyed by the SHA-512 of
 * the message, the signature and the key), so re-opening a thread or replying to it checks
 * only what is new. Only successes are kept: a failure is checked again next time.
 */
export function rememberingVerified(provider: CryptoProvider): CryptoProvider {
  const verified = new Set<string>();
  return {
    ...provider,
    verify: async (message, signature, publicKey) => {
      const id = String.fromCharCode(...nacl.hash(message), ...signature, ...publicKey);
      if (verified.has(id)) return true;
      const ok = await provider.verify(message, signature, publicKey);
      if (ok) verified.add(id);
      return ok;
    },
  };
}

let detected: Promise<CryptoProvider> | undefined;

/**
 * The provider this runtime should use, detected once: WebCrypto only if it passes the
 * self-test, else tweetnacl; either way remembering what it verified for the page's life.
 */
export function cryptoProvider(): Promise<CryptoProvider> {
  detected ??= (async () => {
    const subtle = globalThis.crypto?.subtle;
    // Tested with a fallback that has no methods, so any answer WebCrypto cannot give fails the test.
    const works = subtle && (await passesSelfTest(webCryptoProvider(subtle, {} as CryptoProvider)));
    return rememberingVerified(works ? webCryptoProvider(subtle) : naclProvider);
  })();
  return detected;
}
