/**
 * Recomputes the publishing and signing known-answer vectors (publishing-v1.json) with
 * protocol/ and returns one message per mismatch (an empty list when everything matches).
 *
 * DOM-free and Node-free, like browser-vectors.ts: test/e2e/vectors.e2e.test.ts runs it inside
 * Chromium (WebCrypto's SHA-256 for the story hash, the browser's tweetnacl), and
 * test/unit/publishing-vectors.test.ts under Node.
 *
 * With a `provider`, every signature, verification and key agreement goes through the async
 * variants (sealEnvelopeAsync, openEnvelopeAsync, makeGrantAsync, ...) and that provider, so
 * the same vectors prove that WebCrypto and tweetnacl give the same bytes (provider-vectors.ts).
 */
import nacl from 'tweetnacl';
import { canonicalJson, fromBase64url, fromUtf8, toBase64url } from '../../protocol/encoding';
import {
  eraseKey,
  envelopeHash,
  keyDigest,
  keyId,
  makeGrant,
  makeGrantAsync,
  openEnvelope,
  openEnvelopeAsync,
  sealEnvelope,
  sealEnvelopeAsync,
  signedPart,
  verifyEnvelope,
  verifyEnvelopeAsync,
  verifyGrant,
  type GrantInput,
  type OpenInput,
  type SealInput,
  type Envelope,
  type EnvelopeKind,
  type KeyGrant,
} from '../../protocol/envelope';
import { fingerprint, keysetHash, verifyKeysetHistoryAsync, type KeysetExpectations, type SignedKeyset } from '../../protocol/keyset';
import { signKeyset, verifyKeysetHistory } from '../../protocol/keyset-signing';
import { signStatement, signStatementAsync, storyHash, verifyStatement, type SurvivorStatement } from '../../protocol/consent';
import type { CryptoProvider } from '../../protocol/crypto-provider';
import { deterministicRandom, fromHex } from './deterministic-random';

