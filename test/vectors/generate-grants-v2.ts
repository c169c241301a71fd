/**
 * Generates test/vectors/grants-v2.json: known answers for key grants v2 (docs/api.md 2.11):
 * five envelopes sealed to a granter, and batches of 1, 2, 3 and 5 grants re-wrapping their
 * keys to a recipient: each leaf's bytes and hash, the root, the signed message, the batch
 * signature and the stored grants with their paths. Deterministic: run it again and the file
 * does not change.
 *
 *   npx esbuild test/vectors/generate-grants-v2.ts --bundle --platform=node \
 *     --outfile=/tmp/gen-grants-v2.js && node /tmp/gen-grants-v2.js
 *
 * Everything is made by protocol/ from fixed seeds, then every hash, the tree (an independent
 * RFC 9162 recursion here) and every signature are checked with node:crypto (OpenSSL) before
 * the file is written, so the file does not merely repeat protocol/'s own answers.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { canonicalJson, toBase64url } from '../../protocol/encoding';
import { envelopeHash, keyId, sealEnvelope, type Envelope } from '../../protocol/envelope';
import { grantLeafBytes } from '../../protocol/grant-tree';
import { rewrapKey, signGrantBatch } from '../../protocol/grant-batch';
import { deterministicRandom, toHex } from './deterministic-random';

const h = (bytes: Uint8Array | Buffer) => createHash('sha512').update(bytes).digest().subarray(0, 32);
/** RFC 9162 2.1.1, written again here from the RFC, over already hashed leaves. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return h(Buffer.concat([Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k))]));
}
function must(what: string, ok: boolean): void {
  if (!ok) throw new Error(`${what}: node:crypto disagrees with protocol/`);
}

function main(): void {
  const seeds = deterministicRandom('grants-v2/keys');
  const granterSignSeed = seeds(32);
  const granterBoxSecretKey = seeds(32);
  const recipientBoxSecretKey = seeds(32);
  const survivorSignSeed = seeds(32);
  const survivorBoxSecretKey = seeds(32);
  const caseId = toBase64url(seeds(16));
  const granter = { sign: nacl.sign.keyPair.fromSeed(granterSignSeed), box: nacl.box.keyPair.fromSecretKey(granterBoxSecretKey) };
  const recipient = nacl.box.keyPair.fromSecretKey(recipientBoxSecretKey);
  const survivor = { sign: nacl.sign.keyPair.fromSeed(survivorSignSeed), box: nacl.box.keyPair.fromSecretKey(survivorBoxSecretKey) };

  const bodies: Record<string, unknown>[] = [];
  const envelopes: Envelope[] = [];
  for (let i = 0; i < 5; i++) {
    const kind = i === 0 ? 'testimony' : 'message';
    const body =
      i === 0
        ? { testimony: { what: 'Known-answer testimony for grants v2', when: '', context: 'workplace', wantsReplies: true } }
        : { text: `message ${i}: یہ پیغام` };
    const env = sealEnvelope({
      kind,
      caseId,
      prev: i === 0 ? undefined : envelopeHash(envelopes[i - 1]),
      body,
      recipients: [survivor.box.publicKey, granter.box.publicKey],
      signer: survivor.sign,
      random: deterministicRandom(`grants-v2/envelope-${i}`),
    });
    envelopes.push(env);
    bodies.push({ ...body, v: 1, kind, caseId });
  }
  const myKid = keyId(granter.box.publicKey);
  const sourceOf = (env: Envelope) => {
    const key = env.keys.find((k) => k.kid === myKid)!;
    return { envelopeHash: envelopeHash(env), key: { kid: key.kid, epk: key.epk!, wrapped: key.wrapped! } };
  };
  const granterPk = toBase64url(granter.sign.publicKey);
  const signerKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: granterPk }, format: 'jwk' });

  const batches = [1, 2, 3, 5].map((size) => {
    const randomSeed = `grants-v2/batch-${size}`;
    const random = deterministicRandom(randomSeed);
    const envelopeIndexes = Array.from({ length: size }, (_, i) => i);
    const sources = envelopeIndexes.map((i) => sourceOf(envelopes[i]));
    const leaves = sources.map((s) => rewrapKey(s, { box: granter.box, recipient: recipient.publicKey, trustedGranters: [], random }));
    leaves.forEach((l, i) => must(`leaf ${i} bytes`, Buffer.from(grantLeafBytes(l)).equals(leafSpec(l))));
    const leafHashes = leaves.map((l) => h(Buffer.concat([Buffer.of(0), leafSpec(l)])));
    const root = mth(leafHashes);
    const signedMessage = 'awaaz/v2/grant-batch\n' + canonicalJson({ v: 2, granter: granterPk, root: toBase64url(root), count: size });
    const { sig, grants } = signGrantBatch(leaves, granter.sign);
    must(`batch of ${size}: signature`, nodeVerify(null, Buffer.from(signedMessage), signerKey, Buffer.from(sig, 'base64url')));
    return {
      randomSeed,
      envelopeIndexes,
      sources,
      granter: granterPk,
      leaves: leaves.map((leaf, i) => ({ leaf, bytesUtf8: leafSpec(leaf).toString('utf8'), leafHashHex: toHex(leafHashes[i]) })),
      rootHex: toHex(root),
      signedMessage,
      sig,
      grants,
    };
  });

  const out = {
    description:
      'Key grants v2 (docs/api.md 2.11): batches of grants signed once over a Merkle tree (RFC 9162 shape, SHA-512 truncated to 32 bytes, 0x00 leaf and 0x01 node prefixes). Generated by test/vectors/generate-grants-v2.ts, checked with node:crypto.',
    granterSignSeedHex: toHex(granterSignSeed),
    granterBoxSecretKeyHex: toHex(granterBoxSecretKey),
    recipientBoxSecretKeyHex: toHex(recipientBoxSecretKey),
    survivorSignSeedHex: toHex(survivorSignSeed),
    caseId,
    envelopes,
    bodies,
    batches,
  };
  writeFileSync(join(process.cwd(), 'test/vectors/grants-v2.json'), JSON.stringify(out, null, 2) + '\n');
}

/** The leaf's bytes written from the spec (docs/api.md 2.11), to compare with grantLeafBytes. */
function leafSpec(l: { envelopeHash: string; kid: string; epk: string; wrapped: string }): Buffer {
  return Buffer.from('awaaz/v2/grant-leaf\n' + canonicalJson({ envelopeHash: l.envelopeHash, kid: l.kid, epk: l.epk, wrapped: l.wrapped }));
}

main();
