import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import nacl from 'tweetnacl';
import { concatBytes, fromBase64url, fromUtf8, randomId, toBase64url, utf8 } from '../../protocol/encoding';
import {
  ENVELOPE_ALG,
  envelopeHash,
  eraseKey,
  keyDigest,
  keyId,
  openEnvelope,
  sealEnvelope,
  signedPart,
  verifyEnvelope,
  type Envelope,
  type EnvelopeKind,
} from '../../protocol/envelope';
import { pad, padmeLength } from '../../protocol/padding';
import vectors from '../vectors/protocol-v1.json';
import { deterministicRandom, fromHex } from '../vectors/deterministic-random';
import { roundTripProperty } from './envelope-jobs';
import { alice, bob, caseId, eve, KIND, openAs, resign, seal, signer } from './envelope-helpers';
import { expectProtocolError, nodeSha512 } from './helpers';
import { runInWorker } from './run-in-worker';

describe('known-answer envelope (test/vectors/protocol-v1.json)', () => {
  const v = vectors.envelope;
  const recipients = v.recipientSecretKeysHex.map((hex) => nacl.box.keyPair.fromSecretKey(fromHex(hex)));
  const vectorSigner = nacl.sign.keyPair.fromSeed(fromHex(v.signerSeedHex));
  const expected = v.envelope as Envelope;

  it('sealEnvelope with the deterministic random reproduces the stored envelope exactly', () => {
    expect(recipients.map((r) => toBase64url(r.publicKey))).toEqual(v.recipientBoxPks);
    expect(toBase64url(vectorSigner.publicKey)).toBe(v.signerPk);
    const sealed = sealEnvelope({
      kind: v.kind as EnvelopeKind,
      caseId: v.caseId,
      body: v.body,
      recipients: recipients.map((r) => r.publicKey),
      signer: vectorSigner,
      random: deterministicRandom(v.randomSeed),
    });
    expect(sealed).toEqual(expected);
    expect(JSON.stringify(sealed)).toBe(JSON.stringify(expected)); // same field order on the wire too
  });

  it('opens with each recipient key, and only with those', () => {
    recipients.forEach((box) => {
      const opened = openEnvelope(expected, {
        box,
        expectedKind: v.kind,
        expectedCaseId: v.caseId,
        trustedSigners: [vectorSigner.publicKey],
      });
      expect(opened.body).toEqual({ ...v.body, v: 1, kind: v.kind, caseId: v.caseId });
      expect(opened.signer).toBe(v.signerPk);
    });
    expectProtocolError(
      () => openEnvelope(expected, { box: eve, expectedKind: v.kind, expectedCaseId: v.caseId, trustedSigners: [vectorSigner.publicKey] }),
      'not_a_recipient',
    );
  });

  it('its key ids and signature check out with node:crypto', () => {
    expected.keys.forEach((k, i) => expect(k.kid).toBe(toBase64url(nodeSha512(fromBase64url(v.recipientBoxPks[i])).slice(0, 16))));
    const pk = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: expected.signer }, format: 'jwk' });
    expect(nodeVerify(null, signedPart(expected), pk, fromBase64url(expected.sig))).toBe(true);
  });

  it('verifyEnvelope returns the hash and key digests it computed on the way, erased entries included', () => {
    // computed here with node:crypto, independently of protocol/
    const digestOf = (k: { kid: string; epk?: string; wrapped?: string }) =>
      toBase64url(nodeSha512(JSON.stringify({ epk: k.epk, kid: k.kid, wrapped: k.wrapped })).slice(0, 32));
    const verified = verifyEnvelope(expected, [vectorSigner.publicKey]);
    expect(verified).toEqual({ hash: toBase64url(nodeSha512(signedPart(expected))), keyDigests: expected.keys.map(digestOf) });
    expect(verified.hash).toBe(envelopeHash(expected));
    const erased = eraseKey(expected, expected.keys[0].kid);
    expect(erased.keys[0].epk).toBeUndefined();
    expect(verifyEnvelope(erased, [vectorSigner.publicKey])).toEqual(verified);
    expect(verified.keyDigests).toEqual(erased.keys.map((k) => keyDigest(k)));
  });

  it('the deterministic random is what makes it reproducible', () => {
    const a = sealEnvelope({
      kind: v.kind as EnvelopeKind,
      caseId: v.caseId,
      body: v.body,
      recipients: recipients.map((r) => r.publicKey),
      signer: vectorSigner,
    });
    expect(a.ciphertext).not.toBe(expected.ciphertext);
    expect(a.keys[0].epk).not.toBe(expected.keys[0].epk);
  });
});

