/**
 * The whole path of a screenshot: a survivor attaches a real screenshot (PNG) to her testimony
 * and sends it; the moderator opens the case, presses "Download and decrypt", watches the
 * progress bar, and sees the picture, decrypted in the staff browser and shown from a blob:
 * URL under the CSP; the save link gives the very bytes that left the survivor's browser,
 * under the neutral name.
 */
import fs from 'node:fs';
import { pngSize } from '../support/evidence-files';
import {
  attach,
  attachmentWorld,
  decryptSent,
  openSubmittedTestimony,
  recordPuts,
  sendTestimony,
  writeTestimony,
} from './attachments-support';
import { ADMIN, readFirstCase, staffSignIn } from './flows';
import { describeInBrowser, newGuardedPage } from './support';

describeInBrowser('a moderator previews an attached screenshot', () => {
  const problems: string[] = [];
  const world = attachmentWorld(problems);

  test('attach a screenshot, send it; the moderator decrypts and previews it', async () => {
    const { server, browser, moderator, instanceId } = world();

    const survivor = await newGuardedPage(browser, problems);
    const records = recordPuts(survivor.context);
    await survivor.page.goto(`${server.url}/safety`);
    const screenshot = await survivor.page.screenshot({ type: 'png' });
    const size = pngSize(screenshot);
    expect(size.width).toBeGreaterThan(100);

    const what = `SCREENSHOT-CASE-${Date.now()}`;
    const codename = await writeTestimony(survivor.page, server.url, what);
    await attach(survivor.page, [{ name: 'Screenshot 2024-05-01 at 10.22.13.png', mimeType: 'image/png', buffer: screenshot }]);
    await survivor.page.locator('ul.evidence img').waitFor();
    await sendTestimony(survivor.page);
    // The labelled progress bar went to the end: every byte of the cleaned file was confirmed.
    const bar = await survivor.page.evaluate(
      `(() => { const b = document.querySelector('#step-write progress'); return { label: [...b.labels].map((l) => l.textContent), done: b.max > 1 && b.value === b.max }; })()`,
    );
    expect(bar).toEqual({ label: ['Sending the evidence'], done: true });
    const manifest = (await openSubmittedTestimony(survivor.sent, codename, instanceId)).testimony.attachments![0];
    const sentBytes = decryptSent(records, manifest);

    // The moderator opens the case: the file is named, not yet fetched.
    await staffSignIn(moderator.page, server.url, ADMIN);
    expect(await readFirstCase(moderator.page)).toContain(what);
    const m = moderator.page;
    const button = m.getByRole('button', { name: 'Download and decrypt attachment-1.png' });
    await button.waitFor();
    expect(moderator.sent.some((r) => r.url.includes('/api/staff/attachments/'))).toBe(false);
    await button.click();

    const preview = m.locator('#case-body img.evidence-preview');
    await preview.waitFor({ timeout: 30_000 });
    await m.waitForFunction(`document.querySelector('#case-body img.evidence-preview').complete`);
    const shown = await m.evaluate<{
      src: string;
      width: number;
      height: number;
    }>(
      `(() => { const i = document.querySelector('#case-body img.evidence-preview'); return { src: i.src, width: i.naturalWidth, height: i.naturalHeight }; })()`,
    );
    expect(shown.src.startsWith(`blob:${server.url}/`)).toBe(true);
    expect({ width: shown.width, height: shown.height }).toEqual(size);
    expect(await m.locator('#case-body [role="status"]').filter({ hasText: 'Decrypted in this browser.' }).count()).toBe(1);
    // The progress bar went to the end before it was hidden.
    expect(await m.locator('#case-body progress').getAttribute('value')).toBe(String(manifest.records));

    // The records came from the staff routes; nothing viewable did.
    const fetched = moderator.sent.filter((r) => r.url.includes('/api/staff/attachments/')).map((r) => new URL(r.url).pathname);
    expect(fetched).toEqual([
      `/api/staff/attachments/${manifest.id}`,
      ...Array.from({ length: manifest.records }, (_, i) => `/api/staff/attachments/${manifest.id}/records/${i}`),
    ]);

    // Saving gives the bytes that left the survivor's browser, under the neutral name.
    const [download] = await Promise.all([m.waitForEvent('download'), m.getByRole('link', { name: 'Save attachment-1.png' }).click()]);
    expect(download.suggestedFilename()).toBe('attachment-1.png');
    expect(fs.readFileSync(await download.path()).equals(sentBytes)).toBe(true);

    // Closing the case forgets the decrypted file (an image from its URL no longer loads).
    const loads = `new Promise((resolve) => { const i = new Image(); i.onload = () => resolve('loads'); i.onerror = () => resolve('gone'); i.src = ${JSON.stringify(shown.src)}; })`;
    expect(await m.evaluate(loads)).toBe('loads');
    await m.getByRole('button', { name: 'Back to cases' }).click();
    expect(await m.evaluate(loads)).toBe('gone');
    expect(problems).toEqual([]);
  });
});
