/**
 * Sharing 10,000 and 60,000 envelopes with a new moderator in the REAL staff page (issue 17:
 * "sharing 10,000 cases takes under 10 s"), for bench/browser-crypto.ts: the built server
 * (dist/server/main.js on a fresh SQLite file) and the built staff page in Chromium.
 *
 * Seeding (not measured): cases of a testimony and four messages, each envelope sealed for
 * real in Node with protocol/ (WebCrypto through the crypto provider, many cases at once: each
 * case's chain in order, the cases side by side), checked with verifyEnvelopeAsync (the
 * signature, and the hash and key digests the server stores), then written through the
 * server's own repositories (caseRepo.insertMany, envelopeRepo.insertMany: the rows the API
 * writes) in transactions of a few thousand envelopes. The API would check each envelope
 * the same way, one request each, which takes minutes for 60,000.
 *
 * Measured, per size, on one server one after the other: a moderator who joins after the
 * envelopes were written (so none is theirs), and the admin's page, signed in afresh, pressing
 * "Share older cases with …": the time from the click until the page says "Done: shared N.",
 * the longest main-thread task meanwhile (Long Tasks API), and every request the page made
 * meanwhile with its request and response body sizes (playwright's Request.sizes(): bytes as
 * sent on the wire).
 */
import { chromium, type Page, type Request } from 'playwright-core';
import {
  envelopeHash,
  randomId,
  readersOf,
  sealEnvelopeAsync,
  toBase64url,
  verifyEnvelopeAsync,
  webCryptoProvider,
  type CryptoProvider,
  type Envelope,
  type SignedKeyset,
} from '../../protocol';
import type { InstanceInfo } from '../../protocol/api';
import { caseRepo } from '../../server/db/case-repo';
import type { Db } from '../../server/db/database';
import { envelopeRepo, type NewEnvelope } from '../../server/db/envelope-repo';
import { totp, totpStep } from '../../server/http/totp';
import { CHROMIUM_ARGS, startServer } from '../../test/support/awaaz-server';
import { addStaff, currentKeyset, JsonClient, registerSurvivor, setupAdmin, testimonyText, type Staff, type Survivor } from './fixtures';

/** Envelopes per case: a testimony and four messages (the "cases with five messages"). */
export const ENVELOPES_PER_CASE = 5;

export interface ShareResult {
  envelopes: number;
  /** the page's own words at the end ("Done: shared 10000.") */
  status: string;
  seedSeconds: number;
  /** from the click to the page saying it is done */
  ms: number;
  /** the longest main-thread task in between (Long Tasks API: 0 when none reached 50 ms) */
  longestTask: number;
  requests: number;
  /** of which GET /api/staff/grants/pending and POST /api/staff/grants/batch */
  grantRequests: number;
  /** response bodies, bytes */
  downBytes: number;
  /** request bodies, bytes */
  upBytes: number;
  /** what a v1 granter downloaded for these envelopes: each one's whole JSON, as the v1 pending list sent it */
  v1DownBytes: number;
}

const SURVIVORS = 20;
const CASES_IN_FLIGHT = 64;
const CASES_PER_TRANSACTION = 500;
const ENVELOPES_PER_INSERT = 400;

interface SealedCase {
  survivor: Survivor;
  envelopes: NewEnvelope[];
}

/** One case sealed and checked as the server checks it (signature, hash, key digests). */
async function sealCase(survivor: Survivor, keyset: SignedKeyset, provider: CryptoProvider, day: string): Promise<SealedCase> {
  const caseId = randomId();
  const recipients = [survivor.keys.box.publicKey, ...readersOf(keyset.keyset)];
  const signers = [survivor.keys.sign.publicKey];
  const envelopes: NewEnvelope[] = [];
  let prev: Envelope | undefined;
  for (let seq = 0; seq < ENVELOPES_PER_CASE; seq++) {
    const envelope = await sealEnvelopeAsync(
      prev
        ? { kind: 'message', caseId, prev: envelopeHash(prev), body: { text: testimonyText(300) }, recipients, signer: survivor.keys.sign }
        : {
            kind: 'testimony',
            caseId,
            body: { testimony: { what: testimonyText(1500), when: '2018', context: 'workplace', wantsReplies: true } },
            recipients,
            signer: survivor.keys.sign,
          },
      provider,
    );
    const verified = await verifyEnvelopeAsync(envelope, signers, provider);
    envelopes.push({ envelope, verified, seq, fromStaff: false, day });
    prev = envelope;
  }
  return { survivor, envelopes };
}

