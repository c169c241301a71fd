/**
 * The envelope: how every encrypted thing (testimony, message, draft, attachment manifest)
 * is sealed to its readers and signed by its sender (DESIGN.md, protocol v1).
 *
 *   K = 32 random bytes
 *   ciphertext = nonce24 || secretbox(pad(plaintext), nonce, K)
 *   keys[i] = { kid, epk, wrapped = nonce24 || box(K, nonce, recipientBoxPk, ephemeralSk) }
 *   sig = Ed25519(canonicalJson({v, kind, caseId, prev?, ciphertextHash: sha512(ciphertext),
 *                                keys: [{kid, digest: sha512(canonicalJson({kid, epk, wrapped}))[0..32]}]}))
 *
 * Keys are signed through their digests so that the server can erase the key wrapped to a
 * removed staff member (leaving {kid, digest}) without breaking the signature. `prev` links a
 * thread message to the envelope before it (envelopeHash), so a reader detects a message
 * that the server swapped, reordered, dropped from the middle or moved to another case.
 *
 * tweetnacl has no associated data and secretbox is not key-committing, so the plaintext is
 * JSON naming its own {v, kind, caseId}; openEnvelope checks it against what the reader expects.
 * The envelope names its version and algorithm so later versions can be read side by side.
 *
 * Each operation is written once as steps (crypto-steps.ts) and exported twice: sync with
 * tweetnacl (the server, with its OpenSSL verify) and `...Async` with a CryptoProvider
 * (browsers: WebCrypto where they have Ed25519 and X25519). Same bytes either way.
 */
import nacl from 'tweetnacl';
import { canonicalJson, concatBytes, equalBytes, fromBase64url, fromUtf8, ProtocolError, toBase64url, utf8 } from './encoding';
import { pad, unpad } from './padding';
import { naclBackend, type CryptoBackend } from './signatures';
import type { CryptoProvider } from './crypto-provider';
import { boxKeyStep, boxPublicKeyStep, runAsync, runSync, signStep, verifyStep, type Steps } from './crypto-steps';
import type { BatchKeyGrant } from './grant-tree';

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_ALG = 'x25519-xsalsa20poly1305-ed25519-padme';

export interface RecipientKey {
  /** first 16 bytes of SHA-512(recipient box public key), base64url */
  kid: string;
  /** ephemeral X25519 public key, base64url; absent once erased */
  epk?: string;
  /** nonce24 || box(K), base64url; absent once erased */
  wrapped?: string;
  /** present only on an erased entry: the digest its signature covers */
  digest?: string;
}

export const ENVELOPE_KINDS = ['testimony', 'message', 'note', 'draft', 'changes'] as const;
export type EnvelopeKind = (typeof ENVELOPE_KINDS)[number];

export interface Envelope {
  v: typeof ENVELOPE_VERSION;
  alg: typeof ENVELOPE_ALG;
  kind: string;
  caseId: string;
  /** envelopeHash of the previous envelope in the case's thread (messages only) */
  prev?: string;
  ciphertext: string;
  keys: RecipientKey[];
  /** sender's Ed25519 public key, base64url; the reader decides whether it trusts it */
  signer: string;
  sig: string;
}

export type RandomBytes = (n: number) => Uint8Array;

export function keyId(boxPublicKey: Uint8Array): string {
  return keyIdUsing(boxPublicKey, naclBackend);
}

/** keyId with another backend's SHA-512 (the server's OpenSSL): the same id. */
export function keyIdUsing(boxPublicKey: Uint8Array, backend: CryptoBackend): string {
  if (boxPublicKey.length !== nacl.box.publicKeyLength) throw new ProtocolError('bad_key', 'box public key must be 32 bytes');
  return toBase64url(backend.sha512(boxPublicKey).slice(0, 16));
}

/** What a key entry's signature covers; an erased entry carries it instead of the key. */
export function keyDigest(entry: RecipientKey, backend: CryptoBackend = naclBackend): string {
  if (entry.epk === undefined || entry.wrapped === undefined) {
    if (entry.digest === undefined) throw new ProtocolError('bad_envelope', 'a key entry has neither a wrapped key nor a digest');
    return entry.digest;
  }
  return toBase64url(backend.sha512(utf8(canonicalJson({ kid: entry.kid, epk: entry.epk, wrapped: entry.wrapped }))).slice(0, 32));
}

