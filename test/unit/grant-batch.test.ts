/**
 * Key grants v2 (protocol/grant-tree.ts, grant-batch.ts): a batch signed once, each grant
 * verifying alone through its Merkle path; v1 grants still open. Property tests over batch
 * sizes, and tampering with every field of a grant.
 */
import fc from 'fast-check';
import nacl from 'tweetnacl';
import {
  envelopeHash,
  foldPath,
  grantTree,
  keyId,
  makeGrant,
  MAX_GRANT_BATCH,
  openEnvelope,
  randomId,
  rewrapKey,
  rewrapKeyAsync,
  sealEnvelope,
  signGrantBatch,
  signGrantBatchAsync,
  toBase64url,
  verifyAnyGrantSteps,
  verifyGrant,
  verifyGrantBatch,
  runSync,
  type BatchKeyGrant,
  type Envelope,
  type GrantSource,
} from '../../protocol';
import { naclProvider } from '../../protocol/crypto-provider';
import { naclBackend } from '../../protocol/signatures';
import { protocolErrorOf } from './helpers';

const survivor = { box: nacl.box.keyPair(), sign: nacl.sign.keyPair() };
const granter = { box: nacl.box.keyPair(), sign: nacl.sign.keyPair() };
const colleague = { box: nacl.box.keyPair(), sign: nacl.sign.keyPair() };
const stranger = nacl.sign.keyPair();
const caseId = randomId();
const code = (fn: () => unknown): string => protocolErrorOf(fn).code;

const envelopes: Envelope[] = Array.from({ length: 40 }, (_, i) =>
  sealEnvelope({
    kind: 'testimony',
    caseId,
    body: { text: `testimony ${i}` },
    recipients: [survivor.box.publicKey, granter.box.publicKey],
    signer: survivor.sign,
  }),
);
const hashes = envelopes.map((e) => envelopeHash(e));
const myKid = keyId(granter.box.publicKey);
/** What GET /api/staff/grants/pending gives the granter: the hash and its own key entry. */
const sourceOf = (i: number): GrantSource => {
  const key = envelopes[i].keys.find((k) => k.kid === myKid)!;
  return { envelopeHash: hashes[i], key: { kid: key.kid, epk: key.epk!, wrapped: key.wrapped! } };
};
const rewrapInput = { box: granter.box, recipient: colleague.box.publicKey, trustedGranters: [granter.sign.publicKey] };

function batch(n: number): BatchKeyGrant[] {
  return signGrantBatch(
    Array.from({ length: n }, (_, i) => rewrapKey(sourceOf(i), rewrapInput)),
    granter.sign,
  ).grants;
}

const openAsColleague = (env: Envelope, grant: BatchKeyGrant | ReturnType<typeof makeGrant>) =>
  openEnvelope<{ text: string }>(env, {
    box: colleague.box,
    expectedKind: 'testimony',
    expectedCaseId: caseId,
    trustedSigners: [survivor.sign.publicKey],
    grants: [grant],
    trustedGranters: [granter.sign.publicKey],
  });

