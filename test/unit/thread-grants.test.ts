/**
 * Threads, erased keys and re-wrap grants (protocol/envelope.ts): what the staff workspace
 * relies on to let new moderators read old cases, to forget removed ones, and to detect a
 * server that swaps, reorders or moves messages.
 */
import nacl from 'tweetnacl';
import {
  envelopeHash,
  eraseKey,
  keyId,
  makeGrant,
  openEnvelope,
  randomId,
  sealEnvelope,
  verifyEnvelope,
  verifyThread,
  type Envelope,
} from '../../protocol';
import { protocolErrorOf } from './helpers';

const survivor = { box: nacl.box.keyPair(), sign: nacl.sign.keyPair() };
const oldMod = { box: nacl.box.keyPair(), sign: nacl.sign.keyPair() };
const newMod = { box: nacl.box.keyPair(), sign: nacl.sign.keyPair() };
const caseId = randomId();

function seal(kind: 'testimony' | 'message', text: string, signer: nacl.SignKeyPair, prev?: string, toCase = caseId): Envelope {
  return sealEnvelope({ kind, caseId: toCase, prev, body: { text }, recipients: [survivor.box.publicKey, oldMod.box.publicKey], signer });
}

const code = (fn: () => unknown): string => protocolErrorOf(fn).code;

const testimony = seal('testimony', 'what happened', survivor.sign);
const reply = seal('message', 'we read you', oldMod.sign, envelopeHash(testimony));
const answer = seal('message', 'thank you', survivor.sign, envelopeHash(reply));

describe('threads', () => {
  test('a thread in order verifies, and each message opens for the survivor', () => {
    expect(() => verifyThread([testimony, reply, answer], caseId)).not.toThrow();
    const opened = openEnvelope<{ text: string }>(answer, {
      box: survivor.box,
      expectedKind: 'message',
      expectedCaseId: caseId,
      trustedSigners: [survivor.sign.publicKey, oldMod.sign.publicKey],
    });
    expect(opened.body.text).toBe('thank you');
  });

  test('reordered, spliced or swapped messages are refused', () => {
    expect(code(() => verifyThread([testimony, answer, reply], caseId))).toBe('bad_thread');
    expect(code(() => verifyThread([testimony, answer], caseId))).toBe('bad_thread'); // reply dropped
    expect(code(() => verifyThread([reply, testimony], caseId))).toBe('bad_thread');
    const other = seal('message', 'swapped in', oldMod.sign, envelopeHash(testimony));
    expect(code(() => verifyThread([testimony, other, answer], caseId))).toBe('bad_thread');
  });

  test('a run from an entry to the newest: checked inside, its link to the entry before left for later', () => {
    const other = seal('message', 'swapped in', oldMod.sign, envelopeHash(testimony));
    // [testimony, answer, reply]: entry 2 (reply) does not follow entry 1 (answer).
    expect(() => verifyThread([testimony, answer, reply], caseId, undefined, 2)).not.toThrow();
    expect(code(() => verifyThread([testimony, answer, reply], caseId, undefined, 1))).toBe('bad_thread');
    // A run is still checked for its case and kind, and the testimony where it starts the thread.
    expect(code(() => verifyThread([testimony, other, answer], randomId(), undefined, 2))).toBe('wrong_context');
    expect(code(() => verifyThread([testimony, other, testimony], caseId, undefined, 2))).toBe('bad_thread');
    expect(code(() => verifyThread([reply, testimony], caseId, undefined, 0))).toBe('bad_thread');
  });

  test('a message moved to another case is refused by the thread and by its reader', () => {
    const elsewhere = randomId();
    const moved = { ...reply, caseId: elsewhere };
    expect(code(() => verifyThread([{ ...testimony, caseId: elsewhere }, moved], elsewhere))).toBe('bad_thread');
    expect(code(() => verifyEnvelope(moved, [oldMod.sign.publicKey]))).toBe('bad_signature');
    expect(code(() => verifyThread([testimony, reply], elsewhere))).toBe('wrong_context');
  });

  test('changing prev breaks the signature', () => {
    expect(code(() => verifyEnvelope({ ...answer, prev: envelopeHash(testimony) }, [survivor.sign.publicKey]))).toBe('bad_signature');
    expect(code(() => verifyEnvelope({ ...reply, prev: undefined }, [oldMod.sign.publicKey]))).toBe('bad_signature');
  });
});

