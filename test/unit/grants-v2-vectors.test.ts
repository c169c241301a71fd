/**
 * The key grants v2 known-answer vectors (test/vectors/grants-v2.json, docs/api.md 2.11)
 * recomputed with protocol/ under Node, sync (tweetnacl) and async (the tweetnacl provider);
 * test/e2e/vectors.e2e.test.ts runs the same check in Chromium with WebCrypto.
 */
import { naclProvider } from '../../protocol/crypto-provider';
import { runGrantVectors } from '../vectors/grants-v2-vectors';
import vectors from '../vectors/grants-v2.json';

type Vectors = typeof vectors;
const altered = (change: (v: Vectors) => void) => {
  const copy = JSON.parse(JSON.stringify(vectors)) as Vectors;
  change(copy);
  return copy;
};
/** the same base64url string with its first character changed */
const flip = (s: string) => s.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));

describe('grants v2 vectors (test/vectors/grants-v2-vectors.ts) under Node', () => {
  it('report no failure, sync and through the async provider', async () => {
    expect(await runGrantVectors(vectors)).toEqual([]);
    expect(await runGrantVectors(vectors, naclProvider)).toEqual([]);
  });

  it.each([
    ['root', (v: Vectors) => (v.batches[3].rootHex = '00'.repeat(32)), 'batches[3].root'],
    ['path', (v: Vectors) => (v.batches[2].grants[2].path[0] = flip(v.batches[2].grants[2].path[0])), 'batches[2].grants'],
    ['leaf hash', (v: Vectors) => (v.batches[1].leaves[0].leafHashHex = '11'.repeat(32)), 'batches[1].leaves[0].hash'],
    ['signature', (v: Vectors) => (v.batches[0].sig = flip(v.batches[0].sig)), 'batches[0].sig'],
  ])('report an altered %s', async (_what, change, prefix) => {
    const failures = await runGrantVectors(altered(change));
    expect(failures.some((f) => f.startsWith(prefix))).toBe(true);
  });
});
