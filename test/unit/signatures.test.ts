/**
 * Signature checks shared by every verifier: a malleated signature (S + L) that tweetnacl
 * alone would accept is refused, and the server's OpenSSL backend agrees with tweetnacl.
 */
import fc from 'fast-check';
import nacl from 'tweetnacl';
import {
  hasCanonicalS,
  naclBackend,
  sealEnvelope,
  utf8,
  verifyDetached,
  verifyEnvelope,
  verifyLogin,
  signLogin,
  randomId,
  toBase64url,
  ProtocolError,
} from '../../protocol';
import { nodeBackend } from '../../server/crypto/node-backend';

const L = [0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, ...Array(15).fill(0), 0x10];

/** S + L (little-endian addition): the same signature, spelled differently. */
function malleate(sig: Uint8Array): Uint8Array {
  const out = sig.slice();
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const sum = out[32 + i] + L[i] + carry;
    out[32 + i] = sum & 0xff;
    carry = sum >> 8;
  }
  return out;
}

const signer = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
const message = utf8('awaaz test message');
const sig = nacl.sign.detached(message, signer.secretKey);

test('tweetnacl by itself accepts S + L; verifyDetached refuses it with either backend', () => {
  const bad = malleate(sig);
  expect(nacl.sign.detached.verify(message, bad, signer.publicKey)).toBe(true); // the weakness
  expect(hasCanonicalS(bad)).toBe(false);
  expect(verifyDetached(message, bad, signer.publicKey, naclBackend)).toBe(false);
  expect(verifyDetached(message, bad, signer.publicKey, nodeBackend)).toBe(false);
  expect(verifyDetached(message, sig, signer.publicKey, naclBackend)).toBe(true);
  expect(verifyDetached(message, sig, signer.publicKey, nodeBackend)).toBe(true);
});

test('a malleated envelope or login signature is refused', () => {
  const env = sealEnvelope({ kind: 'testimony', caseId: randomId(), body: { x: 1 }, recipients: [nacl.box.keyPair().publicKey], signer });
  const bad = { ...env, sig: toBase64url(malleate(Buffer.from(env.sig, 'base64url'))) };
  for (const backend of [naclBackend, nodeBackend]) {
    expect(() => verifyEnvelope(env, [signer.publicKey], backend)).not.toThrow();
    expect(() => verifyEnvelope(bad, [signer.publicKey], backend)).toThrow(ProtocolError);
  }
  const login = signLogin('inst', 'challenge', signer.secretKey);
  expect(verifyLogin('inst', 'challenge', login, signer.publicKey, nodeBackend)).toBe(true);
  expect(verifyLogin('inst', 'challenge', malleate(login), signer.publicKey, nodeBackend)).toBe(false);
});

test('the OpenSSL backend and tweetnacl agree on genuine, tampered and foreign signatures', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.nat(63),
      fc.boolean(),
      (msg, seed, flip, foreign) => {
        const kp = nacl.sign.keyPair.fromSeed(seed);
        const s = nacl.sign.detached(msg, kp.secretKey);
        const tampered = s.slice();
        tampered[flip] ^= 1;
        const pk = foreign ? nacl.sign.keyPair().publicKey : kp.publicKey;
        for (const candidate of [s, tampered]) {
          expect(verifyDetached(msg, candidate, pk, nodeBackend)).toBe(verifyDetached(msg, candidate, pk, naclBackend));
        }
        expect(nodeBackend.sha512(msg)).toEqual(naclBackend.sha512(msg));
      },
    ),
    { numRuns: 40 },
  );
});

test('a public key OpenSSL cannot use verifies nothing instead of throwing', () => {
  expect(nodeBackend.verify(message, sig, new Uint8Array(32).fill(0xff))).toBe(false);
});
