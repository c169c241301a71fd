import fc from 'fast-check';
import nacl from 'tweetnacl';
import { EnvelopeSchema, Id, KdfSchema, PowSolutionSchema, schemas, SignedKeysetSchema, b64Bytes, b64Max } from '../../protocol/api';
import { fromBase64url, randomId, toBase64url, utcDay } from '../../protocol/encoding';
import { sealEnvelope, type Envelope } from '../../protocol/envelope';
import { STAFF_KDF } from '../../protocol/kdf';
import { keysetHash, type Keyset } from '../../protocol/keyset';
import { signKeyset } from '../../protocol/keyset-signing';
import { wrapPrivateKeys } from '../../protocol/staffkeys';

const signer = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(1));
const reader = nacl.box.keyPair.fromSecretKey(new Uint8Array(32).fill(2));
const envelope = sealEnvelope({ kind: 'testimony', caseId: randomId(), body: { text: 'hello' }, recipients: [reader.publicKey], signer });

/** zod issue paths, to check that a rejection names the right field */
function issuePaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  return (result.error?.issues ?? []).map((i) => i.path.map(String).join('.'));
}

describe('EnvelopeSchema', () => {
  it('accepts a real sealed envelope', () => {
    const parsed = EnvelopeSchema.safeParse(envelope);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(envelope);
  });

  it('accepts an envelope with several recipients', () => {
    const others = [3, 4, 5].map((n) => nacl.box.keyPair.fromSecretKey(new Uint8Array(32).fill(n)).publicKey);
    const env = sealEnvelope({ kind: 'testimony', caseId: randomId(), body: {}, recipients: [reader.publicKey, ...others], signer });
    expect(EnvelopeSchema.safeParse(env).success).toBe(true);
  });

  it('rejects unknown fields, at the top and in a key entry (strict)', () => {
    const extra = EnvelopeSchema.safeParse({ ...envelope, plaintext: 'oops' });
    expect(extra.success).toBe(false);
    const extraInKey = EnvelopeSchema.safeParse({ ...envelope, keys: [{ ...envelope.keys[0], note: 'x' }] });
    expect(extraInKey.success).toBe(false);
    expect(issuePaths(extraInKey)).toContain('keys.0');
  });

  it.each<[string, (e: Envelope) => unknown, string]>([
    ['sig one character short', (e) => ({ ...e, sig: e.sig.slice(1) }), 'sig'],
    ['sig of 63 bytes', (e) => ({ ...e, sig: toBase64url(fromBase64url(e.sig).slice(1)) }), 'sig'],
    ['signer of 33 bytes', (e) => ({ ...e, signer: toBase64url(new Uint8Array(33)) }), 'signer'],
    ['signer with = padding', (e) => ({ ...e, signer: e.signer + '=' }), 'signer'],
    ['a kid of 15 bytes', (e) => ({ ...e, keys: [{ ...e.keys[0], kid: toBase64url(new Uint8Array(15)) }] }), 'keys.0.kid'],
    ['an epk of 31 bytes', (e) => ({ ...e, keys: [{ ...e.keys[0], epk: toBase64url(new Uint8Array(31)) }] }), 'keys.0.epk'],
    ['a wrapped key of 71 bytes', (e) => ({ ...e, keys: [{ ...e.keys[0], wrapped: toBase64url(new Uint8Array(71)) }] }), 'keys.0.wrapped'],
    ['standard base64 in the ciphertext', (e) => ({ ...e, ciphertext: e.ciphertext.replace(/^./, '+') }), 'ciphertext'],
    ['an impossible ciphertext length', (e) => ({ ...e, ciphertext: e.ciphertext.slice(0, 4 * 10 + 1) }), 'ciphertext'],
    ['an empty ciphertext', (e) => ({ ...e, ciphertext: '' }), 'ciphertext'],
    ['a ciphertext over 96 KiB', (e) => ({ ...e, ciphertext: 'A'.repeat(Math.ceil((96 * 1024 * 4) / 3) + 4) }), 'ciphertext'],
    ['no keys', (e) => ({ ...e, keys: [] }), 'keys'],
    ['65 keys', (e) => ({ ...e, keys: new Array(65).fill(e.keys[0]) }), 'keys'],
    ['a caseId that is not a 16-byte id', (e) => ({ ...e, caseId: 'case-1' }), 'caseId'],
    ['an unknown kind', (e) => ({ ...e, kind: 'poster' }), 'kind'],
    [
      'an erased key entry (only the server erases)',
      (e) => ({ ...e, keys: [{ kid: e.keys[0].kid, digest: e.keys[0].kid + e.keys[0].kid }] }),
      'keys.0',
    ],
    ['another version', (e) => ({ ...e, v: 2 }), 'v'],
    ['another algorithm', (e) => ({ ...e, alg: 'aes' }), 'alg'],
    ['a missing signature', ({ sig: _sig, ...rest }) => rest, 'sig'],
  ])('rejects %s', (_, change, path) => {
    const result = EnvelopeSchema.safeParse(change(envelope));
    expect(result.success).toBe(false);
    expect(issuePaths(result)).toContain(path);
  });
});

