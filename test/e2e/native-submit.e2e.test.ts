/**
 * A form submitted before its script runs (slow link, script blocked) must not send what was
 * typed: the CSP's form-action 'none' blocks every native submission, and secret fields have
 * no name, so even a submission would carry nothing. Checked with the page's scripts blocked
 * (JavaScript on, so the form is shown), the same as a script not yet loaded. With JavaScript
 * off, the forms are not even shown (client/styles.css, firefox-safest.e2e.test.ts).
 */
import type { Browser } from 'playwright-core';
import { describeInBrowser, launchBrowser, recordRequests, startServer, type RunningServer } from './support';

describeInBrowser('no native form submission', () => {
  let server: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  test.each([
    ['/return', '#codename', 'abandon ability able about above absent absorb abstract'],
    ['/staff', '#password', 'a staff password typed too early'],
    ['/setup', '#password', 'an admin password typed too early'],
  ])('pressing Enter on %s with its scripts blocked sends nothing typed', async (route, field, secret) => {
    const context = await browser.newContext();
    await context.route('**/assets/*.js', (r) => r.abort());
    const sent = recordRequests(context);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => violations.push(m.text()));
    await page.goto(server.url + route);
    await page.locator(field).fill(secret);
    await page.locator(field).focus();
    // keyboard.press does not wait for a navigation (the one the form would start is blocked).
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    expect(new URL(page.url()).pathname).toBe(route);
    expect(new URL(page.url()).search).toBe('');
    const words = secret.split(' ');
    for (const r of sent) {
      expect(r.url).not.toContain(encodeURIComponent(words[0]) + '+');
      expect(decodeURIComponent(r.url)).not.toContain(secret);
      expect(r.body).not.toContain(words[0]);
    }
    expect(sent.filter((r) => r.url.includes('?'))).toEqual([]);
    await context.close();
  });

  test.each(['/return', '/staff', '/setup'])('with JavaScript off, %s shows no form to type into', async (route) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(server.url + route);
    expect(await page.locator('form').first().isVisible()).toBe(false);
    expect(await page.locator('#noscript').isVisible()).toBe(true);
    await context.close();
  });

  test('secret fields carry no name attribute on any page', async () => {
    const page = await browser.newPage();
    for (const route of ['/return', '/share', '/staff', '/setup', '/invite']) {
      await page.goto(server.url + route);
      const named = await page.locator('input[type=password][name], #codename-check[name], #codename[name]').count();
      expect(`${route}: ${named}`).toBe(`${route}: 0`);
    }
    await page.close();
  });
});
