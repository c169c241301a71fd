/**
 * WebCrypto and tweetnacl give the same bytes: the publishing vectors (publishing-v1.json)
 * recomputed through the async protocol functions with each provider, then the same random
 * signatures, verifications and key agreements asked of both. Returns the provider this
 * runtime detected and one message per mismatch.
 *
 * DOM-free and Node-free like the other vector runners: test/unit/crypto-provider.test.ts
 * runs it under Node, test/e2e/vectors.e2e.test.ts in Chromium and
 * test/e2e/firefox-vectors.e2e.test.ts in Firefox ESR at Tor Browser's Standard and Safer levels.
 */
import nacl from 'tweetnacl';
import {
  cryptoProvider,
  naclProvider,
  passesSelfTest,
  refusing,
  webCryptoProvider,
  X25519_BASE,
  type CryptoProvider,
} from '../../protocol/crypto-provider';
import { toBase64url } from '../../protocol/encoding';
import { runPublishingVectors } from './publishing-vectors';
import { deterministicRandom } from './deterministic-random';

export interface ProviderReport {
  /** the provider cryptoProvider() chose here */
  detected: string;
  /** whether WebCrypto (with no fallback) answered the RFC self-test */
  webCryptoSelfTest: boolean;
  failures: string[];
}

export async function runProviderVectors(vectors: any, rounds = 24): Promise<ProviderReport> {
  const failures: string[] = [];
  const subtle = globalThis.crypto?.subtle;
  // No fallback: every answer below comes from WebCrypto itself.
  const strict = subtle && webCryptoProvider(subtle, refusing);
  const webCryptoSelfTest = !!strict && (await passesSelfTest(strict));
  const detected = (await cryptoProvider()).name;

  const providers: [string, CryptoProvider][] = [['tweetnacl', naclProvider]];
  if (strict && webCryptoSelfTest) providers.push(['webcrypto', strict]);
  for (const [name, provider] of providers) for (const f of await runPublishingVectors(vectors, provider)) failures.push(`${name}: ${f}`);

  if (strict && webCryptoSelfTest) {
    const random = deterministicRandom('provider-equivalence');
    const b64 = (bytes: Uint8Array | boolean) => (typeof bytes === 'boolean' ? String(bytes) : toBase64url(bytes));
    const same = async (what: string, run: (p: CryptoProvider) => Promise<Uint8Array | boolean>) => {
      const [a, b] = [b64(await run(naclProvider)), b64(await run(strict).catch(() => new Uint8Array(0)))];
      if (a !== b) failures.push(`${what}: tweetnacl ${a}, webcrypto ${b}`);
    };
    for (let i = 0; i < rounds; i++) {
      const pair = nacl.sign.keyPair.fromSeed(random(32));
      const message = random(i * 7);
      const sig = nacl.sign.detached(message, pair.secretKey);
      const flipped = sig.slice();
      flipped[i % 64] ^= 1 << (i % 8);
      const boxSk = random(32);
      const peer = nacl.box.keyPair.fromSecretKey(random(32)).publicKey;
      await same(`sign round ${i}`, (p) => p.sign(message, pair.secretKey));
      await same(`verify round ${i}`, (p) => p.verify(message, sig, pair.publicKey));
      await same(`verify of an altered signature, round ${i}`, (p) => p.verify(message, flipped, pair.publicKey));
      await same(`x25519 round ${i}`, (p) => p.x25519(boxSk, peer));
      await same(`x25519 public key round ${i}`, (p) => p.x25519(boxSk, X25519_BASE));
    }
  }
  // A small-order public key gives an all-zero X25519 result that WebCrypto refuses: the
  // detected provider answers it as tweetnacl does, so a reader sees the same failure either way.
  const zeroPoint = new Uint8Array(32);
  const detectedAnswer = await (await cryptoProvider()).x25519(nacl.randomBytes(32), zeroPoint);
  if (toBase64url(detectedAnswer) !== toBase64url(new Uint8Array(32)))
    failures.push(`x25519 with a small-order key: expected 32 zero bytes, got ${toBase64url(detectedAnswer)}`);
  return { detected, webCryptoSelfTest, failures };
}
