/**
 * Publishing with consent in Chromium, the whole path a person walks: the survivor shares a
 * testimony that advocates may read, a moderator proposes a redacted draft, the survivor asks
 * for a change, approves the second draft, an advocate publishes it, it is on the wall and in
 * the feed, the survivor withdraws it and its address answers 410 Gone; then the survivor
 * deletes everything. The survivor's browser never sends what they wrote.
 */
import type { Browser } from 'playwright-core';
import type { Db } from '../../server/db/database';
import { acceptInvite, ADMIN, createInvite, openView, setUpFirstAdmin, signWaitingMembers, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, type RunningServer, switchLanguage } from './support';

const ADVOCATE = { username: 'zara.adv', password: 'a long advocate passphrase' };

describeInBrowser('publishing with consent in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let db: Db;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_SENSITIVE_PER_MINUTE: '300', RATE_LIMIT_PER_MINUTE: '1200' });
    browser = await launchBrowser();
    db = server.openDb();
  });
  afterAll(async () => {
    await db?.destroy();
    await browser?.close();
    await server?.stop();
  });

  test('draft, ask for a change, approve, publish, wall and feed, withdraw (410), delete everything', async () => {
    const stamp = Date.now();
    const testimony = `At my office in Lahore, my manager Imran cornered me. TESTIMONY-${stamp}`;
    const firstDraft = `At my office, my manager cornered me. DRAFT-ONE-${stamp}`;
    // Two lines, then a second paragraph: the story page must keep the line breaks the survivor approved.
    const secondDraft = `At my office, a senior colleague cornered me.\nHe said nobody would believe me.\n\nDRAFT-TWO-${stamp}`;
    // Each line alone, for the scans: a JSON body or a database row would escape the line breaks.
    const secondDraftLines = secondDraft.split('\n').filter(Boolean);
    const title = `Cornered at work ${stamp}`;
    const change = `Please say colleague, not manager. CHANGE-${stamp}`;

    // The admin (also a moderator) sets up and brings in an advocate.
    const admin = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(admin.page, server.setupLink, true);
    await staffSignIn(admin.page, server.url, ADMIN);
    const invite = await createInvite(admin.page, 'advocate');
    const advocate = await newGuardedPage(browser, problems);
    await acceptInvite(advocate.page, invite, ADVOCATE);
    await staffSignIn(admin.page, server.url, ADMIN);
    await signWaitingMembers(admin.page);

    // The survivor shares, letting advocates read and counting it with where it happened.
    const survivor = await newGuardedPage(browser, problems);
    const s = survivor.page;
    await s.goto(`${server.url}/share`);
    await s.getByRole('button', { name: 'Create my codename' }).click();
    const codename = (await s.getByTestId('codename').textContent())!.trim();
    await s.getByLabel('To be sure you kept it').fill(codename);
    await s.getByRole('button', { name: 'I have kept my codename' }).click();
    await s.getByLabel('What happened').fill(testimony);
    await s.getByLabel('Where did it happen?').selectOption('workplace');
    await s.getByLabel("Let this organisation's advocates read it").check();
    await s.getByLabel('Count this in anonymous statistics').check();
    await s.getByLabel('Disclose where it happened').check();
    await s.getByLabel('Province or territory').selectOption('punjab');
    await s.getByRole('button', { name: 'Encrypt and send' }).click();
    await s.getByRole('heading', { name: 'Your testimony was sent' }).waitFor({ timeout: 60_000 });
    const handle = (await s.locator('#handle').textContent())!.trim();
    expect(await db('case_statistics').select('context', 'province', 'year')).toEqual([
      { context: 'workplace', province: 'punjab', year: null },
    ]);

    // A moderator proposes a redacted draft.
    const m = admin.page;
    await staffSignIn(m, server.url, ADMIN);
    await openView(m, 'Publishing');
    await m.getByRole('button', { name: `Open publication of ${handle}` }).click();
    await m.locator('#publishing-testimony').filter({ hasText: testimony }).waitFor();
    expect(await m.getByLabel('Text to publish').inputValue()).toBe(testimony);
    await m.getByLabel('Title').fill(title);
    await m.getByLabel('Text to publish').fill(firstDraft);
    await m.getByRole('button', { name: 'Encrypt and propose to the survivor' }).click();
    await m.locator('#publishing-case-status').filter({ hasText: 'Draft encrypted and proposed' }).waitFor({ timeout: 30_000 });

    // The survivor sees it beside their testimony and asks for a change.
    await s.goto(`${server.url}/return`);
    await s.getByLabel('Your codename').fill(codename);
    await s.getByRole('button', { name: 'Open' }).click();
    const draft1 = s.getByRole('article', { name: 'Draft 1' });
    await draft1.waitFor({ timeout: 60_000 });
    expect(await draft1.locator('.original').textContent()).toContain(testimony);
    expect(await draft1.locator('.proposal').textContent()).toContain(firstDraft);
    await draft1.getByRole('button', { name: 'Ask for changes' }).click();
    await draft1.getByLabel('What should change?').fill(change);
    await draft1.getByRole('button', { name: 'Send my request' }).click();
    await s.locator('#list-status').filter({ hasText: 'Your request was sent' }).waitFor({ timeout: 30_000 });
    await s.getByRole('article', { name: 'Draft 1' }).getByText('You asked for changes').waitFor();
    // The moderator, still on the Publishing view, sees the draft wait on a change without a
    // reload: the live round runs when the tab is shown again (client/lib/staff-live.ts), as
    // here, rather than waiting for its 20 s timer (test/e2e/staff-desk.e2e.test.ts waits for that).
    await m.evaluate("document.dispatchEvent(new Event('visibilitychange'))");
    await m
      .locator('#publishing-cases tr.waits-on-change')
      .filter({ hasText: handle })
      .getByText('Waits on a change')
      .waitFor({ state: 'attached', timeout: 45_000 });

    // The moderator reads the request in the conversation and proposes a second draft.
    await m.getByRole('button', { name: 'Back to publishing' }).click();
    await staffSignIn(m, server.url, ADMIN);
    await m.getByRole('button', { name: `Open case of ${handle}`, exact: false }).click();
    await m.locator('#case-thread').filter({ hasText: change }).waitFor({ timeout: 30_000 });
    await m.getByRole('button', { name: 'Back to cases' }).click();
    await openView(m, 'Publishing');
    await m.getByRole('button', { name: `Open publication of ${handle}` }).click();
    await m.getByLabel('Title').fill(title);
    await m.getByLabel('Text to publish').fill(secondDraft);
    await m.getByRole('button', { name: 'Encrypt and propose to the survivor' }).click();
    await m.locator('#publishing-case-status').filter({ hasText: 'Draft encrypted and proposed' }).waitFor({ timeout: 30_000 });

    // The survivor approves the exact words of draft 2 (draft 1 is superseded and no longer shown).
    // Her phone's clock is three days behind (its battery ran out): the consent she signs is
    // dated by the server's day, which the server accepts, not by the phone's.
    await s.clock.install({ time: Date.now() - 3 * 86_400_000 });
    await s.goto(`${server.url}/return`);
    await s.getByLabel('Your codename').fill(codename);
    await s.getByRole('button', { name: 'Open' }).click();
    const draft2 = s.getByRole('article', { name: 'Draft 2' });
    await draft2.waitFor({ timeout: 60_000 });
    expect(await s.getByRole('article', { name: 'Draft 1' }).count()).toBe(0);
    expect(await draft2.locator('.proposal').textContent()).toContain(secondDraft);
    // What she sees, laid out: the approved words line by line (innerText follows the CSS).
    expect(await draft2.locator('.proposal .text').innerText()).toBe(secondDraft);
    await draft2.getByRole('button', { name: 'Approve these exact words' }).click();
    await s
      .locator('#list-status')
      .filter({ hasText: 'Approved' })
      .waitFor({ timeout: 30_000 })
      .catch(async (e) => {
        throw new Error(`${e.message}\nlist status: ${await s.locator('#list-status').textContent()}`);
      });

    // An advocate publishes it.
    const a = advocate.page;
    await staffSignIn(a, server.url, ADVOCATE);
    await a.getByRole('button', { name: `Open publication of ${handle}` }).click();
    await a.locator('#publishing-testimony').filter({ hasText: testimony }).waitFor();
    await a.getByRole('button', { name: 'Publish on the wall' }).click();
    const published = a.locator('#publishing-case-status').filter({ hasText: 'Published at' });
    await published.waitFor({ timeout: 30_000 });
    const storyUrl = /Published at (\S+)\.$/.exec((await published.textContent())!.trim())![1];
    expect(storyUrl).toMatch(/\/stories\/[a-z2-9]{10}$/);
    const storyPath = new URL(storyUrl).pathname;

    // Anyone sees it on the wall, on its own page, and in the feed; never the handle.
    const reader = await newGuardedPage(browser, problems);
    const r = reader.page;
    await r.goto(`${server.url}/stories`);
    await r.getByRole('link', { name: title }).click();
    await r.getByRole('heading', { name: title }).waitFor();
    // The same lines and the same paragraph break as in what she approved, not joined into one line.
    expect(await r.locator('article.story').innerText()).toContain(secondDraft);
    expect(await r.content()).not.toContain(handle);
    const feed = await r.request.get(`${server.url}/stories/feed.atom`);
    expect(feed.status()).toBe(200);
    expect(await feed.text()).toContain(secondDraft);
    // The wall in Urdu: the language switch works on the server-drawn page too.
    await switchLanguage(r, 'ur');
    await r.getByRole('link', { name: 'تمام کہانیوں پر واپس' }).waitFor();
    await switchLanguage(r, 'en');

    // The survivor withdraws: the address answers 410 Gone at once.
    await s.reload();
    await s.getByLabel('Your codename').fill(codename);
    await s.getByRole('button', { name: 'Open' }).click();
    const live = s.getByRole('article', { name: 'Draft 2' });
    await live.getByRole('link', { name: 'See the published story' }).waitFor({ timeout: 60_000 });
    await live.getByRole('button', { name: 'Withdraw my consent' }).click();
    await live.getByRole('button', { name: 'Yes, withdraw it' }).click();
    await s.locator('#list-status').filter({ hasText: 'Withdrawn' }).waitFor({ timeout: 30_000 });
    const gone = await r.goto(`${server.url}${storyPath}`);
    expect(gone!.status()).toBe(410);
    await r.getByRole('heading', { name: 'This story was withdrawn' }).waitFor();
    const withdrawnFeed = await (await r.request.get(`${server.url}/stories/feed.atom`)).text();
    for (const line of secondDraftLines) {
      expect(await r.content()).not.toContain(line);
      expect(withdrawnFeed).not.toContain(line);
    }

    // What the survivor's browser sent: never their testimony, their change request or a draft in the clear.
    for (const req of survivor.sent) {
      for (const secret of [testimony, change, firstDraft, ...secondDraftLines, codename]) expect(req.body).not.toContain(secret);
    }

    // Delete everything: after the confirmation, nothing of theirs is left in what a copy of the database holds.
    await s.getByRole('button', { name: 'Delete everything' }).click();
    await s.locator('#delete-status').filter({ hasText: 'Tick the box first' }).waitFor();
    await s.getByLabel('I understand that this cannot be undone').check();
    await s.getByRole('button', { name: 'Delete everything' }).click();
    await s.getByText('Everything was deleted. Close this window now.').waitFor({ timeout: 30_000 });
    expect(await db('survivors').select()).toEqual([]);
    expect(await db('cases').select()).toEqual([]);
    const bytes = await server.storedBytes();
    for (const needle of [handle, ...secondDraftLines, title]) expect(bytes.includes(Buffer.from(needle))).toBe(false);
    expect((await r.goto(`${server.url}${storyPath}`))!.status()).toBe(410);

    expect(problems).toEqual([]);
  });
});
