/**
 * Opening a long case in the REAL staff page (issue 17), for bench/browser-crypto.ts: the
 * built server (dist/server/main.js, as `npm start` runs it, on a fresh SQLite file) and the
 * built staff page in Chromium, signed in with password and TOTP like a moderator.
 *
 * Seeding: one case per size, each a survivor's testimony then messages alternately from the
 * survivor and the admin (who is also a moderator), sealed in Node with protocol/ (WebCrypto
 * Ed25519/X25519 through the crypto provider: a chain must be sealed in order, so one thread
 * cannot be spread over workers, and this is faster than tweetnacl workers) and posted
 * through the real API, which checks each one. A moderator who joins afterwards gets every
 * envelope re-wrapped by the admin's page ("Share older cases with …", the page's own
 * sharing), and opens the same cases through those grants.
 *
 * Measured in the page, from the click on "Open case": the frame after the newest message
 * is in the thread (time to the newest messages shown), the frame after the whole thread is
 * checked and drawn, and the longest main-thread task in between (Long Tasks API). Then the
 * case is closed and opened again (signatures remembered for the session).
 */
import { chromium, type Page } from 'playwright-core';
import { envelopeHash, readersOf, sealEnvelopeAsync, webCryptoProvider, type CryptoProvider, type Envelope } from '../../protocol';
import type { InstanceInfo } from '../../protocol/api';
import { totp } from '../../server/http/totp';
import { CHROMIUM_ARGS, startServer } from '../../test/support/awaaz-server';
import { addStaff, currentKeyset, JsonClient, pow, registerSurvivor, setupAdmin, testimonyEnvelope, type Staff } from './fixtures';

export interface PageOpen {
  /** from the click to the frame after the newest message is drawn */
  newestMs: number;
  /** from the click to the frame after the whole thread is checked and drawn */
  wholeMs: number;
  /** the longest main-thread task in between (Long Tasks API: 0 when none exceeded 50 ms) */
  longestTask: number;
}

export interface StaffPageResult {
  messages: number;
  member: PageOpen;
  memberAgain: PageOpen;
  grants: PageOpen;
}

/** The text of message `i` of the case of `size` messages: unique, so the page can be watched for it. */
const messageText = (size: number, i: number) => `[case ${size}, message ${i}] what I remember of that day, written again`;

/** A case of `size` messages after the testimony, posted through the API; its survivor's handle. */
async function seedCase(base: string, instanceId: string, admin: Staff, size: number, provider: CryptoProvider): Promise<string> {
  const keyset = await currentKeyset(base);
  const survivor = await registerSurvivor(base, instanceId);
  const asSurvivor = { authorization: `Bearer ${survivor.token}` };
  const client = new JsonClient(base);
  const testimony = testimonyEnvelope(survivor.keys.sign, survivor.keys.box.publicKey, keyset, `the testimony of the case of ${size}`);
  await client.expect(
    201,
    'POST',
    '/api/survivor/cases',
    { envelope: testimony, keysetVersion: keyset.keyset.version, pow: await pow(base) },
    asSurvivor,
  );
  let prev: Envelope = testimony;
  for (let i = 1; i <= size; i++) {
    const fromStaff = i % 2 === 0;
    const envelope: Envelope = await sealEnvelopeAsync(
      {
        kind: 'message',
        caseId: testimony.caseId,
        prev: envelopeHash(prev),
        body: { text: messageText(size, i) },
        recipients: [survivor.keys.box.publicKey, ...readersOf(keyset.keyset)],
        signer: fromStaff ? admin.sign : survivor.keys.sign,
      },
      provider,
    );
    const body = { envelope, keysetVersion: keyset.keyset.version };
    if (fromStaff)
      await admin.client.expect(201, 'POST', `/api/staff/cases/${testimony.caseId}/messages`, { ...body, status: 'in_review' });
    else await client.expect(201, 'POST', `/api/survivor/cases/${testimony.caseId}/messages`, body, asSurvivor);
    prev = envelope;
  }
  return survivor.handle;
}

