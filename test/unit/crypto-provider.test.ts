/**
 * The crypto provider (protocol/crypto-provider.ts): WebCrypto (Node's, here) and tweetnacl
 * give the same bytes for every signature, verification and key agreement, and the async
 * protocol functions built on them give the committed vectors. The same runner goes into
 * Chromium (test/e2e/vectors.e2e.test.ts) and Firefox ESR (test/e2e/firefox-vectors.e2e.test.ts).
 */
import fc from 'fast-check';
import nacl from 'tweetnacl';
import {
  cryptoProvider,
  naclProvider,
  passesSelfTest,
  rememberingVerified,
  webCryptoProvider,
  type CryptoProvider,
} from '../../protocol/crypto-provider';
import { openEnvelope, openEnvelopeAsync, sealEnvelope, sealEnvelopeAsync, makeGrant, makeGrantAsync } from '../../protocol/envelope';
import { canonicalJson, toBase64url } from '../../protocol/encoding';
import { refusing } from '../vectors/refusing';
import { runProviderVectors } from '../vectors/provider-vectors';
import vectors from '../vectors/publishing-v1.json';
import { deterministicRandom } from '../vectors/deterministic-random';

const subtle = globalThis.crypto.subtle;
const strict = webCryptoProvider(subtle, refusing);
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

/** A provider that counts what it is asked, to show where answers come from. */
function counting(inner: CryptoProvider): CryptoProvider & { calls: number } {
  const c = {
    name: inner.name,
    calls: 0,
    sign: (m: Uint8Array, k: Uint8Array) => (c.calls++, inner.sign(m, k)),
    verify: (m: Uint8Array, s: Uint8Array, k: Uint8Array) => (c.calls++, inner.verify(m, s, k)),
    x25519: (a: Uint8Array, b: Uint8Array) => (c.calls++, inner.x25519(a, b)),
  };
  return c;
}

