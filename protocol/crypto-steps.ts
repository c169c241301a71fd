/**
 * The protocol's functions are written once, as generators that yield each Ed25519 or X25519
 * operation they need (`yield* signStep(...)`), and run two ways: `runSync` answers with
 * tweetnacl (or the server's OpenSSL verify, through its CryptoBackend), `runAsync` with a
 * CryptoProvider (WebCrypto in browsers that have it). So the browser's async path and the
 * server's sync path cannot drift apart: they are the same code, fed by equivalent primitives.
 */
import nacl from 'tweetnacl';
import { cryptoProvider, X25519_BASE, type CryptoProvider } from './crypto-provider';
import { hasCanonicalS, naclBackend, type CryptoBackend } from './signatures';

export type CryptoOp =
  | { op: 'sign'; message: Uint8Array; secretKey: Uint8Array }
  | { op: 'verify'; message: Uint8Array; signature: Uint8Array; publicKey: Uint8Array }
  | { op: 'x25519'; secretKey: Uint8Array; publicKey: Uint8Array };

export type Steps<T> = Generator<CryptoOp, T, unknown>;

export function* signStep(message: Uint8Array, secretKey: Uint8Array): Steps<Uint8Array> {
  return (yield { op: 'sign', message, secretKey }) as Uint8Array;
}

/** verifyDetached as a step: lengths and the canonical-S rule here, then the Ed25519 check. */
export function* verifyStep(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): Steps<boolean> {
  if (signature.length !== 64 || publicKey.length !== 32 || !hasCanonicalS(signature)) return false;
  return (yield { op: 'verify', message, signature, publicKey }) as boolean;
}

const SIGMA = new TextEncoder().encode('expand 32-byte k');
type HSalsa20 = (out: Uint8Array, input: Uint8Array, key: Uint8Array, constant: Uint8Array) => void;
const hsalsa20 = (nacl as unknown as { lowlevel: { crypto_core_hsalsa20: HSalsa20 } }).lowlevel.crypto_core_hsalsa20;

/** nacl.box.before(publicKey, secretKey): HSalsa20 of the X25519 shared point. */
export function* boxKeyStep(publicKey: Uint8Array, secretKey: Uint8Array): Steps<Uint8Array> {
  const shared = (yield { op: 'x25519', secretKey, publicKey }) as Uint8Array;
  const key = new Uint8Array(32);
  hsalsa20(key, new Uint8Array(16), shared, SIGMA);
  shared.fill(0);
  return key;
}

/** nacl.box.keyPair.fromSecretKey(secretKey).publicKey. */
export function* boxPublicKeyStep(secretKey: Uint8Array): Steps<Uint8Array> {
  return (yield { op: 'x25519', secretKey, publicKey: X25519_BASE }) as Uint8Array;
}

/** Runs the steps with tweetnacl, verifying through `backend` (the server passes OpenSSL's). */
export function runSync<T>(steps: Steps<T>, backend: CryptoBackend = naclBackend): T {
  let next = steps.next();
  while (!next.done) {
    const op = next.value;
    next = steps.next(
      op.op === 'sign'
        ? nacl.sign.detached(op.message, op.secretKey)
        : op.op === 'verify'
          ? backend.verify(op.message, op.signature, op.publicKey)
          : nacl.scalarMult(op.secretKey, op.publicKey),
    );
  }
  return next.value;
}

/**
 * Runs the steps with `provider` (by default the one this runtime detected). With tweetnacl (a browser without WebCrypto Ed25519), each
 * operation is milliseconds of main-thread work, so the run lets the page breathe between them.
 */
export async function runAsync<T>(steps: Steps<T>, provider?: CryptoProvider): Promise<T> {
  provider ??= await cryptoProvider();
  let next = steps.next();
  let since = performance.now();
  while (!next.done) {
    const op = next.value;
    next = steps.next(
      await (op.op === 'sign'
        ? provider.sign(op.message, op.secretKey)
        : op.op === 'verify'
          ? provider.verify(op.message, op.signature, op.publicKey)
          : provider.x25519(op.secretKey, op.publicKey)),
    );
    if (provider.name === 'tweetnacl' && performance.now() - since > 30) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      since = performance.now();
    }
  }
  return next.value;
}