/** Signs in on the staff page with password and a TOTP code of the next step (the current one may be spent). */
async function signIn(page: Page, base: string, who: Staff): Promise<void> {
  await page.goto(`${base}/staff`);
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(`${who.username} password for the benchmark`);
  await page.getByLabel('Code from your authenticator app').fill(totp(who.totpSecret, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspace', exact: true }).waitFor({ timeout: 60_000 });
}

/**
 * Runs in the page: clicks "Open case" for `handle` and watches the case panel until the
 * whole thread (`total` messages after the testimony) is drawn and no longer busy.
 */
const MEASURE = (handle: string, newest: string, total: number) => `(async () => {
  const button = [...document.querySelectorAll('#cases button')].find((b) => (b.getAttribute('aria-label') || '').startsWith(${JSON.stringify(`Open case of ${handle} `)}));
  if (!button) throw new Error('no Open button for the case');
  const tasks = [];
  const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries()));
  observer.observe({ type: 'longtask' });
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())));
  let newest, whole, sawBusy = false;
  const done = new Promise((resolve) => {
    const watch = new MutationObserver(() => {
      const thread = document.getElementById('case-thread');
      if (thread.hasAttribute('aria-busy')) sawBusy = true;
      const last = thread.lastElementChild;
      if (!newest && sawBusy && last && last.textContent.includes(${JSON.stringify(newest)})) newest = frame();
      if (newest && sawBusy && !thread.hasAttribute('aria-busy') && thread.children.length === ${total} && document.querySelector('#case-body article')) {
        whole = frame();
        watch.disconnect();
        resolve();
      }
    });
    watch.observe(document.getElementById('case-panel'), { childList: true, subtree: true, attributes: true, characterData: true });
  });
  const start = performance.now();
  button.click();
  await done;
  const result = { newestMs: (await newest) - start, wholeMs: (await whole) - start };
  await new Promise((resolve) => setTimeout(resolve, 100)); // the last long task's entry
  observer.disconnect();
  const longest = tasks.filter((t) => t.startTime >= start && t.startTime <= start + result.wholeMs).reduce((m, t) => Math.max(m, t.duration), 0);
  return { ...result, longestTask: Math.round(longest) };
})()`;

async function openCase(page: Page, handle: string, size: number): Promise<PageOpen> {
  await page.getByRole('button', { name: `Open case of ${handle} `, exact: false }).waitFor({ timeout: 30_000 });
  const figures = await page.evaluate<PageOpen>(MEASURE(handle, messageText(size, size), size));
  await page.getByRole('button', { name: 'Back to cases' }).click();
  await page.locator('#case-panel').waitFor({ state: 'hidden' });
  return figures;
}

/** The whole measurement: a fresh server, the cases seeded, then each opened in Chromium. */
export async function staffPageCaseOpen(sizes: number[], chromiumPath: string, log: (line: string) => void): Promise<StaffPageResult[]> {
  const server = await startServer({ POW_BITS: '0', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_SENSITIVE_PER_MINUTE: '100000' });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
  try {
    const base = server.url;
    const { instanceId } = await new JsonClient(base).expect<InstanceInfo>(200, 'GET', '/api/instance');
    const admin = await setupAdmin(base, instanceId, server.setupLink.split('#')[1]);
    const provider = webCryptoProvider(globalThis.crypto.subtle);
    const handles: string[] = [];
    for (const size of sizes) {
      const started = Date.now();
      handles.push(await seedCase(base, instanceId, admin, size, provider));
      log(`  seeded a case of ${size} messages through the API in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    const late = await addStaff(base, instanceId, admin, 'late.mod');

    const member = await browser.newPage();
    await signIn(member, base, admin);
    const asMember: { member: PageOpen; memberAgain: PageOpen }[] = [];
    for (const [k, size] of sizes.entries())
      asMember.push({ member: await openCase(member, handles[k], size), memberAgain: await openCase(member, handles[k], size) });
    // The admin's page re-wraps every envelope for the newcomer, as a moderator would.
    const started = Date.now();
    await member.getByRole('button', { name: `Share older cases with ${late.username}` }).click();
    await member
      .locator('#grant-status')
      .filter({ hasText: /^Done: shared/ })
      .waitFor({ timeout: 600_000 });
    log(
      `  the admin's page shared the cases with ${late.username} in ${((Date.now() - started) / 1000).toFixed(1)} s (${await member.locator('#grant-status').textContent()})`,
    );
    await member.close();

    const newcomer = await browser.newPage();
    await signIn(newcomer, base, late);
    const results: StaffPageResult[] = [];
    for (const [k, size] of sizes.entries())
      results.push({ messages: size, ...asMember[k], grants: await openCase(newcomer, handles[k], size) });
    return results;
  } finally {
    await browser.close();
    await server.stop();
  }
}
