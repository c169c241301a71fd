/**
 * The browser side of bench/browser-crypto.ts, bundled by it with esbuild and run in Chromium
 * and Firefox ESR. "Before" is the code the pages ran until issue 17, kept here as it was:
 * verifyThread, then the synchronous tweetnacl openEnvelope of every entry, sealEnvelope,
 * makeGrant and solvePow on the main thread. "After" is the pages' code now: openThread and
 * sealMessage from client/lib/case-thread.ts (the crypto provider: WebCrypto where the browser
 * has it), makeGrantAsync in a batch, solvePowAsync; and for sharing, grants v2 (issue 17:
 * rewrapKeyAsync in slices, signGrantBatchAsync once per 1,000) beside both. The same envelopes, keys and challenges
 * on both sides, in the same page. The longest task is taken from the Long Tasks API where
 * the browser has it (Chromium; tasks of 50 ms or more), and otherwise from the gaps a 10 ms
 * timer measures between its own runs.
 */
import nacl from 'tweetnacl';
import {
  cryptoProvider,
  envelopeHash,
  fromBase64url,
  keyId,
  makeGrant,
  makeGrantAsync,
  MAX_GRANT_BATCH,
  naclProvider,
  rewrapKeyAsync,
  signGrantBatchAsync,
  openEnvelope,
  readersOf,
  sealEnvelope,
  sealEnvelopeAsync,
  signKeyset,
  solvePow,
  solvePowAsync,
  toBase64url,
  verifyKeysetHistory,
  verifyThread,
  type Envelope,
  type Keyset,
  type KeysetMember,
  type VerifiedHistory,
} from '../../protocol';
import type { EnvelopeItem } from '../../protocol/api';
import { newestFirst, openThread, sealMessage } from '../../client/lib/case-thread';
import type { CaseOpenResult, GrantResult, SendResult, Timed } from '../lib/browser-crypto-types';

/** Runs `work` while watching the main thread: the longest task it saw. */
async function timed(work: () => unknown): Promise<Timed> {
  let longest = 0;
  const hasLongTasks = typeof PerformanceObserver !== 'undefined' && PerformanceObserver.supportedEntryTypes.includes('longtask');
  const observer = hasLongTasks
    ? new PerformanceObserver((list) => {
        for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
      })
    : undefined;
  observer?.observe({ type: 'longtask' });
  // Without the Long Tasks API: a timer due every 10 ms that arrives late was held up by a task.
  let last = performance.now();
  let ticking = !hasLongTasks;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 10);
    last = now;
    if (ticking) setTimeout(tick, 10);
  };
  if (ticking) setTimeout(tick, 10);
  const t = performance.now();
  await work();
  const ms = performance.now() - t;
  // Let the last long task be reported.
  await new Promise((r) => setTimeout(r, 60));
  ticking = false;
  observer?.disconnect();
  return { ms, longestTask: Math.round(longest) };
}

interface World {
  caseId: string;
  survivor: { sign: nacl.SignKeyPair; box: nacl.BoxKeyPair };
  moderators: { sign: nacl.SignKeyPair; box: nacl.BoxKeyPair }[];
  /** a moderator who joined later and reads through grants */
  newcomer: { sign: nacl.SignKeyPair; box: nacl.BoxKeyPair };
  keyset: Keyset;
  history: VerifiedHistory;
  items: EnvelopeItem[];
}

const pair = () => ({ sign: nacl.sign.keyPair(), box: nacl.box.keyPair() });

/** A case of `messages` messages after its testimony, alternately from the survivor and a moderator (not timed). */
async function world(messages: number, moderatorCount = 3): Promise<World> {
  const survivor = pair();
  const moderators = Array.from({ length: moderatorCount }, pair);
  const newcomer = pair();
  const instance = nacl.sign.keyPair();
  const member = (p: { sign: nacl.SignKeyPair; box: nacl.BoxKeyPair }, i: number): KeysetMember => ({
    staffId: `staff-${i}`,
    username: `mod.${i}`,
    roles: ['moderator'],
    boxPk: toBase64url(p.box.publicKey),
    signPk: toBase64url(p.sign.publicKey),
  });
  const keyset: Keyset = {
    v: 1,
    instanceId: 'bench',
    version: 1,
    prev: null,
    issuedDay: '2026-11-30',
    members: [...moderators, newcomer].map(member),
  };
  const signed = signKeyset(keyset, instance);
  const history = verifyKeysetHistory([signed], { instanceId: 'bench' });
  const caseId = 'bench-case';
  const readers = moderators.map((m) => m.box.publicKey);
  const items: EnvelopeItem[] = [];
  let prev: string | undefined;
  for (let i = 0; i <= messages; i++) {
    const from = i === 0 || i % 2 === 1 ? survivor : moderators[i % moderators.length];
    const envelope: Envelope = await sealEnvelopeAsync({
      kind: i === 0 ? 'testimony' : 'message',
      caseId,
      prev,
      body:
        i === 0
          ? { testimony: { what: 'What happened, told at some length. '.repeat(20), when: '', context: 'workplace', wantsReplies: true } }
          : { text: `Message ${i}: ` + 'a reply of ordinary length. '.repeat(8) },
      recipients: [survivor.box.publicKey, ...readers],
      signer: from.sign,
    });
    prev = envelopeHash(envelope);
    items.push({ id: i + 1, seq: i, day: '2026-11-30', envelope, grants: [] } as unknown as EnvelopeItem);
  }
  return { caseId, survivor, moderators, newcomer, keyset, history, items };
}