describe('crypto provider', () => {
  it('Node has WebCrypto Ed25519 and X25519, passes the RFC self-test and is the one detected', async () => {
    expect(await passesSelfTest(strict)).toBe(true);
    expect(await passesSelfTest(naclProvider)).toBe(true);
    expect((await cryptoProvider()).name).toBe('webcrypto');
  });

  it('the self-test refuses a provider that answers wrongly (it can fail)', async () => {
    const wrongSig: CryptoProvider = {
      ...naclProvider,
      sign: (m, k) => Promise.resolve(nacl.sign.detached(m, k).map((b, i) => (i === 0 ? b ^ 1 : b))),
    };
    const acceptsAll: CryptoProvider = { ...naclProvider, verify: () => Promise.resolve(true) };
    const wrongX: CryptoProvider = { ...naclProvider, x25519: () => Promise.resolve(new Uint8Array(32)) };
    const throws: CryptoProvider = refusing;
    for (const p of [wrongSig, acceptsAll, wrongX, throws]) expect(await passesSelfTest(p)).toBe(false);
  });

  it('every publishing vector matches through the async functions with each provider, and random operations agree', async () => {
    const report = await runProviderVectors(vectors);
    expect(report).toEqual({ detected: 'webcrypto', webCryptoSelfTest: true, failures: [] });
  });

  it('reports an altered vector with each provider (the runner can fail)', async () => {
    const altered = JSON.parse(JSON.stringify(vectors));
    altered.consent.sig = altered.consent.sig.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A'));
    const { failures } = await runProviderVectors(altered, 1);
    expect(failures).toEqual(
      expect.arrayContaining([expect.stringMatching(/^tweetnacl: consent\.sig/), expect.stringMatching(/^webcrypto: consent\.sig/)]),
    );
  });

  it('signatures are the same bytes, and both accept and refuse the same ones (property)', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(32, 32), bytes(0, 300), fc.nat(63), fc.nat(7), async (seed, message, at, bit) => {
        const pair = nacl.sign.keyPair.fromSeed(seed);
        const sig = await strict.sign(message, pair.secretKey);
        expect(toBase64url(sig)).toBe(toBase64url(nacl.sign.detached(message, pair.secretKey)));
        expect(await strict.verify(message, sig, pair.publicKey)).toBe(true);
        const altered = sig.slice();
        altered[at] ^= 1 << bit;
        expect(await strict.verify(message, altered, pair.publicKey)).toBe(nacl.sign.detached.verify(message, altered, pair.publicKey));
      }),
      { numRuns: 30 },
    );
  });

  it('X25519 gives the same shared secret as tweetnacl for any keys, even malformed public keys (property)', async () => {
    const provider = webCryptoProvider(subtle);
    await fc.assert(
      fc.asyncProperty(bytes(32, 32), bytes(32, 32), async (secretKey, publicKey) => {
        expect(toBase64url(await provider.x25519(secretKey, publicKey))).toBe(toBase64url(nacl.scalarMult(secretKey, publicKey)));
      }),
      { numRuns: 30 },
    );
    // The identity and other small-order points: WebCrypto refuses the all-zero result, the fallback answers it.
    for (const small of [new Uint8Array(32), Uint8Array.from([1, ...new Uint8Array(31)])])
      expect(toBase64url(await provider.x25519(nacl.randomBytes(32), small))).toBe(toBase64url(new Uint8Array(32)));
  });

  it('seal, open and grant give the same envelopes and grants with WebCrypto as with tweetnacl (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.integer({ min: 1, max: 4 }),
        fc.string({ minLength: 1, maxLength: 8 }),
        async (text, n, seed) => {
          const readers = Array.from({ length: n }, () => nacl.box.keyPair());
          const signer = nacl.sign.keyPair();
          const input = (s: string) => ({
            kind: 'message' as const,
            caseId: 'case-1',
            body: { text },
            recipients: readers.map((r) => r.publicKey),
            signer,
            random: deterministicRandom(s),
          });
          const sync = sealEnvelope(input(seed));
          const async = await sealEnvelopeAsync(input(seed), strict);
          expect(canonicalJson(async)).toBe(canonicalJson(sync));
          const open = { box: readers[n - 1], expectedKind: 'message', expectedCaseId: 'case-1', trustedSigners: [signer.publicKey] };
          expect(canonicalJson((await openEnvelopeAsync(sync, open, strict)).body)).toBe(canonicalJson(openEnvelope(sync, open).body));
          const newcomer = nacl.box.keyPair();
          const grantInput = (s: string) => ({
            box: readers[0],
            recipient: newcomer.publicKey,
            granter: signer,
            random: deterministicRandom(s),
          });
          expect(canonicalJson(await makeGrantAsync(sync, grantInput(seed), strict))).toBe(
            canonicalJson(makeGrant(sync, grantInput(seed))),
          );
        },
      ),
      { numRuns: 12 },
    );
  });

  it('a remembering provider checks a signature once, and never remembers a failure', async () => {
    const inner = counting(naclProvider);
    const remembering = rememberingVerified(inner);
    const pair = nacl.sign.keyPair();
    const message = nacl.randomBytes(40);
    const sig = nacl.sign.detached(message, pair.secretKey);
    expect(await remembering.verify(message, sig, pair.publicKey)).toBe(true);
    expect(await remembering.verify(message, sig, pair.publicKey)).toBe(true);
    expect(inner.calls).toBe(1);
    // The same signature on another message is checked, and refused.
    const other = message.slice();
    other[0] ^= 1;
    expect(await remembering.verify(other, sig, pair.publicKey)).toBe(false);
    expect(await remembering.verify(other, sig, pair.publicKey)).toBe(false);
    expect(inner.calls).toBe(3);
  });

  it('WebCrypto answers itself: the fallback is not asked for ordinary keys', async () => {
    const fallback = counting(naclProvider);
    const provider = webCryptoProvider(subtle, fallback);
    const pair = nacl.sign.keyPair();
    const sig = await provider.sign(new Uint8Array(3), pair.secretKey);
    expect(await provider.verify(new Uint8Array(3), sig, pair.publicKey)).toBe(true);
    await provider.x25519(nacl.randomBytes(32), nacl.box.keyPair().publicKey);
    expect(fallback.calls).toBe(0);
  });
});