/** What an envelope's signature covers: the signed bytes, and each key entry's digest (in the order of `keys`). */
export interface SignedPart {
  bytes: Uint8Array;
  keyDigests: string[];
}

/** The signed part, with the key digests it is made of (a server stores them beside the keys). */
export function signedPartOf(
  env: Pick<Envelope, 'v' | 'kind' | 'caseId' | 'prev' | 'ciphertext' | 'keys'>,
  backend: CryptoBackend = naclBackend,
): SignedPart {
  const keyDigests = env.keys.map((k) => keyDigest(k, backend));
  const bytes = utf8(
    canonicalJson({
      v: env.v,
      kind: env.kind,
      caseId: env.caseId,
      prev: env.prev,
      ciphertextHash: toBase64url(backend.sha512(fromBase64url(env.ciphertext))),
      keys: env.keys.map((k, i) => ({ kid: k.kid, digest: keyDigests[i] })),
    }),
  );
  return { bytes, keyDigests };
}

export function signedPart(
  env: Pick<Envelope, 'v' | 'kind' | 'caseId' | 'prev' | 'ciphertext' | 'keys'>,
  backend: CryptoBackend = naclBackend,
): Uint8Array {
  return signedPartOf(env, backend).bytes;
}

function hashOfSignedBytes(bytes: Uint8Array, backend: CryptoBackend): string {
  return toBase64url(backend.sha512(bytes));
}

/** The envelope's identity in a thread: SHA-512 of what its signature covers. */
export function envelopeHash(env: Envelope, backend: CryptoBackend = naclBackend): string {
  return hashOfSignedBytes(signedPart(env, backend), backend);
}

/**
 * What verifyEnvelope computed on its way, for a caller that stores the envelope: its hash
 * (envelopeHash) and its key digests (keyDigest of each entry), so neither is computed twice.
 */
export interface VerifiedEnvelope {
  hash: string;
  keyDigests: string[];
}

/** The same envelope with the key wrapped to `kid` erased; the signature still verifies. */
export function eraseKey(env: Envelope, kid: string): Envelope {
  return { ...env, keys: env.keys.map((k) => (k.kid === kid ? { kid: k.kid, digest: keyDigest(k) } : k)) };
}

export interface SealInput {
  kind: EnvelopeKind;
  caseId: string;
  /** for thread messages: envelopeHash of the envelope before this one */
  prev?: string;
  /** the message; {v, kind, caseId} are added to it before encryption */
  body: Record<string, unknown>;
  recipients: Uint8Array[];
  signer: nacl.SignKeyPair;
  /** injectable for known-answer tests only */
  random?: RandomBytes;
}

function* sealSteps(input: SealInput): Steps<Envelope> {
  const random = input.random ?? ((n: number) => nacl.randomBytes(n));
  if (input.recipients.length === 0) throw new ProtocolError('no_recipients', 'an envelope needs at least one recipient');
  const kids = input.recipients.map(keyId);
  if (new Set(kids).size !== kids.length) throw new ProtocolError('duplicate_recipient', 'a recipient is listed twice');

  const plaintext = utf8(JSON.stringify({ ...input.body, v: ENVELOPE_VERSION, kind: input.kind, caseId: input.caseId }));
  const contentKey = random(nacl.secretbox.keyLength);
  const nonce = random(nacl.secretbox.nonceLength);
  const ciphertext = concatBytes(nonce, nacl.secretbox(pad(plaintext), nonce, contentKey));

  const ephemeralSk = random(nacl.box.secretKeyLength);
  const epk = toBase64url(yield* boxPublicKeyStep(ephemeralSk));
  const keys = [];
  for (const [i, pk] of input.recipients.entries()) {
    const wrapNonce = random(nacl.box.nonceLength);
    const wrapped = concatBytes(wrapNonce, nacl.box.after(contentKey, wrapNonce, yield* boxKeyStep(pk, ephemeralSk)));
    keys.push({ kid: kids[i], epk, wrapped: toBase64url(wrapped) });
  }
  ephemeralSk.fill(0);

  const unsigned = {
    v: ENVELOPE_VERSION,
    alg: ENVELOPE_ALG,
    kind: input.kind,
    caseId: input.caseId,
    prev: input.prev,
    ciphertext: toBase64url(ciphertext),
    keys,
  } as const;
  if (unsigned.prev === undefined) delete (unsigned as { prev?: string }).prev;
  const sig = yield* signStep(signedPart(unsigned), input.signer.secretKey);
  return { ...unsigned, keys, signer: toBase64url(input.signer.publicKey), sig: toBase64url(sig) };
}