/** The thread as a reader opened it before issue 17: order first, then every entry, synchronously with tweetnacl. */
function openBefore(w: World, box: nacl.BoxKeyPair, items: EnvelopeItem[]): number {
  verifyThread(
    items.map((i) => i.envelope),
    w.caseId,
  );
  const survivor = w.survivor.sign.publicKey;
  const granters = [...w.history.signers.keys()].map(fromBase64url);
  let opened = 0;
  for (const i of items) {
    const env = i.envelope;
    const staff = w.history.signers.has(env.signer);
    openEnvelope(env, {
      box,
      expectedKind: env.kind,
      expectedCaseId: env.caseId,
      trustedSigners: staff ? [fromBase64url(env.signer)] : [survivor],
      grants: i.grants,
      trustedGranters: granters,
    });
    opened++;
  }
  return opened;
}

function openAfter(w: World, box: nacl.BoxKeyPair, items: EnvelopeItem[]) {
  return openThread(w.caseId, items, { box }, { survivorSignPk: toBase64url(w.survivor.sign.publicKey), history: w.history });
}

export async function caseOpen(messages: number): Promise<CaseOpenResult> {
  const w = await world(messages);
  const reader = w.moderators[0].box;
  const provider = (await cryptoProvider()).name;
  const before = await timed(() => openBefore(w, reader, w.items));
  const after = await timed(() => openAfter(w, reader, w.items));
  const afterAgain = await timed(() => openAfter(w, reader, w.items));
  // Another case, whose signatures this page has not seen, read by a newcomer through grants (made untimed).
  const g = await world(messages);
  const granted = await Promise.all(
    g.items.map(async (i) => ({
      ...i,
      grants: [
        await makeGrantAsync(i.envelope, { box: g.moderators[0].box, recipient: g.newcomer.box.publicKey, granter: g.moderators[0].sign }),
      ],
    })),
  );
  const grantsBefore = await timed(() => openBefore(g, g.newcomer.box, granted));
  const grantsAfter = await timed(() => openAfter(g, g.newcomer.box, granted));
  return { messages, provider, before, after, afterAgain, grantsBefore, grantsAfter };
}

/**
 * Re-wrapping `envelopes` envelopes for a newcomer: grants v1 as the staff page made them
 * until issue 17's batches (the whole envelope downloaded, one signature per envelope, 100 per
 * request), synchronously ("before") and with the provider ("after"); and grants v2 as the
 * page makes them now (hashes and own key entries, re-wrapped in slices, one signature per
 * 1,000). Bytes are the JSON each way per envelope, as the routes send and take it.
 */
