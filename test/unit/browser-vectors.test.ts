import { runProtocolVectors } from '../vectors/browser-vectors';
import vectors from '../vectors/protocol-v1.json';

describe('browser vector check (test/vectors/browser-vectors.ts) under Node', () => {
  it('reports no failure on the committed vectors', async () => {
    expect(await runProtocolVectors(vectors)).toEqual([]);
  });

  it('reports altered vectors (it can fail)', async () => {
    const altered = JSON.parse(JSON.stringify(vectors));
    altered.staffKdf.authKeyHex = '00'.repeat(32);
    altered.envelope.envelope.sig = altered.envelope.envelope.sig.replace(/^./, (c: string) => (c === 'A' ? 'B' : 'A'));
    altered.survivorKdf.params.m = 1024;
    const failures = await runProtocolVectors(altered);
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^staffKdf\.authKey/),
        expect.stringMatching(/^envelope\.sig/),
        expect.stringMatching(/^survivorKdf\.params/),
        expect.stringMatching(/does not open for recipient 0/),
      ]),
    );
  });
});
