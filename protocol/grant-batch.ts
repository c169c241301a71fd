/**
 * Making and checking whole batches of v2 key grants (grant-tree.ts says what they are).
 *
 * A granter receives, per envelope, only the hash the server stores and its own way in (its
 * key entry, or grants to it): not the ciphertext. So it cannot check the envelope's
 * signature, and does not need to: a grant only re-wraps a content key the granter can open,
 * bound to the stated hash, and the reader checks the envelope's signature and that hash when
 * it opens it. A server that lies about a hash gets a grant that opens nothing (SECURITY.md).
 *
 * Staff pages and the server import this (protocol/index.ts); survivor pages need only the
 * reader's side, in grant-tree.ts.
 */
import type nacl from 'tweetnacl';
import { fromBase64url, ProtocolError, toBase64url } from './encoding';
import { naclBackend, type CryptoBackend } from './signatures';
import type { CryptoProvider } from './crypto-provider';
import { runAsync, runSync, signStep, verifyStep, type Steps } from './crypto-steps';
import {
  acceptBatchGrants,
  keyId,
  unwrapContentKeySteps,
  verifyAnyGrantSteps,
  wrapContentKeySteps,
  type AnyKeyGrant,
  type RandomBytes,
} from './envelope';
import {
  batchMessage,
  BATCH_GRANT_VERSION,
  grantTree,
  leafHash,
  MAX_GRANT_BATCH,
  verifyBatchGrantSteps,
  type BatchKeyGrant,
  type GrantLeaf,
} from './grant-tree';

acceptBatchGrants(verifyBatchGrantSteps);

/** What a granter receives about one envelope (GET /api/staff/grants/pending). */
export interface GrantSource {
  /** the envelope's hash, as the server computed it when the envelope was submitted */
  envelopeHash: string;
  /** the granter's own key entry, when the envelope was sealed to it */
  key?: { kid: string; epk: string; wrapped: string };
  /** grants addressed to the granter, when it reads the envelope through one */
  grants?: AnyKeyGrant[];
}

export interface RewrapInput {
  box: nacl.BoxKeyPair;
  /** the colleague's box public key */
  recipient: Uint8Array;
  /** whose grants the granter accepts, for an envelope it reads through a grant */
  trustedGranters: Uint8Array[];
  random?: RandomBytes;
}

function* rewrapSteps(source: GrantSource, input: RewrapInput): Steps<GrantLeaf> {
  const kid = keyId(input.box.publicKey);
  let contentKey: Uint8Array;
  if (source.key?.kid === kid) {
    contentKey = yield* unwrapContentKeySteps(source.key, input.box);
  } else {
    const grant = source.grants?.find((g) => g.kid === kid);
    if (!grant) throw new ProtocolError('not_a_recipient', 'this envelope is not addressed to this key');
    yield* verifyAnyGrantSteps(grant, source.envelopeHash, input.trustedGranters, naclBackend);
    contentKey = yield* unwrapContentKeySteps(grant, input.box);
  }
  const { epk, wrapped } = yield* wrapContentKeySteps(contentKey, input.recipient, input.random);
  return { envelopeHash: source.envelopeHash, kid: keyId(input.recipient), epk, wrapped };
}

/** One leaf: the envelope's content key, opened with the granter's key, wrapped to the colleague. Not signed yet. */
export const rewrapKey = (source: GrantSource, input: RewrapInput): GrantLeaf => runSync(rewrapSteps(source, input));
export const rewrapKeyAsync = (source: GrantSource, input: RewrapInput, provider?: CryptoProvider): Promise<GrantLeaf> =>
  runAsync(rewrapSteps(source, input), provider);

const sha512Of = (backend: CryptoBackend) => (bytes: Uint8Array) => backend.sha512(bytes);

function treeOf(leaves: GrantLeaf[], backend: CryptoBackend): ReturnType<typeof grantTree> {
  const sha512 = sha512Of(backend);
  return grantTree(
    leaves.map((l) => leafHash(l, sha512)),
    sha512,
  );
}