export async function grantBatch(envelopes: number): Promise<GrantResult> {
  const w = await world(envelopes - 1);
  const me = { box: w.moderators[0].box, granter: w.moderators[0].sign, recipient: w.newcomer.box.publicKey };
  const pages = (size: number) => Array.from({ length: Math.ceil(envelopes / size) }, (_, b) => w.items.slice(b * size, b * size + size));
  const v1Posted: string[] = [];
  const before = await timed(async () => {
    for (const batch of pages(100)) {
      batch.map((i) => makeGrant(i.envelope, me));
      await new Promise((r) => setTimeout(r, 0)); // the request between batches
    }
  });
  const after = await timed(async () => {
    for (const batch of pages(100)) {
      const grants = await Promise.all(batch.map((i) => makeGrantAsync(i.envelope, me)));
      v1Posted.push(...grants.map((grant, k) => JSON.stringify({ envelopeId: batch[k].id, grant })));
      await new Promise((r) => setTimeout(r, 0));
    }
  });
  // What GET /api/staff/grants/pending sends for v2: the stored hash and the granter's own entry.
  const myKid = keyId(me.box.publicKey);
  const pending = w.items.map((i) => {
    const key = i.envelope.keys.find((k) => k.kid === myKid)!;
    return {
      id: i.id,
      caseId: i.envelope.caseId,
      kind: i.envelope.kind,
      hash: envelopeHash(i.envelope),
      key: { kid: key.kid, epk: key.epk!, wrapped: key.wrapped! },
      grants: [],
    };
  });
  const rewrap = { box: me.box, recipient: me.recipient, trustedGranters: [] };
  const v2Posted: string[] = [];
  // The preparation above is one long task: let it end before watching for long tasks.
  await new Promise((r) => setTimeout(r, 0));
  const v2 = await timed(async () => {
    for (let at = 0; at < pending.length; at += MAX_GRANT_BATCH) {
      const page = pending.slice(at, at + MAX_GRANT_BATCH);
      const leaves = await newestFirst(page.length, (k) => rewrapKeyAsync({ envelopeHash: page[k].hash, key: page[k].key }, rewrap));
      const { sig } = await signGrantBatchAsync(leaves, me.granter);
      const grants = leaves.map((l, k) => ({ envelopeId: page[k].id, epk: l.epk, wrapped: l.wrapped }));
      v2Posted.push(JSON.stringify({ staffId: 'AAAAAAAAAAAAAAAAAAAAAA', sig, grants }));
      await new Promise((r) => setTimeout(r, 0)); // the request between batches
    }
  });
  // Where the provider is tweetnacl (no WebCrypto Ed25519): every operation is JavaScript, and
  // v1's signature per envelope weighs. On at most 500 envelopes, to keep the run short.
  const few = pending.slice(0, 500);
  await new Promise((r) => setTimeout(r, 0));
  const v1Nacl = await timed(async () => {
    for (let at = 0; at < few.length; at += 100) {
      await Promise.all(w.items.slice(at, Math.min(at + 100, few.length)).map((i) => makeGrantAsync(i.envelope, me, naclProvider)));
      await new Promise((r) => setTimeout(r, 0));
    }
  });
  const v2Nacl = await timed(async () => {
    const leaves = await newestFirst(few.length, (k) =>
      rewrapKeyAsync({ envelopeHash: few[k].hash, key: few[k].key }, rewrap, naclProvider),
    );
    await signGrantBatchAsync(leaves, me.granter, naclProvider);
  });
  // Signing alone, on a page's leaves made again (not part of the figures above).
  const lastPage = pending.slice(0, MAX_GRANT_BATCH);
  const lastLeaves = await newestFirst(lastPage.length, (k) =>
    rewrapKeyAsync({ envelopeHash: lastPage[k].hash, key: lastPage[k].key }, rewrap),
  );
  await new Promise((r) => setTimeout(r, 0));
  const v2Sign = await timed(() => signGrantBatchAsync(lastLeaves, me.granter));
  const perEnvelope = (texts: string[]) => Math.round(texts.reduce((n, t) => n + t.length, 0) / envelopes);
  return {
    envelopes,
    before,
    after,
    v2,
    v2Sign: { ...v2Sign, leaves: lastLeaves.length },
    tweetnacl: { envelopes: few.length, v1: v1Nacl, v2: v2Nacl },
    v1: {
      requests: 2 * Math.ceil(envelopes / 100),
      downBytes: perEnvelope(w.items.map((i) => JSON.stringify({ id: i.id, caseId: i.envelope.caseId, envelope: i.envelope, grants: [] }))),
      upBytes: perEnvelope(v1Posted),
    },
    v2Traffic: {
      requests: 2 * Math.ceil(envelopes / MAX_GRANT_BATCH),
      downBytes: perEnvelope(pending.map((p) => JSON.stringify(p))),
      upBytes: perEnvelope(v2Posted),
    },
  };
}

export async function survivorSend(bits: number): Promise<SendResult> {
  const w = await world(20);
  const provider = (await cryptoProvider()).name;
  const challenges = ['bench-challenge-1', 'bench-challenge-2'];
  const readers = readersOf(w.keyset);
  const body = { testimony: { what: 'What happened. '.repeat(40), when: '', context: 'workplace', wantsReplies: true } };
  const firstBefore = await timed(() => {
    for (const c of challenges) solvePow(c, bits);
    nacl.sign.detached(new Uint8Array(64), w.survivor.sign.secretKey);
    sealEnvelope({ kind: 'testimony', caseId: 'c', body, recipients: [w.survivor.box.publicKey, ...readers], signer: w.survivor.sign });
  });
  const firstAfter = await timed(async () => {
    for (const c of challenges) await solvePowAsync(c, bits);
    await (await cryptoProvider()).sign(new Uint8Array(64), w.survivor.sign.secretKey);
    await sealEnvelopeAsync({
      kind: 'testimony',
      caseId: 'c',
      body,
      recipients: [w.survivor.box.publicKey, ...readers],
      signer: w.survivor.sign,
    });
  });
  const reply = {
    caseId: w.caseId,
    thread: w.items,
    text: 'Thank you. '.repeat(20),
    survivorBoxPk: toBase64url(w.survivor.box.publicKey),
    keyset: w.keyset,
    signer: w.survivor.sign,
  };
  const replyBefore = await timed(() => {
    const prev = envelopeHash(w.items[w.items.length - 1].envelope);
    sealEnvelope({
      kind: 'message',
      caseId: w.caseId,
      prev,
      body: { text: reply.text },
      recipients: [w.survivor.box.publicKey, ...readers],
      signer: w.survivor.sign,
    });
  });
  const replyAfter = await timed(() => sealMessage(reply));
  const openBefore_ = await timed(() => openBefore(w, w.survivor.box, w.items));
  const openAfter_ = await timed(() => openAfter(w, w.survivor.box, w.items));
  return { provider, firstBefore, firstAfter, replyBefore, replyAfter, openBefore: openBefore_, openAfter: openAfter_ };
}

(globalThis as Record<string, unknown>).cryptoBench = { caseOpen, grantBatch, survivorSend };