describe('grant batches (v2)', () => {
  test('every grant of a batch of 1..17 opens its envelope for the colleague, alone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 17 }), (n) => {
        const grants = batch(n);
        expect(new Set(grants.map((g) => g.sig)).size).toBe(1);
        grants.forEach((g, i) => {
          expect(g).toMatchObject({ v: 2, count: n, index: i, kid: keyId(colleague.box.publicKey) });
          expect(g.path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
          expect(openAsColleague(envelopes[i], g).body.text).toBe(`testimony ${i}`);
        });
      }),
      { numRuns: 6 },
    );
  });

  // A path may fold to the same root under another batch size (3 and 4 leaves, leaf 0): that is
  // why the signed message names the count (tampering tests below).
  test('the tree is RFC 9162: each path folds to the root, and only at its own index', () => {
    const sha = (b: Uint8Array) => nacl.hash(b);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), (n, pick) => {
        const leaves = Array.from({ length: n }, (_, i) => sha(Uint8Array.of(i & 255, i >> 8)).slice(0, 32));
        const { root, paths } = grantTree(leaves, sha);
        const i = pick % n;
        expect(toBase64url(foldPath(leaves[i], i, n, paths[i], sha)!)).toBe(toBase64url(root));
        expect(paths[i].length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        if (n > 1) {
          const other = (i + 1) % n;
          const folded = foldPath(leaves[i], other, n, paths[i], sha);
          expect(folded && toBase64url(folded)).not.toBe(toBase64url(root));
        }
      }),
      { numRuns: 200 },
    );
  });

  test('the server recomputes the same grants from the leaves and the one signature', () => {
    const leaves = Array.from({ length: 13 }, (_, i) => rewrapKey(sourceOf(i), rewrapInput));
    const signed = signGrantBatch(leaves, granter.sign);
    const granterPk = toBase64url(granter.sign.publicKey);
    expect(verifyGrantBatch(leaves, granterPk, signed.sig)).toEqual(signed.grants);
    // reordered, one leaf swapped for another envelope's hash, one dropped, another signer: refused
    expect(code(() => verifyGrantBatch([leaves[1], leaves[0], ...leaves.slice(2)], granterPk, signed.sig))).toBe('bad_signature');
    expect(code(() => verifyGrantBatch([{ ...leaves[0], envelopeHash: hashes[20] }, ...leaves.slice(1)], granterPk, signed.sig))).toBe(
      'bad_signature',
    );
    expect(code(() => verifyGrantBatch(leaves.slice(1), granterPk, signed.sig))).toBe('bad_signature');
    expect(code(() => verifyGrantBatch(leaves, toBase64url(stranger.publicKey), signed.sig))).toBe('bad_signature');
    expect(code(() => verifyGrantBatch([], granterPk, signed.sig))).toBe('bad_grant');
    expect(code(() => signGrantBatch(new Array(MAX_GRANT_BATCH + 1).fill(leaves[0]), granter.sign))).toBe('bad_grant');
  });

  test('async (provider) and sync paths give grants that verify either way', async () => {
    const leaves = await Promise.all([0, 1, 2].map((i) => rewrapKeyAsync(sourceOf(i), rewrapInput, naclProvider)));
    const { sig } = await signGrantBatchAsync(leaves, granter.sign, naclProvider);
    expect(sig).toBe(signGrantBatch(leaves, granter.sign).sig); // Ed25519 is deterministic
    const grants = verifyGrantBatch(leaves, toBase64url(granter.sign.publicKey), sig);
    grants.forEach((g, i) => expect(() => verifyGrant(g, envelopes[i], [granter.sign.publicKey])).not.toThrow());
  });

  test('a granter that reads through a grant (v1 or v2) re-wraps through it, checked against the stated hash', () => {
    const v1 = makeGrant(envelopes[0], { box: granter.box, recipient: colleague.box.publicKey, granter: granter.sign });
    const v2 = batch(2)[1];
    const third = nacl.box.keyPair();
    for (const [grant, i] of [
      [v1, 0],
      [v2, 1],
    ] as const) {
      const leaf = rewrapKey(
        { envelopeHash: hashes[i], grants: [grant] },
        { box: colleague.box, recipient: third.publicKey, trustedGranters: [granter.sign.publicKey] },
      );
      const { grants } = signGrantBatch([leaf], colleague.sign);
      const opened = openEnvelope<{ text: string }>(envelopes[i], {
        box: third,
        expectedKind: 'testimony',
        expectedCaseId: caseId,
        trustedSigners: [survivor.sign.publicKey],
        grants,
        trustedGranters: [colleague.sign.publicKey],
      });
      expect(opened.body.text).toBe(`testimony ${i}`);
      // The server states another envelope's hash: the granter's own grant does not fit it.
      expect(
        code(() =>
          rewrapKey(
            { envelopeHash: hashes[5], grants: [grant] },
            { box: colleague.box, recipient: third.publicKey, trustedGranters: [granter.sign.publicKey] },
          ),
        ),
      ).toBe('wrong_context');
    }
    expect(code(() => rewrapKey({ envelopeHash: hashes[0] }, rewrapInput))).toBe('not_a_recipient');
  });

  test('a server lying about the hash gets a grant that opens nothing', () => {
    // The granter is given envelope 0's key entry under envelope 1's hash.
    const leaf = rewrapKey({ ...sourceOf(0), envelopeHash: hashes[1] }, rewrapInput);
    const [grant] = signGrantBatch([leaf], granter.sign).grants;
    expect(code(() => openAsColleague(envelopes[1], grant))).toBe('decrypt_failed');
    expect(code(() => openAsColleague(envelopes[0], grant))).toBe('wrong_context');
  });
});

