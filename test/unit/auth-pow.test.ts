import fc from 'fast-check';
import nacl from 'tweetnacl';
import { randomId, utf8 } from '../../protocol/encoding';
import { loginMessage, signLogin, verifyLogin } from '../../protocol/auth';
import { checkPow, solvePow, solvePowAsync } from '../../protocol/pow';
import { nodeSha512 } from './helpers';

describe('survivor login signatures', () => {
  const keys = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
  const instanceId = randomId();
  const challenge = randomId(32);
  const sig = signLogin(instanceId, challenge, keys.secretKey);

  it('signLogin / verifyLogin round trip', () => {
    expect(sig).toHaveLength(64);
    expect(verifyLogin(instanceId, challenge, sig, keys.publicKey)).toBe(true);
  });

  it('fails for another instanceId, another challenge or another key', () => {
    expect(verifyLogin(randomId(), challenge, sig, keys.publicKey)).toBe(false);
    expect(verifyLogin(instanceId, randomId(32), sig, keys.publicKey)).toBe(false);
    expect(verifyLogin(instanceId, challenge, sig, nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(8)).publicKey)).toBe(false);
    const altered = sig.slice();
    altered[10] ^= 1;
    expect(verifyLogin(instanceId, challenge, altered, keys.publicKey)).toBe(false);
  });

  it('cannot be shifted between instanceId and challenge (the message separates them)', () => {
    // "a\nb" + "c" vs "a" + "b\nc" would collide without an unambiguous encoding; ids are base64url, so no \n
    expect(loginMessage(instanceId, challenge)).toEqual(utf8(`awaaz/v1/login\n${instanceId}\n${challenge}`));
    expect(verifyLogin(instanceId + challenge.slice(0, 1), challenge.slice(1), sig, keys.publicKey)).toBe(false);
  });

  it('returns false, without throwing, for a signature or key of the wrong length', () => {
    expect(verifyLogin(instanceId, challenge, sig.slice(0, 63), keys.publicKey)).toBe(false);
    expect(verifyLogin(instanceId, challenge, new Uint8Array(0), keys.publicKey)).toBe(false);
    expect(verifyLogin(instanceId, challenge, sig, keys.publicKey.slice(0, 31))).toBe(false);
  });
});

describe('proof of work', () => {
  /** leading zero bits of SHA-512("awaaz/v1/pow\n" + challenge + "\n" + nonce), computed with node:crypto */
  function referenceZeroBits(challenge: string, nonce: number): number {
    const hash = nodeSha512(`awaaz/v1/pow\n${challenge}\n${nonce}`);
    let bits = 0;
    for (const byte of hash) {
      if (byte === 0) {
        bits += 8;
        continue;
      }
      for (let mask = 0x80; (byte & mask) === 0; mask >>= 1) bits++;
      break;
    }
    return bits;
  }

  it('solvePow with bits = 8 finds the first nonce whose hash starts with a zero byte', () => {
    const challenge = randomId(32);
    const nonce = solvePow(challenge, 8);
    expect(checkPow(challenge, nonce, 8)).toBe(true);
    expect(referenceZeroBits(challenge, nonce)).toBeGreaterThanOrEqual(8);
    for (let n = 0; n < nonce; n++) expect(checkPow(challenge, n, 8)).toBe(false);
  });

  it('solvePowAsync (WebCrypto SHA-512, in batches) finds the same nonce as solvePow (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 40 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 300 }),
        async (challenge, bits, batch) => {
          const nonce = await solvePowAsync(challenge, bits, undefined, batch);
          expect(nonce).toBe(solvePow(challenge, bits));
          expect(checkPow(challenge, nonce, bits)).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('checkPow agrees with a reference count of leading zero bits', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 50 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 12 }),
        (challenge, nonce, bits) => {
          expect(checkPow(challenge, nonce, bits)).toBe(referenceZeroBits(challenge, nonce) >= bits);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a solution for one challenge is (almost always) not one for another', () => {
    const challenge = randomId(32);
    const nonce = solvePow(challenge, 12);
    expect(referenceZeroBits(challenge, nonce)).toBeGreaterThanOrEqual(12);
    const other = 'another challenge';
    expect(checkPow(other, nonce, 12)).toBe(referenceZeroBits(other, nonce) >= 12);
  });

  it.each([-1, -0.5, 1.5, NaN, Infinity, 2 ** 53])('rejects the nonce %p', (nonce) => {
    expect(checkPow('challenge', nonce, 0)).toBe(false);
  });

  it('accepts any non-negative safe integer when bits = 0', () => {
    expect(checkPow('challenge', 0, 0)).toBe(true);
    expect(checkPow('challenge', Number.MAX_SAFE_INTEGER, 0)).toBe(true);
  });
});