describe('erasing a key', () => {
  test('the signature still verifies, the erased reader can no longer open it, the others can', () => {
    const erased = eraseKey(testimony, keyId(oldMod.box.publicKey));
    expect(erased.keys.find((k) => k.kid === keyId(oldMod.box.publicKey))).toEqual({
      kid: keyId(oldMod.box.publicKey),
      digest: expect.any(String),
    });
    expect(() => verifyEnvelope(erased, [survivor.sign.publicKey])).not.toThrow();
    expect(envelopeHash(erased)).toBe(envelopeHash(testimony));
    expect(
      code(() =>
        openEnvelope(erased, {
          box: oldMod.box,
          expectedKind: 'testimony',
          expectedCaseId: caseId,
          trustedSigners: [survivor.sign.publicKey],
        }),
      ),
    ).toBe('not_a_recipient');
    expect(
      openEnvelope(erased, {
        box: survivor.box,
        expectedKind: 'testimony',
        expectedCaseId: caseId,
        trustedSigners: [survivor.sign.publicKey],
      }).body.kind,
    ).toBe('testimony');
  });

  test('a forged digest on an erased entry breaks the signature', () => {
    const erased = eraseKey(testimony, keyId(oldMod.box.publicKey));
    const forged = {
      ...erased,
      keys: erased.keys.map((k) => (k.digest ? { ...k, digest: k.digest.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } : k)),
    };
    expect(code(() => verifyEnvelope(forged, [survivor.sign.publicKey]))).toBe('bad_signature');
  });
});

describe('grants', () => {
  const grant = makeGrant(testimony, { box: oldMod.box, recipient: newMod.box.publicKey, granter: oldMod.sign });
  const open = (g = grant, env = testimony, granters = [oldMod.sign.publicKey]) =>
    openEnvelope<{ text: string }>(env, {
      box: newMod.box,
      expectedKind: 'testimony',
      expectedCaseId: caseId,
      trustedSigners: [survivor.sign.publicKey],
      grants: [g],
      trustedGranters: granters,
    });

  test('a new moderator opens an old envelope through a grant', () => {
    expect(open().body.text).toBe('what happened');
  });

  test('a grant from an untrusted granter, for another envelope, or altered is refused', () => {
    expect(code(() => open(grant, testimony, [newMod.sign.publicKey]))).toBe('untrusted_signer');
    expect(code(() => open({ ...grant, envelopeHash: envelopeHash(reply) }))).toBe('wrong_context');
    const otherTestimony = seal('testimony', 'another case', survivor.sign, undefined, randomId());
    expect(
      code(() =>
        openEnvelope(otherTestimony, {
          box: newMod.box,
          expectedKind: 'testimony',
          expectedCaseId: otherTestimony.caseId,
          trustedSigners: [survivor.sign.publicKey],
          grants: [grant],
          trustedGranters: [oldMod.sign.publicKey],
        }),
      ),
    ).toBe('wrong_context');
    const flipped = { ...grant, wrapped: grant.wrapped.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
    expect(code(() => open(flipped))).toBe('bad_signature');
  });

  test('a grant survives the erasure of its granter’s key, and a grantee can grant onward', () => {
    const erased = eraseKey(testimony, keyId(oldMod.box.publicKey));
    expect(open(grant, erased).body.text).toBe('what happened');
    const third = nacl.box.keyPair();
    const onward = makeGrant(erased, {
      box: newMod.box,
      grants: [grant],
      trustedGranters: [oldMod.sign.publicKey],
      recipient: third.publicKey,
      granter: newMod.sign,
    });
    const opened = openEnvelope<{ text: string }>(erased, {
      box: third,
      expectedKind: 'testimony',
      expectedCaseId: caseId,
      trustedSigners: [survivor.sign.publicKey],
      grants: [onward],
      trustedGranters: [newMod.sign.publicKey],
    });
    expect(opened.body.text).toBe('what happened');
  });
});