export const sealEnvelope = (input: SealInput): Envelope => runSync(sealSteps(input));
export const sealEnvelopeAsync = (input: SealInput, provider?: CryptoProvider): Promise<Envelope> => runAsync(sealSteps(input), provider);

/**
 * Checks the envelope's version and its signature by `signer`, and that the signer is one the
 * caller trusts. Used by the server on every write (with its OpenSSL backend) and by every
 * reader before decrypting. Returns the envelope's hash and key digests, computed on the way.
 */
function* verifyEnvelopeSteps(env: Envelope, trustedSigners: Uint8Array[], backend: CryptoBackend): Steps<VerifiedEnvelope> {
  if (env.v !== ENVELOPE_VERSION || env.alg !== ENVELOPE_ALG) {
    throw new ProtocolError('unsupported_version', `envelope version ${String(env.v)}/${String(env.alg)} is not supported`);
  }
  const signer = fromBase64url(env.signer);
  if (!trustedSigners.some((t) => equalBytes(t, signer)))
    throw new ProtocolError('untrusted_signer', 'the envelope is signed by a key this reader does not trust');
  const sig = fromBase64url(env.sig);
  if (sig.length !== nacl.sign.signatureLength || signer.length !== nacl.sign.publicKeyLength) {
    throw new ProtocolError('bad_signature', 'signature or signer key has the wrong length');
  }
  const signed = signedPartOf(env, backend);
  if (!(yield* verifyStep(signed.bytes, sig, signer))) {
    throw new ProtocolError('bad_signature', 'the envelope signature does not verify: it was altered or forged');
  }
  return { hash: hashOfSignedBytes(signed.bytes, backend), keyDigests: signed.keyDigests };
}

export function verifyEnvelope(env: Envelope, trustedSigners: Uint8Array[], backend: CryptoBackend = naclBackend): VerifiedEnvelope {
  return runSync(verifyEnvelopeSteps(env, trustedSigners, backend), backend);
}
export const verifyEnvelopeAsync = (env: Envelope, trustedSigners: Uint8Array[], provider?: CryptoProvider): Promise<VerifiedEnvelope> =>
  runAsync(verifyEnvelopeSteps(env, trustedSigners, naclBackend), provider);

/**
 * A re-wrap: a staff member who can open an envelope wraps its content key to a newer
 * colleague and signs that, bound to the envelope's hash. The envelope itself is unchanged.
 */
export interface KeyGrant {
  v: typeof ENVELOPE_VERSION;
  envelopeHash: string;
  kid: string;
  epk: string;
  wrapped: string;
  /** the granting staff member's Ed25519 public key */
  granter: string;
  sig: string;
}

function grantMessage(g: Pick<KeyGrant, 'v' | 'envelopeHash' | 'kid' | 'epk' | 'wrapped'>): Uint8Array {
  return utf8('awaaz/v1/grant\n' + canonicalJson({ v: g.v, envelopeHash: g.envelopeHash, kid: g.kid, epk: g.epk, wrapped: g.wrapped }));
}

/** A grant of either version: v1 signed alone, v2 one of a signed batch (grant-tree.ts). v1 grants stay readable. */
export type AnyKeyGrant = KeyGrant | BatchKeyGrant;

type BatchGrantCheck = (grant: BatchKeyGrant, hash: string, trustedGranters: Uint8Array[], backend: CryptoBackend) => Steps<void>;
let batchGrantCheck: BatchGrantCheck | undefined;

/**
 * grant-batch.ts installs the check of v2 grants when it loads (staff pages and the server
 * import it through protocol/index.ts). Survivor pages never read grants, so their 80 KB
 * budget does not carry the Merkle code.
 */
export function acceptBatchGrants(check: BatchGrantCheck): void {
  batchGrantCheck = check;
}