function checkBatchSize(count: number): void {
  if (count < 1 || count > MAX_GRANT_BATCH) throw new ProtocolError('bad_grant', `a grant batch holds 1 to ${MAX_GRANT_BATCH} grants`);
}

/** The stored grants of a batch whose root is `root`: each leaf with its path, all with the one signature. */
function grantsOf(leaves: GrantLeaf[], granter: string, paths: Uint8Array[][], sig: string): BatchKeyGrant[] {
  return leaves.map((l, index) => ({
    v: BATCH_GRANT_VERSION,
    envelopeHash: l.envelopeHash,
    kid: l.kid,
    epk: l.epk,
    wrapped: l.wrapped,
    granter,
    count: leaves.length,
    index,
    path: paths[index].map(toBase64url),
    sig,
  }));
}

/** The batch signature over the leaves' root (and the tree, for whoever wants the paths). */
function* batchSignatureSteps(
  leaves: GrantLeaf[],
  granter: nacl.SignKeyPair,
  leafHashes: Uint8Array[] = leaves.map((l) => leafHash(l, sha512Of(naclBackend))),
): Steps<{ sig: string; granterPk: string; paths: Uint8Array[][] }> {
  checkBatchSize(leaves.length);
  const { root, paths } = grantTree(leafHashes, sha512Of(naclBackend));
  const granterPk = toBase64url(granter.publicKey);
  const sig = toBase64url(yield* signStep(batchMessage(granterPk, root, leaves.length), granter.secretKey));
  return { sig, granterPk, paths };
}

function* signGrantBatchSteps(leaves: GrantLeaf[], granter: nacl.SignKeyPair): Steps<{ sig: string; grants: BatchKeyGrant[] }> {
  const { sig, granterPk, paths } = yield* batchSignatureSteps(leaves, granter);
  return { sig, grants: grantsOf(leaves, granterPk, paths, sig) };
}

/** Leaves hashed per this many between the page's turns: a thousand at once is a task of 100 ms or more on a slow machine. */
const HASH_SLICE = 100;

/** Signs a batch of leaves once: the signature, and each leaf as a grant that verifies alone. */
export const signGrantBatch = (leaves: GrantLeaf[], granter: nacl.SignKeyPair) => runSync(signGrantBatchSteps(leaves, granter));

/**
 * The batch signature alone, for a page that posts the batch (POST /api/staff/grants/batch
 * takes the leaves' keys and `sig`; the server makes the paths): the leaves are hashed a slice
 * at a time, and the signature goes through the provider.
 */
export async function signGrantBatchAsync(
  leaves: GrantLeaf[],
  granter: nacl.SignKeyPair,
  provider?: CryptoProvider,
): Promise<{ sig: string }> {
  const hashes: Uint8Array[] = [];
  for (let at = 0; at < leaves.length; at += HASH_SLICE) {
    for (const l of leaves.slice(at, at + HASH_SLICE)) hashes.push(leafHash(l, sha512Of(naclBackend)));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const { sig } = await runAsync(batchSignatureSteps(leaves, granter, hashes), provider);
  return { sig };
}

/**
 * The server's check of a posted batch: the leaves in the order they were signed (each with
 * the envelope hash the server stores), the granter and its one signature. The root is
 * recomputed from the leaves, so a leaf naming another envelope, key or order fails the
 * signature. Returns the grants to store, each with its path.
 */
export function verifyGrantBatch(leaves: GrantLeaf[], granter: string, sig: string, backend: CryptoBackend = naclBackend): BatchKeyGrant[] {
  checkBatchSize(leaves.length);
  const { root, paths } = treeOf(leaves, backend);
  if (!runSync(verifyStep(batchMessage(granter, root, leaves.length), fromBase64url(sig), fromBase64url(granter)), backend)) {
    throw new ProtocolError('bad_signature', 'the grant batch signature does not verify over these grants: altered, reordered or forged');
  }
  return grantsOf(leaves, granter, paths, sig);
}
