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
  webCryptoProvider,
  X25519_BASE,
  type CryptoProvider,
} from '../../protocol/crypto-provider';
import { toBase64url } from '../../protocol/encoding';
import { refusing } from './refusing';
import { runPublishingVectors } from './publishing-vectors';
import { deterministicRandom } from './deterministic-random';

export interface ProviderReport {
  /** the provider cryptoProvider() chose here */
  detected: string;
  /** whether WebCrypto (with no fallback) answered the RFC self-test */
  webCryptoSelfTest: boolean;
  failures: string[];
}

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** RFC 8032 section 7.1 tests 1 and 2 (Ed25519) and RFC 7748 section 6.1 (X25519), through `provider`. */
async function rfcVectors(provider: CryptoProvider): Promise<string[]> {
  const failures: string[] = [];
  const ed25519 = [
    {
      seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      message: '',
      sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      message: '72',
      sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
  ];
  for (const [i, v] of ed25519.entries()) {
    const sig = await provider.sign(hex(v.message), new Uint8Array([...hex(v.seed), ...hex(v.pk)]));
    if (toHex(sig) !== v.sig) failures.push(`RFC 8032 test ${i + 1}: signature ${toHex(sig)}`);
    if (!(await provider.verify(hex(v.message), hex(v.sig), hex(v.pk)))) failures.push(`RFC 8032 test ${i + 1}: does not verify`);
  }
  const x = {
    aliceSk: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
    alicePk: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    bobSk: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
    bobPk: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
  };
  const checks: [string, Uint8Array, Uint8Array, string][] = [
    ["Alice's public key", hex(x.aliceSk), X25519_BASE, x.alicePk],
    ["Bob's public key", hex(x.bobSk), X25519_BASE, x.bobPk],
    ['shared, Alice', hex(x.aliceSk), hex(x.bobPk), x.shared],
    ['shared, Bob', hex(x.bobSk), hex(x.alicePk), x.shared],
  ];
  for (const [what, sk, pk, expected] of checks) {
    const got = toHex(await provider.x25519(sk, pk));
    if (got !== expected) failures.push(`RFC 7748 ${what}: ${got}`);
  }
  return failures;
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
  for (const [name, provider] of providers) {
    for (const f of await runPublishingVectors(vectors, provider)) failures.push(`${name}: ${f}`);
    for (const f of await rfcVectors(provider)) failures.push(`${name}: ${f}`);
  }

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