/** Checks a grant of either version against the hash of the envelope it must belong to. */
export function* verifyAnyGrantSteps(grant: AnyKeyGrant, hash: string, trustedGranters: Uint8Array[], backend: CryptoBackend): Steps<void> {
  if (grant.v === 2) {
    if (!batchGrantCheck) throw new ProtocolError('unsupported_version', 'v2 key grants are read with protocol/grant-batch.ts loaded');
    return yield* batchGrantCheck(grant, hash, trustedGranters, backend);
  }
  if (grant.v !== ENVELOPE_VERSION) throw new ProtocolError('unsupported_version', 'this key grant version is not supported');
  const granter = fromBase64url(grant.granter);
  if (!trustedGranters.some((t) => equalBytes(t, granter)))
    throw new ProtocolError('untrusted_signer', 'the key grant is signed by a key this reader does not trust');
  if (grant.envelopeHash !== hash) throw new ProtocolError('wrong_context', 'the key grant belongs to another envelope');
  if (!(yield* verifyStep(grantMessage(grant), fromBase64url(grant.sig), granter))) {
    throw new ProtocolError('bad_signature', 'the key grant signature does not verify: it was altered or forged');
  }
}

function* verifyGrantSteps(grant: AnyKeyGrant, env: Envelope, trustedGranters: Uint8Array[], backend: CryptoBackend): Steps<void> {
  yield* verifyAnyGrantSteps(grant, envelopeHash(env, backend), trustedGranters, backend);
}

/** Checks a grant (v1 or v2) against the envelope it claims to open. */
export function verifyGrant(grant: AnyKeyGrant, env: Envelope, trustedGranters: Uint8Array[], backend: CryptoBackend = naclBackend): void {
  runSync(verifyGrantSteps(grant, env, trustedGranters, backend), backend);
}

export function* unwrapContentKeySteps(entry: { epk: string; wrapped: string }, box: nacl.BoxKeyPair): Steps<Uint8Array> {
  const wrapped = fromBase64url(entry.wrapped);
  const contentKey = nacl.box.open.after(
    wrapped.subarray(nacl.box.nonceLength),
    wrapped.subarray(0, nacl.box.nonceLength),
    yield* boxKeyStep(fromBase64url(entry.epk), box.secretKey),
  );
  if (!contentKey || contentKey.length !== nacl.secretbox.keyLength)
    throw new ProtocolError('decrypt_failed', 'the wrapped key does not open with this key');
  return contentKey;
}

export interface OpenInput {
  box: nacl.BoxKeyPair;
  expectedKind: string;
  expectedCaseId: string;
  trustedSigners: Uint8Array[];
  /** re-wraps addressed to this reader, and whose signatures it accepts on them */
  grants?: AnyKeyGrant[];
  trustedGranters?: Uint8Array[];
}

/** The content key for this reader: from its own entry, or from a verified grant. */
function* contentKeySteps(env: Envelope, input: Pick<OpenInput, 'box' | 'grants' | 'trustedGranters'>): Steps<Uint8Array> {
  const kid = keyId(input.box.publicKey);
  const entry = env.keys.find((k) => k.kid === kid && k.wrapped !== undefined && k.epk !== undefined);
  if (entry) return yield* unwrapContentKeySteps({ epk: entry.epk!, wrapped: entry.wrapped! }, input.box);
  const grant = input.grants?.find((g) => g.kid === kid);
  if (!grant) throw new ProtocolError('not_a_recipient', 'this envelope is not addressed to this key');
  yield* verifyGrantSteps(grant, env, input.trustedGranters ?? [], naclBackend);
  return yield* unwrapContentKeySteps(grant, input.box);
}

export type GrantInput = Pick<OpenInput, 'box' | 'grants' | 'trustedGranters'> & {
  recipient: Uint8Array;
  granter: nacl.SignKeyPair;
  random?: RandomBytes;
};

/** Wraps a content key to `recipient` with a fresh ephemeral key (and wipes the content key): a grant's {epk, wrapped}. */
export function* wrapContentKeySteps(
  contentKey: Uint8Array,
  recipient: Uint8Array,
  random: RandomBytes = (n) => nacl.randomBytes(n),
): Steps<{ epk: string; wrapped: string }> {
  const ephemeralSk = random(nacl.box.secretKeyLength);
  const nonce = random(nacl.box.nonceLength);
  const wrapped = toBase64url(concatBytes(nonce, nacl.box.after(contentKey, nonce, yield* boxKeyStep(recipient, ephemeralSk))));
  contentKey.fill(0);
  const epk = toBase64url(yield* boxPublicKeyStep(ephemeralSk));
  ephemeralSk.fill(0);
  return { epk, wrapped };
}

