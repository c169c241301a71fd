/**
 * One flipped bit anywhere in an envelope must make openEnvelope throw a ProtocolError.
 *
 * The exhaustive sweeps (every byte of every field) run in worker threads through
 * run-in-worker.ts, because each flip costs an Ed25519 verification and tweetnacl is ~8x slower
 * inside jest's vm context. The sampled properties below run the same checks in-process.
 */
import fc from 'fast-check';
import { fromBase64url } from '../../protocol/encoding';
import { sweepFlips, type Field, type Outcome } from './envelope-jobs';
import { alice, bob, caseId, CIPHERTEXT, flipped, KIND, keyTarget, openAs, resign, seal, signer, TARGETS } from './envelope-helpers';
import { protocolErrorOf } from './helpers';
import { runInWorker } from './run-in-worker';

// The smallest envelope: an empty body (the plaintext is just {v, kind, caseId}), two recipients.
const small = seal({});
const sweepBase = { envelope: small, box: alice, trustedSigner: signer.publicKey, expectedKind: KIND, expectedCaseId: caseId };
const ALL_FIELDS: Field[] = [
  'ciphertext',
  'keys.0.kid',
  'keys.0.epk',
  'keys.0.wrapped',
  'keys.1.kid',
  'keys.1.epk',
  'keys.1.wrapped',
  'sig',
  'signer',
];

function unexpected(outcomes: Outcome[], expectedCode: (o: Outcome) => string | null): string[] {
  return outcomes
    .filter((o) => o.code !== expectedCode(o) || (o.code !== null && o.message === ''))
    .map((o) => `${o.field}[${o.position}] bit ${o.bit}: ${String(o.code)} (${o.message})`);
}

describe('exhaustive: one bit flipped in every byte of every field', () => {
  // Both sweeps start at once, in two worker threads.
  let unsignedSweep: Promise<Outcome[]>;
  let resignedSweep: Promise<Outcome[]>;
  beforeAll(() => {
    unsignedSweep = runInWorker('sweepFlips', { ...sweepBase, fields: ALL_FIELDS });
    resignedSweep = runInWorker('sweepFlips', {
      ...sweepBase,
      fields: ['ciphertext', 'keys.0.kid', 'keys.0.epk', 'keys.0.wrapped'],
      resignWith: signer.secretKey,
    });
    // avoid an unhandled rejection if a test fails before awaiting one of them
    unsignedSweep.catch(() => undefined);
    resignedSweep.catch(() => undefined);
  });

  it('signature left as it was: bad_signature everywhere, untrusted_signer for the signer key', async () => {
    const outcomes = await unsignedSweep;
    // ciphertext 104 + 2 × (kid 16 + epk 32 + wrapped 72) + sig 64 + signer 32
    expect(outcomes).toHaveLength(fromBase64url(small.ciphertext).length + 2 * (16 + 32 + 72) + 64 + 32);
    expect(unexpected(outcomes, (o) => (o.field === 'signer' ? 'untrusted_signer' : 'bad_signature'))).toEqual([]);
  });

  it('re-signed by the trusted signer: the cryptography below the signature refuses too', async () => {
    const outcomes = await resignedSweep;
    const expected = (o: Outcome): string | null => {
      if (o.field === 'keys.0.kid') return 'not_a_recipient';
      // RFC 7748 masks the most significant bit of a u-coordinate (byte 31, bit 7): the same shared
      // key, so this twin envelope opens. Harmless: the epk is signed, so only a trusted signer can make one.
      if (o.field === 'keys.0.epk' && o.position === 31 && o.bit === 7) return null;
      return 'decrypt_failed';
    };
    expect(outcomes.some((o) => o.code === null)).toBe(true); // the epk top bit was indeed visited
    expect(unexpected(outcomes, expected)).toEqual([]);
  });

  it('the sweep function also runs in-process (on the signer field, which fails before any verification)', () => {
    const outcomes = sweepFlips({ ...sweepBase, fields: ['signer'] });
    expect(outcomes).toHaveLength(32);
    expect(unexpected(outcomes, () => 'untrusted_signer')).toEqual([]);
  });
});

describe('sampled, in-process', () => {
  it('random (field, byte, bit) of any field, either recipient: the signature catches it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TARGETS), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.boolean(), (target, n, bit, asBob) => {
        const length = fromBase64url(target.get(small)).length;
        const e = protocolErrorOf(() => openAs(flipped(small, target, n % length, bit), asBob ? bob : alice));
        expect(e.code).toBe(target.unsignedCode);
        expect(e.message).not.toBe('');
      }),
      { numRuns: 8 },
    );
  });

  it('re-signed: ciphertext and wrapped → decrypt_failed, kid → not_a_recipient, epk (but its top bit) → decrypt_failed', () => {
    const cases = fc.oneof(
      fc.record({ target: fc.constant(CIPHERTEXT), code: fc.constant('decrypt_failed') }),
      fc.record({ target: fc.constant(keyTarget(0, 'wrapped')), code: fc.constant('decrypt_failed') }),
      fc.record({ target: fc.constant(keyTarget(0, 'kid')), code: fc.constant('not_a_recipient') }),
      fc.record({ target: fc.constant(keyTarget(0, 'epk')), code: fc.constant('decrypt_failed') }),
    );
    fc.assert(
      fc.property(cases, fc.nat(), fc.integer({ min: 0, max: 7 }), ({ target, code }, n, bit) => {
        const length = fromBase64url(target.get(small)).length;
        const position = n % length;
        fc.pre(!(target.name === 'keys[0].epk' && position === 31 && bit === 7));
        expect(protocolErrorOf(() => openAs(resign(flipped(small, target, position, bit)), alice)).code).toBe(code);
      }),
      { numRuns: 6 },
    );
  });

  it('a large ciphertext (30 KB): any flipped bit gives bad_signature, or decrypt_failed once re-signed', () => {
    const large = seal({ text: 'x'.repeat(30_000) }, [bob.publicKey]);
    const length = fromBase64url(large.ciphertext).length;
    expect(length).toBeGreaterThan(30_000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: length - 1 }), fc.integer({ min: 0, max: 7 }), fc.boolean(), (position, bit, reSign) => {
        let env = flipped(large, CIPHERTEXT, position, bit);
        if (reSign) env = resign(env);
        expect(protocolErrorOf(() => openAs(env, bob)).code).toBe(reSign ? 'decrypt_failed' : 'bad_signature');
      }),
      { numRuns: 12 },
    );
  });
});
