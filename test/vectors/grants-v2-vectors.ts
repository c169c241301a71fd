/**
 * Recomputes the key grants v2 known-answer vectors (grants-v2.json, docs/api.md 2.11) with
 * protocol/ and returns one message per mismatch (an empty list when everything matches):
 * each leaf's bytes and hash, each batch's root, signed message, signature and stored grants,
 * the server's check of the batch, and each grant opening its envelope for the recipient.
 *
 * DOM-free and Node-free like the other vector runners: test/unit/grants-v2-vectors.test.ts
 * runs it under Node, test/e2e/vectors.e2e.test.ts inside Chromium. With a `provider`, the
 * re-wrapping, signing and opening go through the async functions and that provider (the
 * browser's WebCrypto), which must give the same bytes as tweetnacl.
 */
import nacl from 'tweetnacl';
import { canonicalJson, fromBase64url, fromUtf8, toBase64url } from '../../protocol/encoding';
import { openEnvelope, openEnvelopeAsync, type Envelope } from '../../protocol/envelope';
import { batchMessage, grantLeafBytes, grantTree, leafHash } from '../../protocol/grant-tree';
import { rewrapKey, rewrapKeyAsync, signGrantBatch, signGrantBatchAsync, verifyGrantBatch } from '../../protocol/grant-batch';
import type { CryptoProvider } from '../../protocol/crypto-provider';
import { deterministicRandom, fromHex, toHex } from './deterministic-random';

export async function runGrantVectors(vectors: any, provider?: CryptoProvider): Promise<string[]> {
  const failures: string[] = [];
  const expectEqual = (what: string, actual: unknown, expected: unknown): void => {
    if (actual !== expected) failures.push(`${what}: expected ${String(expected)}, got ${String(actual)}`);
  };
  const sha512 = (bytes: Uint8Array) => nacl.hash(bytes);
  const granter = {
    sign: nacl.sign.keyPair.fromSeed(fromHex(vectors.granterSignSeedHex)),
    box: nacl.box.keyPair.fromSecretKey(fromHex(vectors.granterBoxSecretKeyHex)),
  };
  const recipient = nacl.box.keyPair.fromSecretKey(fromHex(vectors.recipientBoxSecretKeyHex));
  const envelopes = vectors.envelopes as Envelope[];

  for (const [b, batch] of (vectors.batches as any[]).entries()) {
    const name = `batches[${b}]`;
    try {
      const random = deterministicRandom(batch.randomSeed);
      const input = { box: granter.box, recipient: recipient.publicKey, trustedGranters: [], random };
      const leaves = [];
      for (const [i, source] of (batch.sources as any[]).entries()) {
        leaves.push(provider ? await rewrapKeyAsync(source, input, provider) : rewrapKey(source, input));
        expectEqual(`${name}.leaves[${i}]`, canonicalJson(leaves[i]), canonicalJson(batch.leaves[i].leaf));
        expectEqual(`${name}.leaves[${i}].bytes`, fromUtf8(grantLeafBytes(leaves[i])), batch.leaves[i].bytesUtf8);
        expectEqual(`${name}.leaves[${i}].hash`, toHex(leafHash(leaves[i], sha512)), batch.leaves[i].leafHashHex);
      }
      const { root } = grantTree(
        leaves.map((l) => leafHash(l, sha512)),
        sha512,
      );
      expectEqual(`${name}.root`, toHex(root), batch.rootHex);
      expectEqual(
        `${name}.signedMessage`,
        fromUtf8(batchMessage(toBase64url(granter.sign.publicKey), root, leaves.length)),
        batch.signedMessage,
      );
      const signed = provider ? await signGrantBatchAsync(leaves, granter.sign, provider) : signGrantBatch(leaves, granter.sign);
      expectEqual(`${name}.sig`, signed.sig, batch.sig);
      if ('grants' in signed) expectEqual(`${name}.grants`, canonicalJson(signed.grants), canonicalJson(batch.grants));
      const checked = verifyGrantBatch(
        batch.leaves.map((l: any) => l.leaf),
        batch.granter,
        batch.sig,
      );
      expectEqual(`${name}.verifyGrantBatch`, canonicalJson(checked), canonicalJson(batch.grants));
      for (const [i, grant] of (batch.grants as any[]).entries()) {
        const env = envelopes[batch.envelopeIndexes[i]];
        const open = {
          box: recipient,
          expectedKind: env.kind,
          expectedCaseId: env.caseId,
          trustedSigners: [fromBase64url(env.signer)],
          grants: [grant],
          trustedGranters: [granter.sign.publicKey],
        };
        const opened = provider ? await openEnvelopeAsync(env, open, provider) : openEnvelope(env, open);
        expectEqual(`${name}.grants[${i}] opens`, canonicalJson(opened.body), canonicalJson(vectors.bodies[batch.envelopeIndexes[i]]));
      }
    } catch (e) {
      failures.push(`${name}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }
  return failures;
}