describe('sealEnvelope / openEnvelope', () => {
  it('round-trips random bodies to 1..4 recipients, each of whom can open it (property, in a worker)', async () => {
    const result = await runInWorker('roundTripProperty', { numRuns: 60 });
    expect(result.failed ? result.report : 'passed').toBe('passed');
    expect(result.numRuns).toBe(60);
  });

  it('the round-trip property function also runs in-process', () => {
    const result = roundTripProperty({ numRuns: 1 });
    expect(result.failed ? result.report : 'passed').toBe('passed');
  });

  it('survives a JSON round trip (what the server stores and serves)', () => {
    const env = seal({ text: 'hello' });
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(env).reverse()))) as Envelope;
    expect(openAs(reordered, bob).body.text).toBe('hello');
  });

  it('uses a fresh content key, nonce and ephemeral key for every envelope', () => {
    const a = seal({ text: 'same' });
    const b = seal({ text: 'same' });
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.keys[0].epk).not.toBe(b.keys[0].epk);
    expect(a.keys[0].wrapped).not.toBe(b.keys[0].wrapped);
  });

  it('a body cannot override v, kind or caseId', () => {
    const env = seal({ v: 2, kind: 'message', caseId: 'someone-else', text: 'x' });
    expect(openAs(env, alice).body).toEqual({ v: 1, kind: KIND, caseId, text: 'x' });
  });

  it('names the key id as the first 16 bytes of SHA-512 of the box public key', () => {
    const env = seal({ text: 'x' });
    expect(env.keys.map((k) => k.kid)).toEqual([alice, bob].map((b) => toBase64url(nodeSha512(b.publicKey).slice(0, 16))));
    expect(keyId(alice.publicKey)).toBe(env.keys[0].kid);
    expectProtocolError(() => keyId(new Uint8Array(31)), 'bad_key');
  });

  it('signs {v, kind, caseId, ciphertextHash, keys}, verifiable with node:crypto', () => {
    const env = seal({ text: 'x' });
    const part = JSON.parse(fromUtf8(signedPart(env)));
    expect(Object.keys(part)).toEqual(['caseId', 'ciphertextHash', 'keys', 'kind', 'v']);
    expect(part.ciphertextHash).toBe(toBase64url(nodeSha512(fromBase64url(env.ciphertext))));
    const pk = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: env.signer }, format: 'jwk' });
    expect(nodeVerify(null, signedPart(env), pk, fromBase64url(env.sig))).toBe(true);
    expect(() => verifyEnvelope(env, [signer.publicKey])).not.toThrow();
  });

  it('refuses no recipients and a duplicate recipient', () => {
    expectProtocolError(() => seal({}, []), 'no_recipients');
    expectProtocolError(() => seal({}, [alice.publicKey, bob.publicKey, alice.publicKey.slice()]), 'duplicate_recipient');
  });
});

describe('who can open', () => {
  const env = seal({ text: 'for alice and bob' });

  it('a key that is not a recipient gets not_a_recipient', () => {
    expectProtocolError(() => openAs(env, eve), 'not_a_recipient');
  });

  it('copying the kid does not help: decrypt_failed (and bad_signature unless re-signed)', () => {
    const copied: Envelope = { ...env, keys: [{ ...env.keys[0], kid: keyId(eve.publicKey) }, env.keys[1]] };
    expectProtocolError(() => openAs(copied, eve), 'bad_signature');
    expectProtocolError(() => openAs(resign(copied), eve), 'decrypt_failed');
  });

  it('an untrusted signer gets untrusted_signer, even with a valid signature', () => {
    const mallory = nacl.sign.keyPair();
    expectProtocolError(() => openAs(env, alice, { trustedSigners: [mallory.publicKey] }), 'untrusted_signer');
    expectProtocolError(() => openAs(env, alice, { trustedSigners: [] }), 'untrusted_signer');
    const forged = resign(env, mallory);
    expect(() => verifyEnvelope(forged, [mallory.publicKey])).not.toThrow();
    expectProtocolError(() => openAs(forged, alice), 'untrusted_signer');
    // a trusted signer's key named as signer with someone else's signature
    expectProtocolError(() => openAs({ ...forged, signer: env.signer }, alice), 'bad_signature');
  });

  it('an unknown version or algorithm gets unsupported_version', () => {
    expectProtocolError(() => openAs({ ...env, v: 2 } as unknown as Envelope, alice), 'unsupported_version');
    expectProtocolError(() => openAs({ ...env, alg: 'x25519-aes' } as unknown as Envelope, alice), 'unsupported_version');
  });

  it('a signature or signer of the wrong length gets bad_signature or untrusted_signer', () => {
    expectProtocolError(() => openAs({ ...env, sig: toBase64url(fromBase64url(env.sig).slice(0, 63)) }, alice), 'bad_signature');
    expectProtocolError(() => openAs({ ...env, signer: toBase64url(fromBase64url(env.signer).slice(0, 31)) }, alice), 'untrusted_signer');
  });
});

