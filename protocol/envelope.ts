/**
 * The envelope: how every encrypted thing (testimony, message, draft, attachment manifest)
 * is sealed to its readers and signed by its sender (DESIGN.md, protocol v1).
 *
 *   K = 32 random bytes
 *   ciphertext = nonce24 || secretbox(pad(plaintext), nonce, K)
 *   keys[i] = { kid, epk, wrapped = nonce24 || box(K, nonce, recipientBoxPk, ephemeralSk) }
 *   sig = Ed25519(canonicalJson({v, kind, caseId, ciphertextHash: sha512(ciphertext), keys}))
 *
 * tweetnacl has no associated data and secretbox is not key-committing, so the plaintext is
 * JSON naming its own {v, kind, caseId}; openEnvelope checks it against what the reader expects.
 * The envelope names its version and algorithm so later versions can be read side by side.
 */
import nacl from 'tweetnacl';
import {
  canonicalJson,
  concatBytes,
  equalBytes,
  fromBase64url,
  fromUtf8,
  ProtocolError,
  sha512,
  toBase64url,
  utf8,
} from './encoding';
import { pad, unpad } from './padding';
import { naclBackend, verifyDetached, type CryptoBackend } from './signatures';

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_ALG = 'x25519-xsalsa20poly1305-ed25519-padme';

export interface RecipientKey {
  /** first 16 bytes of SHA-512(recipient box public key), base64url */
  kid: string;
  /** ephemeral X25519 public key, base64url */
  epk: string;
  /** nonce24 || box(K), base64url */
  wrapped: string;
}

export interface Envelope {
  v: typeof ENVELOPE_VERSION;
  alg: typeof ENVELOPE_ALG;
  kind: string;
  caseId: string;
  ciphertext: string;
  keys: RecipientKey[];
  /** sender's Ed25519 public key, base64url; the reader decides whether it trusts it */
  signer: string;
  sig: string;
}

export type RandomBytes = (n: number) => Uint8Array;

export function keyId(boxPublicKey: Uint8Array): string {
  if (boxPublicKey.length !== nacl.box.publicKeyLength) throw new ProtocolError('bad_key', 'box public key must be 32 bytes');
  return toBase64url(sha512(boxPublicKey).slice(0, 16));
}

export function signedPart(env: Pick<Envelope, 'v' | 'kind' | 'caseId' | 'ciphertext' | 'keys'>, backend: CryptoBackend = naclBackend): Uint8Array {
  return utf8(
    canonicalJson({
      v: env.v,
      kind: env.kind,
      caseId: env.caseId,
      ciphertextHash: toBase64url(backend.sha512(fromBase64url(env.ciphertext))),
      keys: env.keys.map((k) => ({ kid: k.kid, epk: k.epk, wrapped: k.wrapped })),
    }),
  );
}

export interface SealInput {
  kind: string;
  caseId: string;
  /** the message; {v, kind, caseId} are added to it before encryption */
  body: Record<string, unknown>;
  recipients: Uint8Array[];
  signer: nacl.SignKeyPair;
  /** injectable for known-answer tests only */
  random?: RandomBytes;
}

export function sealEnvelope(input: SealInput): Envelope {
  const random = input.random ?? nacl.randomBytes;
  if (input.recipients.length === 0) throw new ProtocolError('no_recipients', 'an envelope needs at least one recipient');
  const kids = input.recipients.map(keyId);
  if (new Set(kids).size !== kids.length) throw new ProtocolError('duplicate_recipient', 'a recipient is listed twice');

  const plaintext = utf8(JSON.stringify({ ...input.body, v: ENVELOPE_VERSION, kind: input.kind, caseId: input.caseId }));
  const contentKey = random(nacl.secretbox.keyLength);
  const nonce = random(nacl.secretbox.nonceLength);
  const ciphertext = concatBytes(nonce, nacl.secretbox(pad(plaintext), nonce, contentKey));

  const ephemeral = nacl.box.keyPair.fromSecretKey(random(nacl.box.secretKeyLength));
  const epk = toBase64url(ephemeral.publicKey);
  const keys = input.recipients.map((pk, i) => {
    const wrapNonce = random(nacl.box.nonceLength);
    const wrapped = concatBytes(wrapNonce, nacl.box(contentKey, wrapNonce, pk, ephemeral.secretKey));
    return { kid: kids[i], epk, wrapped: toBase64url(wrapped) };
  });
  ephemeral.secretKey.fill(0);

  const unsigned = { v: ENVELOPE_VERSION, alg: ENVELOPE_ALG, kind: input.kind, caseId: input.caseId, ciphertext: toBase64url(ciphertext), keys } as const;
  const sig = nacl.sign.detached(signedPart(unsigned), input.signer.secretKey);
  return { ...unsigned, keys, signer: toBase64url(input.signer.publicKey), sig: toBase64url(sig) };
}

