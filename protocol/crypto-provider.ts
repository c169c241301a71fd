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
import { equalBytes } from './encoding';

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

const hex = (h: string) => Uint8Array.from(h.match(/../g)!, (b) => parseInt(b, 16));
/** The PKCS #8 prefixes of a raw 32-byte Ed25519 seed and X25519 private key (RFC 8410). */
const pkcs8 = (oid: string, key: Uint8Array) => {
  const der = hex(`302e020100300506032b65${oid}04220420`);
  const out = new Uint8Array(48);
  out.set(der);
  out.set(key.subarray(0, 32), 16);
  return out;
};
/** The X25519 base point u = 9: X25519(sk, 9) is sk's public key. */
export const X25519_BASE = new Uint8Array(32);
X25519_BASE[0] = 9;

type Subtle = typeof globalThis.crypto.subtle;
type Key = Awaited<ReturnType<Subtle['importKey']>>;

/** Where WebCrypto may not answer (the self-test): every fallback fails. */
export const refusing: CryptoProvider = {
  name: 'tweetnacl',
  sign: () => Promise.reject(new Error('no fallback')),
  verify: () => Promise.reject(new Error('no fallback')),
  x25519: () => Promise.reject(new Error('no fallback')),
};

/** WebCrypto Ed25519 and X25519 over `subtle`, with `fallback` (tweetnacl) answering what WebCrypto refuses. */
export function webCryptoProvider(subtle: Subtle, fallback: CryptoProvider = naclProvider): CryptoProvider {
  // Imported keys are kept for the page's life: a survivor or staff member signs with one key,
  // and a thread is signed by a handful. Bounded, so a long session cannot grow it without end.
  const keys = new Map<string, Promise<Key>>();
  const imported = (format: 'raw' | 'pkcs8', alg: string, bytes: Uint8Array, usage?: 'sign' | 'verify' | 'deriveBits'): Promise<Key> => {
    const id = format + alg + String.fromCharCode(...bytes);
    const known = keys.get(id);
    if (known) return known;
    if (keys.size >= 512) keys.delete(keys.keys().next().value!);
    const key = subtle.importKey(format, bytes, alg, false, usage ? [usage] : []);
    keys.set(id, key);
    key.catch(() => keys.delete(id));
    return key;
  };
  return {
    name: 'webcrypto',
    sign: async (message, secretKey) =>
      new Uint8Array(await subtle.sign('Ed25519', await imported('pkcs8', 'Ed25519', pkcs8('70', secretKey), 'sign'), message)),
    verify: async (message, signature, publicKey) => {
      try {
        return await subtle.verify('Ed25519', await imported('raw', 'Ed25519', publicKey, 'verify'), signature, message);
      } catch {
        return fallback.verify(message, signature, publicKey);
      }
    },
    x25519: async (secretKey, publicKey) => {
      try {
        // An X25519 public key has no usages of its own (WebCrypto refuses any).
        const pub = await imported('raw', 'X25519', publicKey);
        // Ephemeral keys are used once: not worth keeping.
        const priv = await subtle.importKey('pkcs8', pkcs8('6e', secretKey), 'X25519', false, ['deriveBits']);
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

/** RFC 8032 section 7.1 test 1 and RFC 7748 section 6.1: what a WebCrypto must answer to be used. */
const SELF_TEST = {
  seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  signPk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  aliceSk: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  bobPk: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
};

/**
 * True when `provider` gives the RFC answers: a signature, a verification both ways, a key
 * agreement. Test a WebCrypto provider built with no fallback, so that it answers itself.
 */
export async function passesSelfTest(provider: CryptoProvider): Promise<boolean> {
  try {
    const t = SELF_TEST;
    const secretKey = new Uint8Array([...hex(t.seed), ...hex(t.signPk)]);
    const empty = new Uint8Array(0);
    const sig = await provider.sign(empty, secretKey);
    const forged = sig.slice();
    forged[0] ^= 1;
    const shared = await provider.x25519(hex(t.aliceSk), hex(t.bobPk));
    return (
      equalBytes(sig, hex(t.sig)) &&
      (await provider.verify(empty, sig, hex(t.signPk))) &&
      !(await provider.verify(empty, forged, hex(t.signPk))) &&
      equalBytes(shared, hex(t.shared))
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
export function rememberingVerified(provider: CryptoProvider, limit = 100_000): CryptoProvider {
  const verified = new Set<string>();
  return {
    ...provider,
    verify: async (message, signature, publicKey) => {
      const id = String.fromCharCode(...nacl.hash(message), ...signature, ...publicKey);
      if (verified.has(id)) return true;
      const ok = await provider.verify(message, signature, publicKey);
      if (ok && verified.size < limit) verified.add(id);
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
    const works = subtle && (await passesSelfTest(webCryptoProvider(subtle, refusing)));
    return rememberingVerified(works ? webCryptoProvider(subtle) : naclProvider);
  })();
  return detected;
}