describe('context binding', () => {
  const env = seal({ text: 'about case A' });

  it('opening for another case or kind than the envelope names: wrong_context', () => {
    expectProtocolError(() => openAs(env, alice, { expectedCaseId: randomId() }), 'wrong_context');
    expectProtocolError(() => openAs(env, alice, { expectedKind: 'message' }), 'wrong_context');
  });

  it('an envelope moved to another case and re-signed by the same signer: wrong_context from the plaintext', () => {
    const otherCase = randomId();
    const moved = resign({ ...env, caseId: otherCase });
    expect(() => verifyEnvelope(moved, [signer.publicKey])).not.toThrow(); // the signature is valid
    const e = expectProtocolError(() => openAs(moved, alice, { expectedCaseId: otherCase }), 'wrong_context');
    expect(e.message).toMatch(/plaintext/);
  });

  it('an envelope relabelled as another kind and re-signed: wrong_context from the plaintext', () => {
    const relabelled = resign({ ...env, kind: 'message' });
    expectProtocolError(() => openAs(relabelled, alice, { expectedKind: 'message' }), 'wrong_context');
  });
});

/** An envelope whose padded plaintext is chosen byte for byte (to reach the checks after decryption). */
function craft(padded: Uint8Array): Envelope {
  const k = nacl.randomBytes(32);
  const nonce = nacl.randomBytes(24);
  const eph = nacl.box.keyPair();
  const wrapNonce = nacl.randomBytes(24);
  const unsigned = {
    v: 1 as const,
    alg: ENVELOPE_ALG as typeof ENVELOPE_ALG,
    kind: KIND,
    caseId,
    ciphertext: toBase64url(concatBytes(nonce, nacl.secretbox(padded, nonce, k))),
    keys: [
      {
        kid: keyId(alice.publicKey),
        epk: toBase64url(eph.publicKey),
        wrapped: toBase64url(concatBytes(wrapNonce, nacl.box(k, wrapNonce, alice.publicKey, eph.secretKey))),
      },
    ],
  };
  return resign({ ...unsigned, signer: '', sig: '' });
}

describe('plaintext checks after decryption', () => {
  it('the crafting helper itself produces openable envelopes', () => {
    const good = craft(pad(utf8(JSON.stringify({ v: 1, kind: KIND, caseId, text: 'ok' }))));
    expect(openAs(good, alice).body.text).toBe('ok');
  });

  it.each([
    ['not JSON', 'bad_plaintext', pad(utf8('not json'))],
    ['invalid UTF-8', 'bad_plaintext', pad(Uint8Array.of(0x7b, 0xff, 0x7d))],
    ['non-canonical padding', 'bad_padding', concatBytes(pad(utf8('{}')), new Uint8Array(1))],
    ['JSON null', 'wrong_context', pad(utf8('null'))],
    ['a JSON array', 'wrong_context', pad(utf8('[]'))],
    ['a missing version', 'wrong_context', pad(utf8(JSON.stringify({ kind: KIND, caseId })))],
    ['another version', 'wrong_context', pad(utf8(JSON.stringify({ v: 2, kind: KIND, caseId })))],
  ])('%s: %s', (_, code, padded) => {
    expectProtocolError(() => openAs(craft(padded), alice), code);
  });
});

describe('ciphertext size (Padmé)', () => {
  it('plaintexts of 1000 and 1010 characters give ciphertexts of the same length', () => {
    const a = seal({ text: 'a'.repeat(1000) });
    const b = seal({ text: 'b'.repeat(1010) });
    const la = fromBase64url(a.ciphertext).length;
    const lb = fromBase64url(b.ciphertext).length;
    expect(la).toBe(lb);
    // nonce (24) + Poly1305 tag (16) + Padmé(4-byte prefix + JSON plaintext)
    const plaintextLength = utf8(JSON.stringify({ text: 'a'.repeat(1000), v: 1, kind: KIND, caseId })).length;
    expect(la).toBe(24 + 16 + padmeLength(4 + plaintextLength));
    expect(la).toBeLessThan(24 + 16 + 4 + plaintextLength + 0.12 * plaintextLength);
  });

  it('but different size classes stay distinguishable (the test above is not vacuous)', () => {
    const a = seal({ text: 'a'.repeat(1000) });
    const b = seal({ text: 'b'.repeat(2000) });
    expect(fromBase64url(a.ciphertext).length).not.toBe(fromBase64url(b.ciphertext).length);
  });
});