export async function runPublishingVectors(vectors: any, provider?: CryptoProvider): Promise<string[]> {
  const failures: string[] = [];
  // The sync functions (tweetnacl), or their async variants with `provider`.
  const p = provider;
  const seal = async (input: SealInput) => (p ? sealEnvelopeAsync(input, p) : sealEnvelope(input));
  const open = async (env: Envelope, input: OpenInput) => (p ? openEnvelopeAsync(env, input, p) : openEnvelope(env, input));
  const verify = async (env: Envelope, signers: Uint8Array[]) => (p ? verifyEnvelopeAsync(env, signers, p) : verifyEnvelope(env, signers));
  const grantOf = async (env: Envelope, input: GrantInput) => (p ? makeGrantAsync(env, input, p) : makeGrant(env, input));
  const verifyHistory = async (h: SignedKeyset[], e: KeysetExpectations) =>
    p ? verifyKeysetHistoryAsync(h, e, p) : verifyKeysetHistory(h, e);
  const signSt = async (st: SurvivorStatement, sk: Uint8Array) => (p ? signStatementAsync(st, sk, p) : signStatement(st, sk));
  const expectEqual = (what: string, actual: unknown, expected: unknown): void => {
    if (actual !== expected) failures.push(`${what}: expected ${String(expected)}, got ${String(actual)}`);
  };
  const section = async (name: string, run: () => Promise<void> | void): Promise<void> => {
    try {
      await run();
    } catch (e) {
      failures.push(`${name}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  };
  const k = vectors.keys;
  const signPair = (hex: string) => nacl.sign.keyPair.fromSeed(fromHex(hex));
  const boxPair = (hex: string) => nacl.box.keyPair.fromSecretKey(fromHex(hex));
  const people = {
    moderator: { sign: signPair(k.moderator.signSeedHex), box: boxPair(k.moderator.boxSecretKeyHex) },
    advocate: { sign: signPair(k.advocate.signSeedHex), box: boxPair(k.advocate.boxSecretKeyHex) },
    survivor: { sign: signPair(k.survivor.signSeedHex), box: boxPair(k.survivor.boxSecretKeyHex) },
  };
  const instance = signPair(k.instance.signSeedHex);
  const { caseId, draftId, instanceId } = vectors.ids;

  await section('keys', () => {
    expectEqual('keys.instance.signPk', toBase64url(instance.publicKey), k.instance.signPk);
    expectEqual('keys.instance.fingerprint', fingerprint(instance.publicKey), k.instance.fingerprint);
    for (const [name, p] of Object.entries(people)) {
      expectEqual(`keys.${name}.signPk`, toBase64url(p.sign.publicKey), k[name].signPk);
      expectEqual(`keys.${name}.boxPk`, toBase64url(p.box.publicKey), k[name].boxPk);
      expectEqual(`keys.${name}.kid`, keyId(p.box.publicKey), k[name].kid);
    }
  });

  await section('keysets', async () => {
    for (const [i, v] of (
      vectors.keysets as { signed: SignedKeyset; canonicalJson: string; signedMessage: string; keysetHash: string }[]
    ).entries()) {
      expectEqual(`keysets[${i}].canonicalJson`, canonicalJson(v.signed.keyset), v.canonicalJson);
      expectEqual(`keysets[${i}].signedMessage`, 'awaaz/v1/keyset\n' + canonicalJson(v.signed.keyset), v.signedMessage);
      expectEqual(`keysets[${i}].keysetHash`, keysetHash(v.signed.keyset), v.keysetHash);
      const resigned = signKeyset(v.signed.keyset, instance);
      expectEqual(`keysets[${i}].sig`, resigned.sig, v.signed.sig);
      expectEqual(`keysets[${i}].instancePk`, resigned.instancePk, v.signed.instancePk);
      if (i > 0) expectEqual(`keysets[${i}].prev`, v.signed.keyset.prev, vectors.keysets[i - 1].keysetHash);
    }
    await verifyHistory(
      vectors.keysets.map((v: { signed: SignedKeyset }) => v.signed),
      { instanceId, pinnedFingerprint: k.instance.fingerprint },
    );
  });

  /** Seals again from the same seed and compares, then checks the signed part, digests and hash given. */
  const envelopeSection = (name: string, signer: nacl.SignKeyPair, readers: (keyof typeof people)[], extra: { prev?: string } = {}) =>
    section(name, async () => {
      const v = vectors[name];
      const expected = v.envelope as Envelope;
      const sealed = await seal({
        kind: expected.kind as EnvelopeKind,
        caseId,
        prev: extra.prev,
        body: v.body,
        recipients: readers.map((r) => people[r].box.publicKey),
        signer,
        random: deterministicRandom(v.randomSeed),
      });
      expectEqual(`${name}.envelope`, canonicalJson(sealed), canonicalJson(expected));
      expectEqual(`${name}.signedPart`, fromUtf8(signedPart(expected)), v.signedPart);
      expectEqual(`${name}.envelopeHash`, envelopeHash(expected), v.envelopeHash);
      expected.keys.forEach((entry, i) => expectEqual(`${name}.keyDigests[${i}]`, keyDigest(entry), v.keyDigests[i]));
      expectEqual(`${name}.signedPart names ciphertextHash`, v.signedPart.includes(`"ciphertextHash":"${v.ciphertextHash}"`), true);
      await verify(expected, [signer.publicKey]);
      for (const r of readers) {
        const opened = await open(expected, {
          box: people[r].box,
          expectedKind: expected.kind,
          expectedCaseId: caseId,
          trustedSigners: [signer.publicKey],
        });
        expectEqual(`${name} opened by ${r}`, canonicalJson(opened.body), canonicalJson(JSON.parse(v.plaintext)));
      }
    });

  await envelopeSection('testimony', people.survivor.sign, ['survivor', 'moderator']);
  await section('testimony erased', async () => {
    const v = vectors.testimony;
    const erased = eraseKey(v.envelope, v.erasedKid);
    expectEqual('testimony.erasedEnvelope', canonicalJson(erased), canonicalJson(v.erasedEnvelope));
    expectEqual('testimony.erasedEnvelope hash', envelopeHash(v.erasedEnvelope), v.envelopeHash);
    expectEqual('testimony.erasedEnvelope signedPart', fromUtf8(signedPart(v.erasedEnvelope)), v.signedPart);
    await verify(v.erasedEnvelope, [people.survivor.sign.publicKey]);
  });
  await envelopeSection('message', people.moderator.sign, ['survivor', 'moderator'], { prev: vectors.testimony.envelopeHash });
  await section('message.prev', () => expectEqual('message.envelope.prev', vectors.message.envelope.prev, vectors.testimony.envelopeHash));

  await section('grant', async () => {
    const v = vectors.grant;
    const testimony = vectors.testimony.envelope as Envelope;
    const grant = await grantOf(testimony, {
      box: people.survivor.box,
      recipient: people.advocate.box.publicKey,
      granter: people.survivor.sign,
      random: deterministicRandom(v.randomSeed),
    });
    expectEqual('grant.grant', canonicalJson(grant), canonicalJson(v.grant));
    const g = v.grant as KeyGrant;
    expectEqual(
      'grant.signedMessage',
      'awaaz/v1/grant\n' + canonicalJson({ v: g.v, envelopeHash: g.envelopeHash, kid: g.kid, epk: g.epk, wrapped: g.wrapped }),
      v.signedMessage,
    );
    expectEqual('grant.envelopeHash', g.envelopeHash, vectors.testimony.envelopeHash);
    verifyGrant(g, testimony, [people.survivor.sign.publicKey]);
    const opened = await open(testimony, {
      box: people.advocate.box,
      expectedKind: 'testimony',
      expectedCaseId: caseId,
      trustedSigners: [people.survivor.sign.publicKey],
      grants: [g],
      trustedGranters: [people.survivor.sign.publicKey],
    });
    expectEqual(
      'testimony opened by advocate through the grant',
      canonicalJson(opened.body),
      canonicalJson(JSON.parse(vectors.testimony.plaintext)),
    );
  });

  await envelopeSection('draft', people.advocate.sign, ['survivor', 'moderator', 'advocate']);
  await section('draft.body', () => {
    const d = vectors.draft.body.draft;
    expectEqual('draft.body.draftId', d.draftId, draftId);
    expectEqual('draft story', canonicalJson({ title: d.title, text: d.text, context: d.context }), canonicalJson(vectors.story.story));
  });

  await section('story', async () => {
    const v = vectors.story;
    expectEqual('story.canonicalJson', canonicalJson({ v: 1, ...v.story }), v.canonicalJson);
    expectEqual('story.textHash', await storyHash(v.story), v.textHash);
  });

  for (const name of ['consent', 'revocation'] as const) {
    await section(name, async () => {
      const v = vectors[name] as { statement: SurvivorStatement; signedMessage: string; sig: string };
      expectEqual(`${name}.signedMessage`, `awaaz/v1/${v.statement.type}\n` + canonicalJson(v.statement), v.signedMessage);
      expectEqual(`${name}.sig`, await signSt(v.statement, people.survivor.sign.secretKey), v.sig);
      verifyStatement(v.statement, v.sig, k.survivor.signPk);
      expectEqual(`${name}.statement names the case`, v.statement.caseId, caseId);
      if (v.statement.type === 'publish') expectEqual('consent.textHash', v.statement.textHash, vectors.story.textHash);
    });
  }
  // fromBase64url is strict: every base64url value in the file has its one canonical spelling.
  await section('base64url', () => {
    for (const value of [vectors.testimony.envelopeHash, vectors.grant.grant.sig, vectors.consent.sig, vectors.story.textHash])
      fromBase64url(value);
  });
  return failures;
}
