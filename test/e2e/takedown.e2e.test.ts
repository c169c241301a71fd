/**
 * Issue 15, publishing side, in Chromium against the built server: an advocate writes a draft;
 * the survivor asks for a change, and the advocate (who never reads the conversation) sees on
 * the Publishing panel that the draft waits on that change, with the survivor's words; the
 * advocate proposes a second draft, the survivor approves it, the advocate publishes it; the
 * admin takes it down from the "Take a story down" block with a reason: its address answers
 * 410 showing the reason, the feed drops it, and the survivor's page says the organisation took
 * it down and why (in English and in Urdu). The survivor's browser never sends their words in
 * the clear.
 */
import type { Browser } from 'playwright-core';
import type { Db } from '../../server/db/database';
import { acceptInvite, ADMIN, createInvite, openView, setUpFirstAdmin, signWaitingMembers, staffSignIn } from './flows';
import { describeInBrowser, launchBrowser, newGuardedPage, startServer, switchLanguage, type RunningServer } from './support';

const ADVOCATE = { username: 'sana.adv', password: 'a long advocate passphrase' };

describeInBrowser('change requests reach the author, and a story taken down, in Chromium', () => {
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

  test('the advocate reads the change request on the draft; the admin takes the story down; 410 with the reason; the survivor sees why', async () => {
    const stamp = Date.now();
    const testimony = `At the university in Multan, a professor threatened my grades. TESTIMONY-${stamp}`;
    const firstDraft = `At a university, a professor threatened my grades. DRAFT-ONE-${stamp}`;
    const secondDraft = `At a university, a teacher threatened my grades. DRAFT-TWO-${stamp}`;
    const title = `Threatened at university ${stamp}`;
    const change = `Please say teacher, not professor. CHANGE-${stamp}`;
    const reason = `A court order of the district court, on legal advice. REASON-${stamp}`;

    const admin = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(admin.page, server.setupLink, true);
    await staffSignIn(admin.page, server.url, ADMIN);
    const invite = await createInvite(admin.page, 'advocate');
    const advocate = await newGuardedPage(browser, problems);
    await acceptInvite(advocate.page, invite, ADVOCATE);
    await staffSignIn(admin.page, server.url, ADMIN);
    await signWaitingMembers(admin.page);

    // The survivor shares, letting advocates read.
    const survivor = await newGuardedPage(browser, problems);
    const s = survivor.page;
    await s.goto(`${server.url}/share`);
    await s.getByRole('button', { name: 'Create my codename' }).click();
    const codename = (await s.getByTestId('codename').textContent())!.trim();
    await s.getByLabel('To be sure you kept it').fill(codename);
    await s.getByRole('button', { name: 'I have kept my codename' }).click();
    await s.getByLabel('What happened').fill(testimony);
    await s.getByLabel('Where did it happen?').selectOption('education');
    await s.getByLabel("Let this organisation's advocates read it").check();
    await s.getByRole('button', { name: 'Encrypt and send' }).click();
    await s.getByRole('heading', { name: 'Your testimony was sent' }).waitFor({ timeout: 60_000 });
    const handle = (await s.locator('#handle').textContent())!.trim();

    // The advocate writes the first draft.
    const a = advocate.page;
    await staffSignIn(a, server.url, ADVOCATE);
    await a.getByRole('button', { name: `Open publication of ${handle}` }).click();
    await a.locator('#publishing-testimony').filter({ hasText: testimony }).waitFor();
    await a.getByLabel('Title').fill(title);
    await a.getByLabel('Text to publish').fill(firstDraft);
    await a.getByRole('button', { name: 'Encrypt and propose to the survivor' }).click();
    await a.locator('#publishing-case-status').filter({ hasText: 'Draft encrypted and proposed' }).waitFor({ timeout: 30_000 });

    // The survivor asks for a change.
    const openReturn = async () => {
      await s.goto(`${server.url}/return`);
      await s.getByLabel('Your codename').fill(codename);
      await s.getByRole('button', { name: 'Open' }).click();
    };
    await openReturn();
    const draft1 = s.getByRole('article', { name: 'Draft 1' });
    await draft1.waitFor({ timeout: 60_000 });
    await draft1.getByRole('button', { name: 'Ask for changes' }).click();
    await draft1.getByLabel('What should change?').fill(change);
    await draft1.getByRole('button', { name: 'Send my request' }).click();
    await s.locator('#list-status').filter({ hasText: 'and the draft’s author' }).waitFor({ timeout: 30_000 });

    // The advocate, who cannot read the conversation, sees that the draft waits on that change, and what it is.
    await staffSignIn(a, server.url, ADVOCATE);
    const row = a.locator('#publishing-cases tr').filter({ hasText: handle });
    await row.filter({ hasText: 'Waits on a change' }).waitFor({ timeout: 30_000 });
    await a.getByRole('button', { name: `Open publication of ${handle}` }).click();
    const waiting = a.getByRole('article', { name: 'Draft 1' }).locator('.change-request');
    await waiting.waitFor({ timeout: 30_000 });
    expect((await waiting.textContent())!.trim()).toBe(`Waits on a change: ${change}`);
    await a.getByLabel('Title').fill(title);
    await a.getByLabel('Text to publish').fill(secondDraft);
    await a.getByRole('button', { name: 'Encrypt and propose to the survivor' }).click();
    await a.locator('#publishing-case-status').filter({ hasText: 'Draft encrypted and proposed' }).waitFor({ timeout: 30_000 });

    // The survivor approves draft 2; the advocate publishes it.
    await openReturn();
    const draft2 = s.getByRole('article', { name: 'Draft 2' });
    await draft2.waitFor({ timeout: 60_000 });
    await draft2.getByRole('button', { name: 'Approve these exact words' }).click();
    await s.locator('#list-status').filter({ hasText: 'Approved' }).waitFor({ timeout: 30_000 });
    await staffSignIn(a, server.url, ADVOCATE);
    await a.getByRole('button', { name: `Open publication of ${handle}` }).click();
    await a.getByRole('button', { name: 'Publish on the wall' }).click();
    const published = a.locator('#publishing-case-status').filter({ hasText: 'Published at' });
    await published.waitFor({ timeout: 30_000 });
    const storyUrl = /Published at (\S+)\.$/.exec((await published.textContent())!.trim())![1];
    const reader = await newGuardedPage(browser, problems);
    const r = reader.page;
    expect((await r.goto(storyUrl))!.status()).toBe(200);

    // The admin takes it down by its address, with a reason.
    const m = admin.page;
    await staffSignIn(m, server.url, ADMIN);
    await openView(m, 'Team');
    await m.getByLabel('Address of the story').fill(storyUrl);
    await m.getByLabel('Reason, shown publicly').fill(reason);
    m.once('dialog', (d) => void d.accept());
    await m.getByRole('button', { name: 'Take it down' }).click();
    await m.locator('#takedown-status').filter({ hasText: 'was taken down' }).waitFor({ timeout: 30_000 });

    // Its address answers 410 with the reason; the words are gone from the page, the feed and the database.
    const gone = await r.goto(storyUrl);
    expect(gone!.status()).toBe(410);
    await r.getByRole('heading', { name: 'This story was taken down' }).waitFor();
    expect(await r.locator('blockquote.takedown-reason').textContent()).toContain(reason);
    expect(await r.content()).not.toContain(secondDraft);
    expect(await (await r.request.get(`${server.url}/stories/feed.atom`)).text()).not.toContain(secondDraft);
    const bytes = await server.storedBytes();
    expect(bytes.includes(Buffer.from(secondDraft))).toBe(false);
    expect((await db('audit_log').where({ action: 'story.taken_down' })).length).toBe(1);

    // The survivor sees that the organisation took it down, and why; in Urdu too.
    await openReturn();
    const taken = s.getByRole('article', { name: 'Draft 2' });
    await taken.getByText('Taken down by the organisation').waitFor({ timeout: 60_000 });
    await taken.getByText('The organisation took the story down. Their reason:').waitFor();
    expect(await taken.locator('blockquote').textContent()).toBe(reason);
    await switchLanguage(s, 'ur');
    await taken.getByText('تنظیم نے یہ کہانی ہٹا دی۔ ان کی بتائی ہوئی وجہ:').waitFor();
    await taken.getByText('تنظیم نے ہٹا دی', { exact: true }).waitFor();
    await switchLanguage(s, 'en');

    // The survivor's browser never sent their words in the clear.
    for (const req of survivor.sent) {
      for (const secret of [testimony, change, codename]) expect(req.body).not.toContain(secret);
    }
    expect(problems).toEqual([]);
  });
});