/**
 * Checks the envelope's version and its signature by `signer`, and that the signer is one the
 * caller trusts. Used by the server on every write (with its OpenSSL backend) and by every
 * reader before decrypting.
 */
export function verifyEnvelope(env: Envelope, trustedSigners: Uint8Array[], backend: CryptoBackend = naclBackend): void {
  if (env.v !== ENVELOPE_VERSION || env.alg !== ENVELOPE_ALG) {
    throw new ProtocolError('unsupported_version', `envelope version ${String(env.v)}/${String(env.alg)} is not supported`);
  }
  const signer = fromBase64url(env.signer);
  if (!trustedSigners.some((t) => equalBytes(t, signer))) throw new ProtocolError('untrusted_signer', 'the envelope is signed by a key this reader does not trust');
  const sig = fromBase64url(env.sig);
  if (sig.length !== nacl.sign.signatureLength || signer.length !== nacl.sign.publicKeyLength) {
    throw new ProtocolError('bad_signature', 'signature or signer key has the wrong length');
  }
  if (!verifyDetached(signedPart(env, backend), sig, signer, backend)) {
    throw new ProtocolError('bad_signature', 'the envelope signature does not verify: it was altered or forged');
  }
}

export interface OpenInput {
  box: nacl.BoxKeyPair;
  expectedKind: string;
  expectedCaseId: string;
  trustedSigners: Uint8Array[];
}

export interface Opened<T> {
  body: T & { v: number; kind: string; caseId: string };
  signer: string;
}

export function openEnvelope<T = Record<string, unknown>>(env: Envelope, input: OpenInput): Opened<T> {
  verifyEnvelope(env, input.trustedSigners);
  if (env.kind !== input.expectedKind || env.caseId !== input.expectedCaseId) {
    throw new ProtocolError('wrong_context', 'the envelope belongs to another case or kind');
  }
  const kid = keyId(input.box.publicKey);
  const entry = env.keys.find((k) => k.kid === kid);
  if (!entry) throw new ProtocolError('not_a_recipient', 'this envelope is not addressed to this key');

  const wrapped = fromBase64url(entry.wrapped);
  const contentKey = nacl.box.open(
    wrapped.subarray(nacl.box.nonceLength),
    wrapped.subarray(0, nacl.box.nonceLength),
    fromBase64url(entry.epk),
    input.box.secretKey,
  );
  if (!contentKey || contentKey.length !== nacl.secretbox.keyLength) throw new ProtocolError('decrypt_failed', 'the wrapped key does not open with this key');

  const ciphertext = fromBase64url(env.ciphertext);
  const padded = nacl.secretbox.open(ciphertext.subarray(nacl.secretbox.nonceLength), ciphertext.subarray(0, nacl.secretbox.nonceLength), contentKey);
  contentKey.fill(0);
  if (!padded) throw new ProtocolError('decrypt_failed', 'the ciphertext does not decrypt: it was altered');

  let body: Opened<T>['body'];
  try {
    body = JSON.parse(fromUtf8(unpad(padded)));
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError('bad_plaintext', 'the decrypted plaintext is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || body.v !== ENVELOPE_VERSION || body.kind !== env.kind || body.caseId !== env.caseId) {
    throw new ProtocolError('wrong_context', 'the plaintext names another case, kind or version than its envelope');
  }
  return { body, signer: env.signer };
}
