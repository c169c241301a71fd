/**
 * Generates test/vectors/publishing-v1.json: known answers for what a client must sign and
 * hash beyond the KDFs of protocol-v1.json (docs/api.md 2.12): a signed keyset and its chain,
 * an envelope's signed part, key digests and hash (before and after an entry is erased), a
 * message chained to it, a key grant, a draft, a story hash, and a consent and a revocation
 * statement. Deterministic: run it again and the file does not change.
 *
 *   npx esbuild test/vectors/generate-publishing-v1.ts --bundle --platform=node \
 *     --outfile=/tmp/gen-publishing-v1.js && node /tmp/gen-publishing-v1.js
 *
 * Everything is made by protocol/ from fixed seeds (deterministicRandom), then every hash and
 * signature that does not need XSalsa20-Poly1305 is checked here with node:crypto (OpenSSL)
 * before the file is written, so the file does not merely repeat protocol/'s own answers.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { canonicalJson, fromUtf8, toBase64url } from '../../protocol/encoding';
import { eraseKey, envelopeHash, keyDigest, keyId, makeGrant, sealEnvelope, signedPart, type Envelope } from '../../protocol/envelope';
import { fingerprint, keysetHash, type Keyset } from '../../protocol/keyset';
import { signKeyset } from '../../protocol/keyset-signing';
import { signStatement, storyHash, type ConsentStatement, type RevocationStatement } from '../../protocol/consent';
import { deterministicRandom, toHex } from './deterministic-random';

const b64 = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString('base64url');
const sha512 = (bytes: Uint8Array | string) => createHash('sha512').update(bytes).digest();
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest();
function mustVerify(what: string, message: string | Uint8Array, signerPk: string, sig: string): void {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: signerPk }, format: 'jwk' });
  if (!nodeVerify(null, typeof message === 'string' ? Buffer.from(message, 'utf8') : message, key, Buffer.from(sig, 'base64url'))) {
    throw new Error(`${what}: the signature does not verify with node:crypto`);
  }
}
function mustEqual(what: string, actual: string, expected: string): void {
  if (actual !== expected) throw new Error(`${what}: node:crypto gives ${expected}, protocol/ gives ${actual}`);
}

async function main(): Promise<void> {
  // Fixed key material: 32-byte seeds and secret keys from one deterministic stream.
  const seeds = deterministicRandom('publishing-v1/keys');
  const instanceSeed = seeds(32);
  const people = {
    moderator: {
      signSeed: seeds(32),
      boxSecretKey: seeds(32),
      staffId: toBase64url(seeds(16)),
      username: 'mod.one',
      roles: ['admin', 'moderator'] as const,
    },
    advocate: {
      signSeed: seeds(32),
      boxSecretKey: seeds(32),
      staffId: toBase64url(seeds(16)),
      username: 'adv.one',
      roles: ['advocate'] as const,
    },
  };
  const survivorSeeds = { signSeed: seeds(32), boxSecretKey: seeds(32) };
  const instanceId = toBase64url(seeds(16));
  const caseId = toBase64url(seeds(16));
  const draftId = toBase64url(seeds(16));

  const instance = nacl.sign.keyPair.fromSeed(instanceSeed);
  const sign = (seed: Uint8Array) => nacl.sign.keyPair.fromSeed(seed);
  const box = (sk: Uint8Array) => nacl.box.keyPair.fromSecretKey(sk);
  const moderator = { sign: sign(people.moderator.signSeed), box: box(people.moderator.boxSecretKey) };
  const advocate = { sign: sign(people.advocate.signSeed), box: box(people.advocate.boxSecretKey) };
  const survivor = { sign: sign(survivorSeeds.signSeed), box: box(survivorSeeds.boxSecretKey) };
  const member = (p: (typeof people)['moderator' | 'advocate'], keys: { sign: nacl.SignKeyPair; box: nacl.BoxKeyPair }) => ({
    staffId: p.staffId,
    username: p.username,
    roles: [...p.roles],
    boxPk: toBase64url(keys.box.publicKey),
    signPk: toBase64url(keys.sign.publicKey),
  });

  // Keysets: version 1 (the admin and moderator alone), then version 2 adding an advocate.
  const keyset1: Keyset = {
    v: 1,
    instanceId,
    version: 1,
    prev: null,
    issuedDay: '2026-01-15',
    members: [member(people.moderator, moderator)],
  };
  const signed1 = signKeyset(keyset1, instance);
  const keyset2: Keyset = {
    v: 1,
    instanceId,
    version: 2,
    prev: keysetHash(keyset1),
    issuedDay: '2026-02-01',
    members: [member(people.moderator, moderator), member(people.advocate, advocate)],
  };
  const signed2 = signKeyset(keyset2, instance);
  const keysetVector = (signed: ReturnType<typeof signKeyset>) => {
    const canonical = canonicalJson(signed.keyset);
    const signedMessage = 'awaaz/v1/keyset\n' + canonical;
    mustEqual('keysetHash', keysetHash(signed.keyset), b64(sha512(canonical)));
    mustVerify(`keyset ${signed.keyset.version}`, signedMessage, signed.instancePk, signed.sig);
    return { signed, canonicalJson: canonical, signedMessage, keysetHash: keysetHash(signed.keyset) };
  };
  const instancePk = toBase64url(instance.publicKey);
  mustEqual(
    'fingerprint',
    fingerprint(instancePk),
    sha512(instance.publicKey).subarray(0, 20).toString('hex').toUpperCase().match(/.{4}/g)!.join(' '),
  );

  // A testimony sealed to the survivor and the moderator, signed by the survivor.
  const testimonyBody = {
    testimony: { what: 'Known-answer testimony: میرے ساتھ کام پر یہ ہوا۔', when: 'last spring', context: 'workplace', wantsReplies: true },
  };
  const testimonyRandomSeed = 'publishing-v1/testimony';
  const testimony = sealEnvelope({
    kind: 'testimony',
    caseId,
    body: testimonyBody,
    recipients: [survivor.box.publicKey, moderator.box.publicKey],
    signer: survivor.sign,
    random: deterministicRandom(testimonyRandomSeed),
  });
  const envelopeVector = (env: Envelope, randomSeed: string, body: Record<string, unknown>) => {
    const part = fromUtf8(signedPart(env));
    const ciphertextHash = b64(sha512(Buffer.from(env.ciphertext, 'base64url')));
    const keyDigests = env.keys.map((k) => b64(sha512(canonicalJson({ kid: k.kid, epk: k.epk, wrapped: k.wrapped })).subarray(0, 32)));
    env.keys.forEach((k, i) => mustEqual(`keyDigest ${i}`, keyDigest(k), keyDigests[i]));
    const expectedPart = canonicalJson({
      v: env.v,
      kind: env.kind,
      caseId: env.caseId,
      prev: env.prev,
      ciphertextHash,
      keys: env.keys.map((k, i) => ({ kid: k.kid, digest: keyDigests[i] })),
    });
    mustEqual('signedPart', part, expectedPart);
    mustEqual('envelopeHash', envelopeHash(env), b64(sha512(part)));
    mustVerify(`${env.kind} envelope`, part, env.signer, env.sig);
    return {
      randomSeed,
      body,
      plaintext: JSON.stringify({ ...body, v: 1, kind: env.kind, caseId: env.caseId }),
      envelope: env,
      ciphertextHash,
      keyDigests,
      signedPart: part,
      envelopeHash: envelopeHash(env),
    };
  };
  const testimonyVector = envelopeVector(testimony, testimonyRandomSeed, testimonyBody);
  // The moderator's entry erased (as when a member leaves the keyset): same signed part, same hash.
  const erased = eraseKey(testimony, keyId(moderator.box.publicKey));
  mustEqual('erased envelopeHash', envelopeHash(erased), testimonyVector.envelopeHash);

  // The moderator's reply, chained to the testimony by prev.
  const messageBody = { text: 'A reply that names the testimony in prev.' };
  const messageRandomSeed = 'publishing-v1/message';
  const message = sealEnvelope({
    kind: 'message',
    caseId,
    prev: testimonyVector.envelopeHash,
    body: messageBody,
    recipients: [survivor.box.publicKey, moderator.box.publicKey],
    signer: moderator.sign,
    random: deterministicRandom(messageRandomSeed),
  });

  // The survivor opens the case to advocates: the testimony's key re-wrapped to the advocate.
  const grantRandomSeed = 'publishing-v1/grant';
  const grant = makeGrant(testimony, {
    box: survivor.box,
    recipient: advocate.box.publicKey,
    granter: survivor.sign,
    random: deterministicRandom(grantRandomSeed),
  });
  const grantSignedMessage =
    'awaaz/v1/grant\n' +
    canonicalJson({ v: grant.v, envelopeHash: grant.envelopeHash, kid: grant.kid, epk: grant.epk, wrapped: grant.wrapped });
  mustVerify('grant', grantSignedMessage, grant.granter, grant.sig);
  mustEqual('grant.kid', grant.kid, b64(sha512(advocate.box.publicKey).subarray(0, 16)));

  // The advocate's draft, sealed to the survivor, the moderator and the advocate.
  const story = {
    title: 'What happened at work',
    text: 'A redacted account, in English and اردو, with "quotes" and a line\nbreak.',
    context: 'workplace',
  };
  const draftBody = { draft: { draftId, ...story } };
  const draftRandomSeed = 'publishing-v1/draft';
  const draft = sealEnvelope({
    kind: 'draft',
    caseId,
    body: draftBody,
    recipients: [survivor.box.publicKey, moderator.box.publicKey, advocate.box.publicKey],
    signer: advocate.sign,
    random: deterministicRandom(draftRandomSeed),
  });

  // The story's hash, and the survivor's consent to it and revocation of it.
  const storyCanonical = canonicalJson({ v: 1, title: story.title, text: story.text, context: story.context });
  const textHash = await storyHash(story);
  mustEqual('storyHash', textHash, b64(sha256(Buffer.from(storyCanonical, 'utf8'))));
  const consent: ConsentStatement = { v: 1, type: 'publish', caseId, draftId, textHash, issuedDay: '2026-02-03' };
  const revocation: RevocationStatement = { v: 1, type: 'revoke', caseId, draftId, issuedDay: '2026-02-10' };
  const statementVector = (statement: ConsentStatement | RevocationStatement) => {
    const signedMessage = `awaaz/v1/${statement.type}\n` + canonicalJson(statement);
    const sig = signStatement(statement, survivor.sign.secretKey);
    mustVerify(`${statement.type} statement`, signedMessage, toBase64url(survivor.sign.publicKey), sig);
    return { statement, signedMessage, sig };
  };

  const vectors = {
    description:
      'Awaaz protocol v1 publishing and signing known-answer vectors (docs/api.md 2.12). Keys come from fixed seeds; envelopes ' +
      'and the grant are sealEnvelope()/makeGrant() with deterministicRandom(randomSeed) (test/vectors/deterministic-random.ts). ' +
      'Every "signedMessage", "signedPart" and "canonicalJson" is a string whose UTF-8 bytes are what is signed or hashed. ' +
      'Secret keys and seeds are hex; everything else is base64url as on the wire. Hashes and signatures were checked with ' +
      'node:crypto when written. Generated by test/vectors/generate-publishing-v1.ts; do not edit by hand.',
    keys: {
      instance: { signSeedHex: toHex(instanceSeed), signPk: instancePk, fingerprint: fingerprint(instancePk) },
      moderator: {
        signSeedHex: toHex(people.moderator.signSeed),
        boxSecretKeyHex: toHex(people.moderator.boxSecretKey),
        signPk: toBase64url(moderator.sign.publicKey),
        boxPk: toBase64url(moderator.box.publicKey),
        kid: keyId(moderator.box.publicKey),
      },
      advocate: {
        signSeedHex: toHex(people.advocate.signSeed),
        boxSecretKeyHex: toHex(people.advocate.boxSecretKey),
        signPk: toBase64url(advocate.sign.publicKey),
        boxPk: toBase64url(advocate.box.publicKey),
        kid: keyId(advocate.box.publicKey),
      },
      survivor: {
        signSeedHex: toHex(survivorSeeds.signSeed),
        boxSecretKeyHex: toHex(survivorSeeds.boxSecretKey),
        signPk: toBase64url(survivor.sign.publicKey),
        boxPk: toBase64url(survivor.box.publicKey),
        kid: keyId(survivor.box.publicKey),
      },
    },
    ids: { instanceId, caseId, draftId },
    keysets: [keysetVector(signed1), keysetVector(signed2)],
    testimony: { ...testimonyVector, erasedKid: keyId(moderator.box.publicKey), erasedEnvelope: erased },
    message: envelopeVector(message, messageRandomSeed, messageBody),
    grant: { randomSeed: grantRandomSeed, grant, signedMessage: grantSignedMessage },
    draft: envelopeVector(draft, draftRandomSeed, draftBody),
    story: { story, canonicalJson: storyCanonical, textHash },
    consent: statementVector(consent),
    revocation: statementVector(revocation),
  };
  const out = join(process.cwd(), 'test/vectors/publishing-v1.json');
  writeFileSync(out, JSON.stringify(vectors, null, 2) + '\n');
  console.log('wrote', out);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