function* grantSteps(env: Envelope, input: GrantInput): Steps<KeyGrant> {
  const contentKey = yield* contentKeySteps(env, input);
  const { epk, wrapped } = yield* wrapContentKeySteps(contentKey, input.recipient, input.random);
  const unsigned = {
    v: ENVELOPE_VERSION,
    envelopeHash: envelopeHash(env),
    kid: keyId(input.recipient),
    epk,
    wrapped,
  } as const;
  const sig = yield* signStep(grantMessage(unsigned), input.granter.secretKey);
  return { ...unsigned, granter: toBase64url(input.granter.publicKey), sig: toBase64url(sig) };
}

/** Wraps an envelope's content key to another reader, signed by the granter. */
export const makeGrant = (env: Envelope, input: GrantInput): KeyGrant => runSync(grantSteps(env, input));
export const makeGrantAsync = (env: Envelope, input: GrantInput, provider?: CryptoProvider): Promise<KeyGrant> =>
  runAsync(grantSteps(env, input), provider);

export interface Opened<T> {
  body: T & { v: number; kind: string; caseId: string };
  signer: string;
  /** envelopeHash, computed on the way (a thread reader checks `prev` links with it) */
  hash: string;
}

function* openSteps<T>(env: Envelope, input: OpenInput): Steps<Opened<T>> {
  const { hash } = yield* verifyEnvelopeSteps(env, input.trustedSigners, naclBackend);
  if (env.kind !== input.expectedKind || env.caseId !== input.expectedCaseId) {
    throw new ProtocolError('wrong_context', 'the envelope belongs to another case or kind');
  }
  const contentKey = yield* contentKeySteps(env, input);
  const ciphertext = fromBase64url(env.ciphertext);
  const padded = nacl.secretbox.open(
    ciphertext.subarray(nacl.secretbox.nonceLength),
    ciphertext.subarray(0, nacl.secretbox.nonceLength),
    contentKey,
  );
  contentKey.fill(0);
  if (!padded) throw new ProtocolError('decrypt_failed', 'the ciphertext does not decrypt: it was altered');

  let body: Opened<T>['body'];
  try {
    body = JSON.parse(fromUtf8(unpad(padded))) as Opened<T>['body'];
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError('bad_plaintext', 'the decrypted plaintext is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || body.v !== ENVELOPE_VERSION || body.kind !== env.kind || body.caseId !== env.caseId) {
    throw new ProtocolError('wrong_context', 'the plaintext names another case, kind or version than its envelope');
  }
  return { body, signer: env.signer, hash };
}

export const openEnvelope = <T = Record<string, unknown>>(env: Envelope, input: OpenInput): Opened<T> => runSync(openSteps<T>(env, input));
export const openEnvelopeAsync = <T = Record<string, unknown>>(
  env: Envelope,
  input: OpenInput,
  provider?: CryptoProvider,
): Promise<Opened<T>> => runAsync(openSteps<T>(env, input), provider);

/**
 * A case's thread, in the order the server returned it: the testimony first, then each
 * message naming the one before it. Throws at the first envelope out of place, so a reader
 * refuses a thread that was reordered, spliced, or given a message from another case.
 * (Signatures are checked when each envelope is opened.) `hashes`, when given, are the
 * envelopes' envelopeHash as opening them computed it, so they are not computed twice.
 * With `from`, checks only the run from entry `from` to the newest (a reader opening the
 * thread newest first, a slice at a time): each entry in it, and each link inside it; the
 * link of entry `from` to the one before it is left for a run that holds that one.
 */
export function verifyThread(thread: Envelope[], caseId: string, hashes?: string[], from = 0): void {
  // A case always has its testimony: a thread without one is not shown as complete.
  if (thread.length === 0) throw new ProtocolError('bad_thread', 'a thread must start with its testimony');
  for (let i = from; i < thread.length; i++) {
    const env = thread[i];
    if (env.caseId !== caseId) throw new ProtocolError('wrong_context', `thread entry ${i + 1} belongs to another case`);
    if (i === 0) {
      if (env.kind !== 'testimony' || env.prev !== undefined)
        throw new ProtocolError('bad_thread', 'a thread must start with its testimony');
      continue;
    }
    if (env.kind !== 'message') throw new ProtocolError('bad_thread', `thread entry ${i + 1} is not a message`);
    if (i > from && env.prev !== (hashes?.[i - 1] ?? envelopeHash(thread[i - 1])))
      throw new ProtocolError(
        'bad_thread',
        `thread entry ${i + 1} does not follow entry ${i}: messages were reordered, removed or swapped`,
      );
  }
}