/**
 * Writes sealed cases through the server's repositories, as openCases and postMessage do;
 * answers the bytes a v1 granter downloaded for them.
 */
async function writeCases(db: Db, sealed: SealedCase[], survivorIds: Map<Survivor, string>, day: string): Promise<number> {
  const cases = caseRepo(db);
  const envelopes = envelopeRepo(db);
  let v1Bytes = 0;
  await db.transaction(async (trx) => {
    await cases.insertMany(
      trx,
      sealed.map((c) => ({ id: c.envelopes[0].envelope.caseId, survivorId: survivorIds.get(c.survivor)!, advocatesMayRead: false, day })),
    );
    // knex writes a multi-row insert on SQLite as a compound SELECT, of at most 500 parts.
    const all = sealed.flatMap((c) => c.envelopes);
    for (let at = 0; at < all.length; at += ENVELOPES_PER_INSERT) {
      const part = all.slice(at, at + ENVELOPES_PER_INSERT);
      const ids = await envelopes.insertMany(trx, part);
      // What the v1 pending list sent for each: its id, case and whole envelope.
      for (const [i, e] of part.entries())
        v1Bytes += JSON.stringify({ id: ids[i], caseId: e.envelope.caseId, envelope: e.envelope, grants: [] }).length;
    }
  });
  return v1Bytes;
}

/** Seeds `count` envelopes (whole cases); answers the bytes a v1 granter would have downloaded for them. */
async function seed(db: Db, base: string, survivors: Survivor[], survivorIds: Map<Survivor, string>, count: number): Promise<number> {
  const keyset = await currentKeyset(base);
  const provider = webCryptoProvider(globalThis.crypto.subtle);
  const day = new Date().toISOString().slice(0, 10);
  const caseCount = Math.ceil(count / ENVELOPES_PER_CASE);
  let v1Bytes = 0;
  let next = 0;
  let pending: SealedCase[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    v1Bytes += await writeCases(db, batch, survivorIds, day);
  };
  const worker = async () => {
    while (next < caseCount) {
      const k = next++;
      const sealed = await sealCase(survivors[k % survivors.length], keyset, provider, day);
      pending.push(sealed);
      if (pending.length >= CASES_PER_TRANSACTION) await flush();
    }
  };
  await Promise.all(Array.from({ length: CASES_IN_FLIGHT }, worker));
  await flush();
  return v1Bytes;
}

/** The TOTP step each member last signed in with: the server refuses that step or an earlier one again. */
const lastStep = new Map<Staff, number>();

/** Signs in on the staff page with password and a TOTP code of the next step not spent yet (waiting for one if need be). */
async function signIn(page: Page, base: string, who: Staff): Promise<void> {
  while (totpStep(Date.now() + 30_000) <= (lastStep.get(who) ?? -1)) await new Promise((resolve) => setTimeout(resolve, 1000));
  const at = Date.now() + 30_000;
  lastStep.set(who, totpStep(at));
  await page.goto(`${base}/staff`);
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(`${who.username} password for the benchmark`);
  await page.getByLabel('Code from your authenticator app').fill(totp(who.totpSecret, at));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 60_000 });
}