describe('b64Bytes / b64Max', () => {
  it('fix the unpadded length from the byte count', () => {
    for (const [bytes, chars] of [
      [16, 22],
      [32, 43],
      [64, 86],
      [72, 96],
    ]) {
      expect(b64Bytes(bytes).safeParse(toBase64url(new Uint8Array(bytes))).success).toBe(true);
      expect(toBase64url(new Uint8Array(bytes))).toHaveLength(chars);
      expect(b64Bytes(bytes).safeParse(toBase64url(new Uint8Array(bytes + 1))).success).toBe(false);
      expect(b64Bytes(bytes).safeParse(toBase64url(new Uint8Array(bytes - 1))).success).toBe(false);
    }
    expect(b64Max(10).safeParse(toBase64url(new Uint8Array(10))).success).toBe(true);
    expect(b64Max(10).safeParse(toBase64url(new Uint8Array(11))).success).toBe(false);
  });

  it('every base64url field (fixed size, bounded, ids) accepts exactly the strings the strict decoder accepts', () => {
    const spelling = fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/'.split('')),
      minLength: 2,
      maxLength: 40,
    });
    const decodes = (s: string) => {
      try {
        fromBase64url(s);
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(
      fc.property(spelling, (s) => {
        expect(b64Max(30).safeParse(s).success).toBe(decodes(s));
        if (s.length === 22) expect(Id.safeParse(s).success).toBe(decodes(s));
      }),
      { numRuns: 3000 },
    );
    // Ids, wrapped keys and ciphertexts spelled with a non-zero spare bit: the same bytes twice.
    for (const second of ['AAAAAAAAAAAAAAAAAAAAAB', 'AAAAAAAAAAAAAAAAAAAAAP']) expect(Id.safeParse(second).success).toBe(false);
    expect(Id.safeParse('AAAAAAAAAAAAAAAAAAAAAQ').success).toBe(true);
    expect(b64Max(64).safeParse('AAB').success).toBe(false);
    expect(b64Max(64).safeParse('AAE').success).toBe(true);
  });
});

describe('other request schemas accept what protocol/ produces', () => {
  const instance = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));
  const member = {
    staffId: randomId(),
    username: 'first.admin',
    roles: ['admin' as const, 'moderator' as const],
    boxPk: toBase64url(reader.publicKey),
    signPk: toBase64url(signer.publicKey),
  };
  const v1: Keyset = { v: 1, instanceId: randomId(), version: 1, prev: null, issuedDay: utcDay(), members: [member] };

  it('SignedKeysetSchema: a signed v1 and a v2 whose prev is keysetHash(v1)', () => {
    expect(SignedKeysetSchema.safeParse(signKeyset(v1, instance)).success).toBe(true);
    const v2: Keyset = { ...v1, version: 2, prev: keysetHash(v1) };
    expect(SignedKeysetSchema.safeParse(signKeyset(v2, instance)).success).toBe(true);
    expect(SignedKeysetSchema.safeParse({ ...signKeyset(v1, instance), extra: 1 }).success).toBe(false);
  });

  it('KdfSchema: the staff parameters with a 16-byte salt, not weaker ones', () => {
    const salt = toBase64url(new Uint8Array(16).fill(1));
    expect(KdfSchema.safeParse({ params: STAFF_KDF, salt }).success).toBe(true);
    expect(KdfSchema.safeParse({ params: { ...STAFF_KDF, m: 1024 }, salt }).success).toBe(false);
    expect(KdfSchema.safeParse({ params: { ...STAFF_KDF, t: 1 }, salt }).success).toBe(false);
  });

  it('wrappedKeys of an admin (with the instance key) fit in the enrolment schema', () => {
    const wrapped = wrapPrivateKeys(
      { boxSecretKey: reader.secretKey, signSecretKey: signer.secretKey, instanceSecretKey: instance.secretKey },
      new Uint8Array(32).fill(5),
    );
    const body = {
      inviteToken: toBase64url(new Uint8Array(32)),
      username: 'new.moderator',
      kdf: { params: STAFF_KDF, salt: toBase64url(new Uint8Array(16)) },
      authKey: toBase64url(new Uint8Array(32)),
      boxPk: member.boxPk,
      signPk: member.signPk,
      wrappedKeys: wrapped,
    };
    expect(schemas.enrol.safeParse(body).success).toBe(true);
  });

  it('submitCase: a real envelope with a proof of work; PowSolutionSchema rejects a negative nonce', () => {
    const pow = { challenge: toBase64url(new Uint8Array(32)), nonce: 12 };
    expect(schemas.submitCase.safeParse({ envelope, keysetVersion: 1, pow }).success).toBe(true);
    expect(PowSolutionSchema.safeParse({ ...pow, nonce: -1 }).success).toBe(false);
    expect(PowSolutionSchema.safeParse({ ...pow, nonce: 1.5 }).success).toBe(false);
  });
});
