/** The survivor's consent to a story and its revocation (protocol/consent.ts). */
import crypto from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import {
  canonicalJson,
  ProtocolError,
  randomId,
  signStatement,
  storyHash,
  toBase64url,
  verifyStatement,
  type ConsentStatement,
  type RevocationStatement,
} from '../../protocol';

const story = { title: 'At work', text: 'What happened.\n\nمیرے ساتھ', context: 'workplace' };

test('storyHash is SHA-256 of the canonical JSON of {v, title, text, context}, in base64url', async () => {
  const expected = crypto
    .createHash('sha256')
    .update(canonicalJson({ v: 1, ...story }), 'utf8')
    .digest('base64url');
  expect(await storyHash(story)).toBe(expected);
});

test('any change to title, text or context changes the hash, even one space', async () => {
  const base = await storyHash(story);
  for (const changed of [
    { ...story, title: 'At work ' },
    { ...story, text: story.text + ' ' },
    { ...story, context: 'online' },
  ]) {
    expect(await storyHash(changed)).not.toBe(base);
  }
});

describe('signed statements', () => {
  const keys = nacl.sign.keyPair();
  const pk = toBase64url(keys.publicKey);
  const consent: ConsentStatement = {
    v: 1,
    type: 'publish',
    caseId: randomId(),
    draftId: randomId(),
    textHash: toBase64url(nacl.randomBytes(32)),
    issuedDay: '2026-11-21',
  };

  test('a consent verifies against its signer, and not against another key', () => {
    const sig = signStatement(consent, keys.secretKey);
    expect(() => verifyStatement(consent, sig, pk)).not.toThrow();
    expect(() => verifyStatement(consent, sig, toBase64url(nacl.sign.keyPair().publicKey))).toThrow(ProtocolError);
  });

  test('property: changing any field of a signed consent breaks its signature', () => {
    const sig = signStatement(consent, keys.secretKey);
    fc.assert(
      fc.property(
        fc.constantFrom('caseId', 'draftId', 'textHash', 'issuedDay'),
        fc.string({ minLength: 1, maxLength: 30 }),
        (field, value) => {
          fc.pre(value !== consent[field as keyof ConsentStatement]);
          expect(() => verifyStatement({ ...consent, [field]: value }, sig, pk)).toThrow(/does not verify/);
        },
      ),
    );
  });

  test('a consent signature never passes for a revocation of the same draft (domain separation)', () => {
    const revoke: RevocationStatement = {
      v: 1,
      type: 'revoke',
      caseId: consent.caseId,
      draftId: consent.draftId,
      issuedDay: consent.issuedDay,
    };
    const consentSig = signStatement(consent, keys.secretKey);
    expect(() => verifyStatement(revoke, consentSig, pk)).toThrow(/revocation signature does not verify/);
    expect(() => verifyStatement(revoke, signStatement(revoke, keys.secretKey), pk)).not.toThrow();
  });
});
