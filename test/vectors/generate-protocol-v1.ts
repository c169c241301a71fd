/**
 * Generates test/vectors/protocol-v1.json. Run it ONCE (the file is committed; tests only read it):
 *
 *   npx esbuild test/vectors/generate-protocol-v1.ts --bundle --platform=node --external:argon2 \
 *     --outfile=/tmp/gen-protocol-v1.js && NODE_PATH=$PWD/node_modules node /tmp/gen-protocol-v1.js
 *
 * The KDF vectors do NOT come from protocol/: argon2id is the native `argon2` package (the
 * reference C implementation), SHA-512, Ed25519 and X25519 are node:crypto (OpenSSL). So the
 * tests that recompute them with protocol/ (hash-wasm + tweetnacl) are a cross-implementation check.
 *
 * The envelope vector is necessarily produced by protocol/ (sealEnvelope with a deterministic
 * random), so it is a regression vector that pins the wire format; its key ids and signature
 * are still checked here with node:crypto before it is written.
 */
import * as argon2native from 'argon2';
import { createHash, createPrivateKey, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { toBase64url } from '../../protocol/encoding';
import { sealEnvelope, signedPart } from '../../protocol/envelope';
import { deterministicRandom, toHex } from './deterministic-random';

const nodeSha512 = (parts: (string | Uint8Array)[]): Buffer => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};
const sub = (master: Buffer, label: string) => nodeSha512(['awaaz/v1/' + label, master]).subarray(0, 32);

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
function publicFromRaw(prefix: Buffer, secret: Uint8Array): string {
  const priv = createPrivateKey({ key: Buffer.concat([prefix, secret]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(priv).export({ format: 'jwk' }) as { x: string };
  return jwk.x; // base64url without padding, like protocol/
}

async function nativeArgon2id(password: string, salt: Buffer, m: number, t: number, p: number): Promise<Buffer> {
  return argon2native.hash(password, {
    type: argon2native.argon2id,
    raw: true,
    salt,
    memoryCost: m,
    timeCost: t,
    parallelism: p,
    hashLength: 32,
  });
}

async function main(): Promise<void> {
  // Survivor KDF (protocol constants SURVIVOR_KDF: m = 19 MiB, t = 2, p = 1).
  const codename = 'abandon ability able about above absent absorb abstract';
  const instanceId = 'AAAAAAAAAAAAAAAAAAAAAA';
  const survivorParams = { alg: 'argon2id', m: 19456, t: 2, p: 1 } as const;
  const survivorSaltUtf8 = 'awaaz/v1/survivor/' + instanceId;
  const survivorMaster = await nativeArgon2id(
    codename,
    Buffer.from(survivorSaltUtf8, 'utf8'),
    survivorParams.m,
    survivorParams.t,
    survivorParams.p,
  );

  // Staff KDF (protocol constants STAFF_KDF: m = 64 MiB, t = 3, p = 1), salt = bytes 0..15.
  const password = 'correct horse battery staple';
  const staffSalt = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
  const staffParams = { alg: 'argon2id', m: 65536, t: 3, p: 1 } as const;
  const staffMaster = await nativeArgon2id(password, staffSalt, staffParams.m, staffParams.t, staffParams.p);

  // Envelope: fixed keys from a deterministic stream, sealed with a deterministic random.
  const keyStream = deterministicRandom('protocol-v1/envelope-keys');
  const recipientSecretKeys = [keyStream(32), keyStream(32)];
  const signerSeed = keyStream(32);
  const recipients = recipientSecretKeys.map((sk) => nacl.box.keyPair.fromSecretKey(sk));
  const signer = nacl.sign.keyPair.fromSeed(signerSeed);
  const kind = 'testimony';
  const caseId = toBase64url(Uint8Array.from({ length: 16 }, (_, i) => i));
  const body = {
    text: 'Known-answer testimony. Ünïcødé: हिंदी, اردو, 🙂 — and "quotes" \\ backslash.',
    occurredDay: '2024-01-31',
    tags: ['workplace', 'verbal'],
  };
  const randomSeed = 'protocol-v1/envelope';
  const envelope = sealEnvelope({
    kind,
    caseId,
    body,
    recipients: recipients.map((r) => r.publicKey),
    signer,
    random: deterministicRandom(randomSeed),
  });

  // Independent checks of what can be checked without XSalsa20-Poly1305.
  const boxPks = recipientSecretKeys.map((sk) => publicFromRaw(PKCS8_X25519, sk));
  boxPks.forEach((pk, i) => {
    if (pk !== toBase64url(recipients[i].publicKey)) throw new Error('X25519 public key mismatch');
    const kid = nodeSha512([Buffer.from(pk, 'base64url')])
      .subarray(0, 16)
      .toString('base64url');
    if (kid !== envelope.keys[i].kid) throw new Error('kid mismatch');
  });
  const signerPk = publicFromRaw(PKCS8_ED25519, signerSeed);
  if (signerPk !== envelope.signer) throw new Error('signer mismatch');
  const spki = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: signerPk }, format: 'jwk' });
  if (!nodeVerify(null, signedPart(envelope), spki, Buffer.from(envelope.sig, 'base64url')))
    throw new Error('signature does not verify with node:crypto');

  const vectors = {
    description:
      'Awaaz protocol v1 known-answer vectors. KDF outputs were computed with the native argon2 package and node:crypto, ' +
      'independently of protocol/. The envelope is sealEnvelope() with deterministicRandom(envelope.randomSeed) ' +
      '(test/vectors/deterministic-random.ts). Generated by test/vectors/generate-protocol-v1.ts; do not edit by hand.',
    survivorKdf: {
      codename,
      instanceId,
      saltUtf8: survivorSaltUtf8,
      params: survivorParams,
      masterHex: survivorMaster.toString('hex'),
      signPk: publicFromRaw(PKCS8_ED25519, sub(survivorMaster, 'sign')),
      boxPk: publicFromRaw(PKCS8_X25519, sub(survivorMaster, 'box')),
    },
    staffKdf: {
      password,
      saltHex: staffSalt.toString('hex'),
      params: staffParams,
      masterHex: staffMaster.toString('hex'),
      wrapKeyHex: sub(staffMaster, 'wrap').toString('hex'),
      authKeyHex: sub(staffMaster, 'auth').toString('hex'),
    },
    envelope: {
      randomSeed,
      recipientSecretKeysHex: recipientSecretKeys.map(toHex),
      recipientBoxPks: boxPks,
      signerSeedHex: toHex(signerSeed),
      signerPk,
      kind,
      caseId,
      body,
      envelope,
    },
  };
  const out = join(process.cwd(), 'test/vectors/protocol-v1.json');
  writeFileSync(out, JSON.stringify(vectors, null, 2) + '\n');
  console.log('wrote', out);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
