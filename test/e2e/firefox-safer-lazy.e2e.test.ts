/**
 * What a survivor's page loads on demand, at Tor Browser's Safer level (Firefox ESR without
 * WebAssembly or JIT), each survivor in her own private context:
 *  - the matching escrow: two survivors name one phone number written two ways on their return
 *    pages. The matching code (the RFC 9497 OPRF of @noble/curves, pure JavaScript) loads only
 *    when she chooses to add an identifier. The matching counselor (Chromium) sees one confirmed
 *    match, and nothing is stored in the clear (test/e2e/matching.e2e.test.ts covers the rest in
 *    Chromium);
 *  - the drafts: a moderator (Chromium) proposes a draft of a testimony that advocates may read.
 *    The drafts code loads only for her case with a draft, and she approves the exact words: her
 *    consent is signed in Firefox at Safer and stored.
 *
 * @engine-free: `npm test` runs this on SQLite only. It tests the browser, and the PostgreSQL
 * run already covers the same server paths (scripts/test.sh).
 */
import type { Browser as Chromium, Page as ChromiumPage } from 'playwright-core';
import type { Browser, Page } from 'puppeteer-core';
import { firefoxPresent, launchFirefox } from '../support/firefox';
import { firefoxPage, press, returnInFirefox, shareInFirefox, shown, textShown, fill, type FirefoxShared } from './firefox-flows';
import { ADMIN, openView, setUpMatchingTeam, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer } from './support';

const describeInFirefox = firefoxPresent() ? describeInBrowser : describe.skip;
const COUNSELOR = { username: 'zara.counsel', password: 'a long counselor passphrase' };

describeInFirefox('loaded on demand at Safer, in Firefox ESR', () => {
  let server: RunningServer;
  let chromium: Chromium;
  let firefox: Browser;
  let counselor: ChromiumPage;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '300', RATE_LIMIT_PER_MINUTE: '1200' });
    chromium = await launchBrowser();
    firefox = await launchFirefox('safer');
    counselor = await setUpMatchingTeam(chromium, (b) => newGuardedPage(b, problems), server, COUNSELOR);
  });
  afterAll(async () => {
    await firefox?.close();
    await chromium?.close();
    await server?.stop();
  });

  /** On her return page she chooses to add an identifier, reads what happens, confirms and adds a phone number. */
  async function namePhone(page: Page, shared: FirefoxShared, written: string, normal: string, loaded: string[]): Promise<void> {
    await returnInFirefox(page, server.url, shared.codename);
    await shown(page, '#matching-open');
    expect(loaded).toEqual([]); // not before she chooses
    await press(page, '#matching-open');
    await shown(page, '#matching-form', 60_000, '#matching-status:not([hidden])');
    expect(loaded).toEqual(['/assets/matching.js']);
    await textShown(page, '#matching', 'Nothing about it is revealed unless another survivor names the same');
    await page.select('#matching-type', 'phone');
    await fill(page, '#matching-value', written);
    await textShown(page, '#matching-preview', normal);
    await press(page, '#matching-confirm');
    await press(page, '#matching-form button[type="submit"]');
    await textShown(page, '#matching', 'Added. It stays sealed unless another survivor names the same.', 90_000);
    await textShown(page, '#matching-list', normal);
  }

  test('two survivors at Safer name one number written two ways: the counselor sees one confirmed match', async () => {
    const stamp = Date.now();
    const written = ['0300-7654321', '+92 300 7654321'];
    const normal = '+923007654321';
    const handles: string[] = [];
    for (const [i, number] of written.entries()) {
      const survivor = await firefoxPage(firefox, problems);
      const loaded: string[] = [];
      survivor.page.on('request', (r) => {
        if (r.url().endsWith('/assets/matching.js')) loaded.push(new URL(r.url()).pathname);
      });
      const shared = await shareInFirefox(survivor.page, server.url, `SAFER-MATCH-${i}-${stamp}`, []);
      handles.push(shared.handle);
      await namePhone(survivor.page, shared, number, normal, loaded);
      await survivor.context.close();
    }

    await staffSignIn(counselor, server.url, COUNSELOR);
    await openView(counselor, 'Matches');
    await counselor.locator('#matching-status').filter({ hasText: '1 confirmed match.' }).waitFor({ timeout: 60_000 });
    const match = counselor.locator('#matching-list article.match[data-confirmed="true"]');
    await match.getByRole('heading', { name: `Match: phone ${normal}` }).waitFor();
    const listed = (await match.textContent()) ?? '';
    for (const handle of handles) expect(listed).toContain(handle);

    const stored = await server.storedBytes();
    for (const secret of [...written, '923007654321', '7654321'])
      expect({ secret, stored: stored.includes(Buffer.from(secret)) }).toEqual({ secret, stored: false });
    expect(problems).toEqual([]);
  }, 300_000);

  test('a survivor at Safer approves the exact words of a draft: the drafts code loads only for it', async () => {
    const stamp = Date.now();
    const testimony = `SAFER-DRAFT-TESTIMONY-${stamp}`;
    const proposal = `SAFER-DRAFT-PROPOSAL-${stamp}`;
    const survivor = await firefoxPage(firefox, problems);
    const loaded: string[] = [];
    survivor.page.on('request', (r) => {
      if (r.url().endsWith('/assets/drafts.js')) loaded.push(new URL(r.url()).pathname);
    });
    const shared = await shareInFirefox(survivor.page, server.url, testimony, [], { advocatesMayRead: true });
    await returnInFirefox(survivor.page, server.url, shared.codename);
    await textShown(survivor.page, '#cases', testimony);
    expect(loaded).toEqual([]); // no draft yet: not loaded

    // The admin, also a moderator, proposes a draft in Chromium.
    const moderator = await newGuardedPage(chromium, problems);
    const m = moderator.page;
    await staffSignIn(m, server.url, ADMIN);
    await openView(m, 'Publishing');
    await m.getByRole('button', { name: `Open publication of ${shared.handle}` }).click();
    await m.locator('#publishing-testimony').filter({ hasText: testimony }).waitFor();
    await m.getByLabel('Title').fill(`Safer ${stamp}`);
    await m.getByLabel('Text to publish').fill(proposal);
    await m.getByRole('button', { name: 'Encrypt and propose to the survivor' }).click();
    await m.locator('#publishing-case-status').filter({ hasText: 'Draft encrypted and proposed' }).waitFor({ timeout: 30_000 });
    await moderator.context.close();

    await returnInFirefox(survivor.page, server.url, shared.codename);
    await shown(survivor.page, 'article.draft[aria-label="Draft 1"]', 90_000);
    expect(loaded).toEqual(['/assets/drafts.js']);
    await textShown(survivor.page, 'article.draft .original', testimony);
    await textShown(survivor.page, 'article.draft', proposal);
    await press(survivor.page, 'article.draft button::-p-text(Approve these exact words)');
    await textShown(survivor.page, '#list-status', 'Approved. An advocate can now publish it.', 90_000);
    await survivor.context.close();

    const db = server.openDb();
    try {
      expect(await db('drafts').select('status')).toEqual([{ status: 'approved' }]);
      expect(await db('consents').count({ n: '*' })).toEqual([{ n: 1 }]);
    } finally {
      await db.destroy();
    }
    expect(problems).toEqual([]);
  }, 300_000);
});