describe('a v2 grant refuses tampering', () => {
  const grants = batch(7);
  const target = grants[5];
  const verify = (g: BatchKeyGrant, hash = hashes[5], trusted = [granter.sign.publicKey]) =>
    runSync(verifyAnyGrantSteps(g, hash, trusted, naclBackend));
  const flip = (b64: string, bit: number): string => {
    const bytes = Buffer.from(b64, 'base64url');
    bytes[Math.floor(bit / 8) % bytes.length] ^= 1 << (bit % 8);
    return toBase64url(bytes);
  };

  test('it verifies untouched', () => expect(() => verify(target)).not.toThrow());

  test.each(['envelopeHash', 'kid', 'epk', 'wrapped', 'sig', 'path'] as const)('a flipped bit in %s', (field) => {
    fc.assert(
      fc.property(fc.nat({ max: 511 }), (bit) => {
        const tampered =
          field === 'path'
            ? { ...target, path: target.path.map((p, i) => (i === bit % target.path.length ? flip(p, bit % 256) : p)) }
            : { ...target, [field]: flip(target[field], bit) };
        // A changed envelopeHash is checked here against the changed value, so the leaf itself must fail:
        // any change to a leaf or a path folds to another root, which the signature does not cover.
        expect(code(() => verify(tampered, tampered.envelopeHash))).toBe('bad_signature');
      }),
      { numRuns: 10 },
    );
  });

  test('another grant’s path, a wrong index or size, another granter, another envelope', () => {
    expect(code(() => verify({ ...target, path: grants[4].path }))).toBe('bad_signature');
    expect(code(() => verify({ ...target, index: 4 }))).toBe('bad_signature');
    expect(code(() => verify({ ...target, index: 7 }))).toBe('bad_grant');
    expect(code(() => verify({ ...target, count: 8 }))).toBe('bad_signature');
    expect(code(() => verify({ ...target, count: 0 }))).toBe('bad_grant');
    // a path too long or too short for (index, count)
    expect(code(() => verify({ ...target, path: [...target.path, target.path[0]] }))).toBe('bad_grant');
    expect(code(() => verify({ ...target, path: target.path.slice(1) }))).toBe('bad_grant');
    expect(code(() => verify({ ...target, count: 1e6 }))).toBe('bad_grant');
    expect(code(() => verify({ ...target, granter: toBase64url(stranger.publicKey) }, hashes[5], [stranger.publicKey]))).toBe(
      'bad_signature',
    );
    expect(code(() => verify(target, hashes[5], [stranger.publicKey]))).toBe('untrusted_signer');
    expect(code(() => verify({ ...target, envelopeHash: hashes[4] }))).toBe('wrong_context');
    expect(code(() => verify({ ...target, path: ['not base64!'] }))).toBe('bad_base64');
    expect(code(() => openAsColleague(envelopes[4], target))).toBe('wrong_context');
  });
});

describe('v1 grants stay readable', () => {
  test('a v1 grant opens its envelope as before', () => {
    const v1 = makeGrant(envelopes[3], { box: granter.box, recipient: colleague.box.publicKey, granter: granter.sign });
    expect(v1.v).toBe(1);
    expect(openAsColleague(envelopes[3], v1).body.text).toBe('testimony 3');
    expect(code(() => openAsColleague(envelopes[3], { ...v1, wrapped: batch(1)[0].wrapped }))).toBe('bad_signature');
  });
});
