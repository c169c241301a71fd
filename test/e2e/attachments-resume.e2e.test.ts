/**
 * An upload survives a dropped connection. The survivor comes back with her codename and
 * answers the moderators with a recording (a kind of file that cannot be cleaned: she must
 * tick "Send this file anyway" first). While it uploads, the connection drops twice: record 1
 * never reaches the server, and record 3 reaches it but its answer is lost. Her browser waits,
 * asks the server where the upload stands and goes on; the moderator downloads the file from
 * the thread and gets exactly the bytes she chose. And an upload whose creation answer is lost
 * finds the upload the first request made (the browser chose its id), one that outlives the
 * survivor's session goes on with the renewed token (one refusal, not one per record), and a
 * second press of Send after a failure does not upload the file again under it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { attach, attachmentWorld } from './attachments-support';
import { ADMIN, openOwnTestimonies, readFirstCase, shareTestimony, staffSignIn } from './flows';
import { describeInBrowser, newGuardedPage } from './support';

const RECORD = 64 * 1024;

describeInBrowser('an evidence upload resumes after a dropped connection', () => {
  const problems: string[] = [];
  const world = attachmentWorld(problems);

  test('records lost on the way, or whose answers are lost, are resumed; the moderator gets the identical file', async () => {
    const { server, browser, moderator } = world();

    const survivor = await newGuardedPage(browser, problems);
    const shared = await shareTestimony(survivor.page, server.url, 'What happened, first words.');
    await openOwnTestimonies(survivor.page, server.url, shared.codename);
    const s = survivor.page;

    const recording = crypto.randomBytes(4 * RECORD + 1000); // five records
    await s.getByLabel('Write to the moderators').fill('Here is the recording.');
    await attach(s, [{ name: 'voice memo 12 May.m4a', mimeType: 'audio/mp4', buffer: recording }]);
    const item = await s.locator('ul.evidence > li').first().innerText();
    expect(item).toContain('attachment-1.m4a');
    expect(item).toContain('This kind of file cannot be cleaned here.');

    // Not without her consent.
    await s.getByRole('button', { name: 'Encrypt and send' }).click();
    await s
      .locator('.case form > [role="status"][data-kind="error"]')
      .filter({ hasText: 'Tick “Send this file anyway” for attachment-1.m4a, or remove it.' })
      .waitFor();
    expect(survivor.sent.some((r) => r.url.includes('/api/survivor/attachments'))).toBe(false);
    await s.getByLabel('Send this file anyway, as it is').check();

    // The network fails once for record 1 (never arrives) and once for record 3 (arrives, answer lost).
    const dropped: string[] = [];
    await s.route('**/api/survivor/attachments/*/records/*', async (route) => {
      const index = Number(route.request().url().split('/').pop());
      if (route.request().method() !== 'PUT' || dropped.includes(`${index}`) || (index !== 1 && index !== 3)) return route.continue();
      dropped.push(`${index}`);
      if (index === 3) await route.fetch(); // the server stores it
      return route.abort('connectionreset');
    });
    await s.getByRole('button', { name: 'Encrypt and send' }).click();
    await s
      .locator('.case form > [role="status"]')
      .filter({ hasText: 'Your message was encrypted and sent.' })
      .waitFor({ timeout: 90_000 });
    expect(dropped).toEqual(['1', '3']);

    const puts = survivor.sent.filter((r) => r.method === 'PUT').map((r) => Number(r.url.split('/').pop()));
    // 1 is sent again after the drop; 3 is not: the server says it has it, and the upload goes on at 4.
    expect(puts).toEqual([0, 1, 1, 2, 3, 4]);
    const statusChecks = survivor.sent.filter((r) => r.method === 'GET' && /\/api\/survivor\/attachments\/[^/]+$/.test(r.url));
    expect(statusChecks).toHaveLength(2);
    // Her thread now lists the file.
    expect(await s.locator('#cases').innerText()).toContain(`Evidence: attachment-1.m4a, ${Math.round(recording.length / 1024)} KB`);

    // The moderator downloads it from the thread.
    await staffSignIn(moderator.page, server.url, ADMIN);
    await readFirstCase(moderator.page);
    const m = moderator.page;
    await m.locator('#case-thread').getByRole('button', { name: 'Download and decrypt attachment-1.m4a' }).click();
    const save = m.locator('#case-thread').getByRole('link', { name: 'Save attachment-1.m4a' });
    await save.waitFor({ timeout: 30_000 });
    expect(await m.locator('#case-thread img').count()).toBe(0); // not an image: no preview
    const [download] = await Promise.all([m.waitForEvent('download'), save.click()]);
    expect(download.suggestedFilename()).toBe('attachment-1.m4a');
    expect(fs.readFileSync(await download.path()).equals(recording)).toBe(true);
    expect(problems).toEqual([]);
  });

  test('an upload whose creation answer is lost, or that outlives her session, is made once and sent once', async () => {
    const { server, browser } = world();
    const survivor = await newGuardedPage(browser, problems);
    const shared = await shareTestimony(survivor.page, server.url, 'A long recording follows.');
    await openOwnTestimonies(survivor.page, server.url, shared.codename);
    const s = survivor.page;
    await s.getByLabel('Write to the moderators').fill('The recording.');
    await attach(s, [{ name: 'memo.m4a', mimeType: 'audio/mp4', buffer: crypto.randomBytes(3 * RECORD + 10) }]);
    await s.getByLabel('Send this file anyway, as it is').check();

    // The answer to creating the upload is lost once; her token expires while record 1 is on its
    // way (the server refuses it once); then the message fails once.
    let creates = 0;
    await s.route('**/api/survivor/attachments', async (route) => {
      if (route.request().method() !== 'POST' || ++creates > 1) return route.continue();
      await route.fetch(); // the server makes the upload
      return route.abort('connectionreset');
    });
    const puts: { index: number; token: string }[] = [];
    await s.route('**/api/survivor/attachments/*/records/*', async (route) => {
      const index = Number(route.request().url().split('/').pop());
      puts.push({ index, token: route.request().headers().authorization });
      if (index !== 1 || puts.filter((p) => p.index === 1).length > 1) return route.continue();
      return route.fulfill({ status: 401, json: { error: { code: 'unauthorized', message: 'your session has ended' } } });
    });
    let messages = 0;
    await s.route('**/api/survivor/cases/*/messages', async (route) =>
      ++messages === 1 ? route.fulfill({ status: 500, json: { error: { code: 'internal', message: 'try again' } } }) : route.continue(),
    );
    const send = s.getByRole('button', { name: 'Encrypt and send' });
    await send.click();
    await s.locator('.case form > [role="status"][data-kind="error"]').waitFor({ timeout: 60_000 });
    await send.click();
    await s
      .locator('.case form > [role="status"]')
      .filter({ hasText: 'Your message was encrypted and sent.' })
      .waitFor({ timeout: 60_000 });

    const [first, renewed] = [puts[0].token, puts[2].token];
    expect(renewed).not.toBe(first);
    // Record 1 is refused once and sent again renewed; the others go with the renewed token at once.
    expect(puts).toEqual([
      { index: 0, token: first },
      { index: 1, token: first },
      { index: 1, token: renewed },
      { index: 2, token: renewed },
      { index: 3, token: renewed },
    ]);
    // The create was sent again with the same id, and found the upload the first one made: every record went to it.
    const created = survivor.sent.filter((r) => r.method === 'POST' && r.url.endsWith('/api/survivor/attachments'));
    const ids = created.map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(ids).toEqual([ids[0], ids[0]]);
    const putUrls = survivor.sent.filter((r) => r.method === 'PUT').map((r) => r.url);
    expect(putUrls.every((url) => url.includes(`/api/survivor/attachments/${ids[0]}/records/`))).toBe(true);
    // The second press sent the message with the file already uploaded: no third create.
    expect(messages).toBe(2);
    expect(problems).toEqual([]);
  });
});
