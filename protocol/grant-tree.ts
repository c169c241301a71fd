/**
 * Key grants v2 (issue 17): a granter signs a whole batch of grants once. Each grant is a leaf
 * of a Merkle tree; the granter signs the tree's root; each stored grant carries the
 * authentication path from its leaf to the root, so it verifies alone.
 *
 *   leaf(g)  = H(0x00 || "awaaz/v2/grant-leaf\n" || canonicalJson({envelopeHash, kid, epk, wrapped}))
 *   node(l,r) = H(0x01 || l || r)
 *   H = SHA-512 truncated to 32 bytes
 *   tree: RFC 9162 section 2.1.1 (split at the largest power of two below n; an odd node is
 *         never duplicated, so no two batches of different leaves share a root)
 *   sig = Ed25519(granter, "awaaz/v2/grant-batch\n" || canonicalJson({v: 2, granter, root, count}))
 *
 * Verifying one grant: recompute its leaf, fold its path to a root (RFC 9162 section 2.1.3.2,
 * which also checks that the path's length fits index and count), and check the signature over
 * that root. Every grant of a batch signs the same bytes, so a reader whose crypto provider
 * remembers verified signatures (crypto-provider.ts rememberingVerified) checks one signature
 * per batch. The root is not stored: it is what the path folds to, so it cannot disagree.
 *
 * This file holds what a reader needs; grant-batch.ts installs it into envelope.ts (so that
 * openEnvelope accepts v2 grants) and makes and checks whole batches. Survivor pages, which
 * never read grants, carry neither.
 */
import { canonicalJson, concatBytes, equalBytes, fromBase64url, ProtocolError, toBase64url, utf8 } from './encoding';
import { verifyStep, type Steps } from './crypto-steps';
import type { CryptoBackend } from './signatures';

export const BATCH_GRANT_VERSION = 2;
/** The most grants one batch may hold (a POST of a batch; docs/api.md). */
export const MAX_GRANT_BATCH = 1000;
/** Paths are at most this long (a tree of MAX_GRANT_BATCH leaves needs 10). */
const MAX_PATH = 20;

/** What a leaf commits to: the content key of `envelopeHash`, wrapped to `kid`. */
export interface GrantLeaf {
  envelopeHash: string;
  kid: string;
  epk: string;
  wrapped: string;
}

/** A v2 key grant as stored and read: one leaf of a signed batch, with its path to the root. */
export interface BatchKeyGrant extends GrantLeaf {
  v: typeof BATCH_GRANT_VERSION;
  /** the granting staff member's Ed25519 public key */
  granter: string;
  /** how many grants the signed batch holds */
  count: number;
  /** this grant's position in the batch, 0-based */
  index: number;
  /** sibling hashes from the leaf up to the root, base64url of 32 bytes each */
  path: string[];
  /** the granter's signature over the batch (batchMessage) */
  sig: string;
}

type Sha512 = CryptoBackend['sha512'];

const LEAF_PREFIX = Uint8Array.of(0);
const NODE_PREFIX = Uint8Array.of(1);

export function grantLeafBytes(leaf: GrantLeaf): Uint8Array {
  return utf8(
    'awaaz/v2/grant-leaf\n' + canonicalJson({ envelopeHash: leaf.envelopeHash, kid: leaf.kid, epk: leaf.epk, wrapped: leaf.wrapped }),
  );
}

export function leafHash(leaf: GrantLeaf, sha512: Sha512): Uint8Array {
  return sha512(concatBytes(LEAF_PREFIX, grantLeafBytes(leaf))).slice(0, 32);
}

function nodeHash(left: Uint8Array, right: Uint8Array, sha512: Sha512): Uint8Array {
  return sha512(concatBytes(NODE_PREFIX, left, right)).slice(0, 32);
}

/** What the granter signs for a batch. */
export function batchMessage(granter: string, root: Uint8Array, count: number): Uint8Array {
  return utf8('awaaz/v2/grant-batch\n' + canonicalJson({ v: BATCH_GRANT_VERSION, granter, root: toBase64url(root), count }));
}

/** The root of the leaves' tree and each leaf's path (leaf to root), in O(n log n) hashes. */
export function grantTree(leaves: Uint8Array[], sha512: Sha512): { root: Uint8Array; paths: Uint8Array[][] } {
  if (leaves.length === 0) throw new ProtocolError('bad_grant', 'a grant batch needs at least one grant');
  const paths: Uint8Array[][] = leaves.map(() => []);
  const build = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return leaves[lo];
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    const left = build(lo, lo + k);
    const right = build(lo + k, hi);
    for (let i = lo; i < lo + k; i++) paths[i].push(right);
    for (let i = lo + k; i < hi; i++) paths[i].push(left);
    return nodeHash(left, right, sha512);
  };
  return { root: build(0, leaves.length), paths };
}

/** RFC 9162 2.1.3.2: the root a leaf's path leads to, or undefined if the path cannot belong to (index, count). */
export function foldPath(leaf: Uint8Array, index: number, count: number, path: Uint8Array[], sha512: Sha512): Uint8Array | undefined {
  let fn = index;
  let sn = count - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r, sha512);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p, sha512);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

function decodeHash(text: unknown, what: string): Uint8Array {
  const bytes = typeof text === 'string' ? fromBase64url(text) : undefined;
  if (bytes?.length !== 32) throw new ProtocolError('bad_grant', `${what} must be 32 bytes in base64url`);
  return bytes;
}

/**
 * Checks a v2 grant alone: granted by a trusted key, for the envelope whose hash the reader
 * computed (or, for a granter re-wrapping, the hash the server states), in a batch whose
 * signature covers it.
 */
export function* verifyBatchGrantSteps(
  grant: BatchKeyGrant,
  envelopeHash: string,
  trustedGranters: Uint8Array[],
  backend: CryptoBackend,
): Steps<void> {
  const granter = fromBase64url(grant.granter);
  if (!trustedGranters.some((t) => equalBytes(t, granter)))
    throw new ProtocolError('untrusted_signer', 'the key grant is signed by a key this reader does not trust');
  if (grant.envelopeHash !== envelopeHash) throw new ProtocolError('wrong_context', 'the key grant belongs to another envelope');
  const { count, index, path } = grant;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_GRANT_BATCH)
    throw new ProtocolError('bad_grant', `a grant batch holds 1 to ${MAX_GRANT_BATCH} grants`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new ProtocolError('bad_grant', 'the grant index is outside its batch');
  if (!Array.isArray(path) || path.length > MAX_PATH) throw new ProtocolError('bad_grant', 'the grant path is not a list of hashes');
  const sha512 = (bytes: Uint8Array) => backend.sha512(bytes);
  const root = foldPath(
    leafHash(grant, sha512),
    index,
    count,
    path.map((p, i) => decodeHash(p, `path[${i}]`)),
    sha512,
  );
  if (!root) throw new ProtocolError('bad_grant', 'the grant path does not fit its index and batch size');
  if (!(yield* verifyStep(batchMessage(grant.granter, root, count), fromBase64url(grant.sig), granter))) {
    throw new ProtocolError('bad_signature', 'the key grant is not in a batch its granter signed: it was altered or forged');
  }
}
