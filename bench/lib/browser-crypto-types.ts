/** What bench/browser/crypto-page.ts answers bench/browser-crypto.ts (apart, so the Node side needs no DOM types). */

export interface Timed {
  /** milliseconds */
  ms: number;
  /** the longest main-thread task seen meanwhile, milliseconds */
  longestTask: number;
}

export interface CaseOpenResult {
  messages: number;
  provider: string;
  before: Timed;
  after: Timed;
  /** the same thread opened again in the same page: only what is new is checked */
  afterAgain: Timed;
  /** as a moderator who reads through grants (one per envelope) */
  grantsBefore: Timed;
  grantsAfter: Timed;
}

/** Requests and JSON bytes per envelope, each way, of one way of sharing. */
export interface GrantTraffic {
  requests: number;
  /** GET /api/staff/grants/pending, per envelope */
  downBytes: number;
  /** POST /api/staff/grants (v1) or /grants/batch (v2), per envelope */
  upBytes: number;
}

export interface GrantResult {
  envelopes: number;
  /** grants v1, tweetnacl, synchronous (the pages before issue 17) */
  before: Timed;
  /** grants v1 with the provider, 100 a request */
  after: Timed;
  /** grants v2 with the provider: hashes and own key entries in, one signature per 1,000 */
  v2: Timed;
  /** signing one batch alone (hashing its leaves, the tree, one signature) */
  v2Sign: Timed & { leaves: number };
  /** v1 and v2 with the tweetnacl provider (a browser without WebCrypto Ed25519), on at most 500 envelopes */
  tweetnacl: { envelopes: number; v1: Timed; v2: Timed };
  v1: GrantTraffic;
  v2Traffic: GrantTraffic;
}

export interface SendResult {
  provider: string;
  /** a survivor's first testimony: two 14-bit proofs of work, the login signature, the sealed testimony */
  firstBefore: Timed;
  firstAfter: Timed;
  /** a reply in a thread: the keyset checked, the message sealed to the survivor and the moderators */
  replyBefore: Timed;
  replyAfter: Timed;
  /** opening a 20-message thread */
  openBefore: Timed;
  openAfter: Timed;
}
