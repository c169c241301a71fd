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

export interface GrantResult {
  envelopes: number;
  before: Timed;
  after: Timed;
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