/** Runs in the page: presses the share button and waits for "Done:" (or an error) in #grant-status. */
const MEASURE = (label: string) => `(async () => {
  const button = [...document.querySelectorAll('#grant-targets button')].find((b) => b.textContent === ${JSON.stringify(label)});
  if (!button) throw new Error('no button ' + ${JSON.stringify(label)});
  const status = document.getElementById('grant-status');
  const tasks = [];
  const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries()));
  observer.observe({ type: 'longtask' });
  const done = new Promise((resolve) => {
    const watch = new MutationObserver(() => {
      if (/^Done:/.test(status.textContent) || status.classList.contains('error')) {
        watch.disconnect();
        resolve(performance.now());
      }
    });
    watch.observe(status, { childList: true, subtree: true, attributes: true, characterData: true });
  });
  const start = performance.now();
  button.click();
  const end = await done;
  await new Promise((resolve) => setTimeout(resolve, 100)); // the last long task's entry
  observer.disconnect();
  const longest = tasks.filter((t) => t.startTime >= start && t.startTime <= end).reduce((m, t) => Math.max(m, t.duration), 0);
  return { ms: end - start, longestTask: Math.round(longest), status: status.textContent };
})()`;

/** The whole measurement: one server; per size, the envelopes seeded, a new moderator, the admin's page sharing. */
export async function staffPageShare(sizes: number[], chromiumPath: string, log: (line: string) => void): Promise<ShareResult[]> {
  const server = await startServer({ POW_BITS: '0', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_SENSITIVE_PER_MINUTE: '100000' });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  const db = server.openDb();
  try {
    const base = server.url;
    const { instanceId } = await new JsonClient(base).expect<InstanceInfo>(200, 'GET', '/api/instance');
    const admin = await setupAdmin(base, instanceId, server.setupLink.split('#')[1]);
    const survivors: Survivor[] = [];
    for (let i = 0; i < SURVIVORS; i++) survivors.push(await registerSurvivor(base, instanceId));
    const survivorIds = new Map<Survivor, string>();
    for (const s of survivors) {
      const row: { id: string } | undefined = await db('survivors').where('sign_pk', toBase64url(s.keys.sign.publicKey)).first('id');
      if (!row) throw new Error('a registered survivor is not in the database');
      survivorIds.set(s, row.id);
    }
    const results: ShareResult[] = [];
    let seeded = 0;
    let v1Seeded = 0;
    for (const [k, size] of sizes.entries()) {
      // Each newcomer needs every envelope there is: top up to `size`.
      const started = Date.now();
      if (size > seeded) {
        v1Seeded += await seed(db, base, survivors, survivorIds, size - seeded);
        seeded = Math.ceil(size / ENVELOPES_PER_CASE) * ENVELOPES_PER_CASE;
      }
      const seedSeconds = (Date.now() - started) / 1000;
      log(
        `  seeded ${seeded} envelopes (${seeded / ENVELOPES_PER_CASE} cases) in ${seedSeconds.toFixed(1)} s (sealed and checked in Node, written through the repositories)`,
      );
      const newcomer = await addStaff(base, instanceId, admin, `new.mod${k + 1}`);
      const page = await browser.newPage();
      try {
        await signIn(page, base, admin);
        const label = `Share older cases with ${newcomer.username}`;
        await page.getByRole('button', { name: label }).waitFor({ timeout: 60_000 });
        const traffic: Promise<{ url: string; up: number; down: number }>[] = [];
        const onRequest = (request: Request) =>
          traffic.push(request.sizes().then((s) => ({ url: request.url(), up: s.requestBodySize, down: s.responseBodySize })));
        page.on('requestfinished', onRequest);
        const measured = await page.evaluate<{ ms: number; longestTask: number; status: string }>(MEASURE(label));
        page.off('requestfinished', onRequest);
        const sizesOf = await Promise.all(traffic);
        results.push({
          envelopes: seeded,
          seedSeconds,
          ...measured,
          requests: sizesOf.length,
          grantRequests: sizesOf.filter((s) => new URL(s.url).pathname.startsWith('/api/staff/grants/')).length,
          downBytes: sizesOf.reduce((n, s) => n + s.down, 0),
          upBytes: sizesOf.reduce((n, s) => n + s.up, 0),
          v1DownBytes: v1Seeded,
        });
      } finally {
        await page.close();
      }
    }
    return results;
  } finally {
    await db.destroy();
    await browser.close();
    await server.stop();
  }
}
