/**
 * The publishing and signing known-answer vectors (test/vectors/publishing-v1.json, docs/api.md
 * 2.12) recomputed with protocol/ under Node; test/e2e/vectors.e2e.test.ts runs the same check
 * in Chromium.
 */
import { runPublishingVectors } from '../vectors/publishing-vectors';
import vectors from '../vectors/publishing-v1.json';

type Vectors = typeof vectors;

const altered = (change: (v: Vectors) => void) => {
  const copy = JSON.parse(JSON.stringify(vectors)) as Vectors;
  change(copy);
  return copy;
};
/** the same base64url string with its first character changed */
const flip = (s: string) => s.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));

describe('publishing vectors (test/vectors/publishing-vectors.ts) under Node', () => {
  it('reports no failure on the committed vectors', async () => {
    expect(await runPublishingVectors(vectors)).toEqual([]);
  });

  // Each alteration lands in its own section, so one run reports them all.
  it.each([
    [
      'keysets, envelopes and digests',
      (v: Vectors) => {
        v.keysets[0].keysetHash = flip(v.keysets[0].keysetHash);
        v.keysets[1].signed.sig = flip(v.keysets[1].signed.sig);
        v.testimony.signedPart = v.testimony.signedPart.replace('"v":1', '"v":2');
        v.message.envelopeHash = flip(v.message.envelopeHash);
        v.draft.keyDigests[2] = flip(v.draft.keyDigests[2]);
      },
      [/^keysets\[0\]\.keysetHash/, /^keysets\[1\]\.sig/, /^testimony\.signedPart/, /^message\.envelopeHash/, /^draft\.keyDigests\[2\]/],
    ],
    [
      'a grant, a story and the statements',
      (v: Vectors) => {
        v.grant.grant.sig = flip(v.grant.grant.sig);
        v.story.story.text += ' ';
        v.consent.sig = flip(v.consent.sig);
        v.revocation.statement.issuedDay = '2026-02-11';
      },
      [/^grant\.grant/, /^story\.textHash/, /^consent\.sig/, /^revocation\.(signedMessage|sig)/],
    ],
  ])('reports altered vectors: %s (it can fail)', async (_what, change, expected) => {
    const failures = await runPublishingVectors(altered(change));
    expect(failures).toEqual(expect.arrayContaining(expected.map((re) => expect.stringMatching(re))));
  });
});
