/**
 * Requests forged from another site, as a real browser sends them: a page on another origin
 * (localhost on another port, a different site from 127.0.0.1) posts to the server with a
 * form: Chromium marks it `Sec-Fetch-Site: cross-site` and the server refuses it (403
 * cross_site_request) before reading the body. A JSON fetch from there needs a preflight,
 * which the server never grants (OPTIONS is 404). (A no-cors fetch is refused the same way,
 * but its answer is hidden from the page and from Playwright by Cross-Origin-Resource-Policy.)
 * The server's own page makes the same request and gets through.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Response } from 'playwright-core';
import { describeInBrowser, launchBrowser, startServer, type RunningServer } from './support';

/** Another site: a bare page with a form aimed at the Awaaz server. */
function otherSite(target: string): Promise<http.Server> {
  const page = `<!doctype html><title>elsewhere</title>
<form id="f" method="post" action="${target}/api/pow" enctype="text/plain"><input name="{}" value=""></form>`;
  const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(page));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describeInBrowser('cross-site requests from a real browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let elsewhere: http.Server;
  let elsewhereUrl: string;
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    elsewhere = await otherSite(server.url);
    elsewhereUrl = `http://localhost:${(elsewhere.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise((resolve) => elsewhere?.close(resolve));
  });

  const powAnswer = (r: Response) => r.url() === `${server.url}/api/pow` && r.request().method() === 'POST';

  test('a form post from another site is refused; a JSON fetch from there gets no preflight', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(elsewhereUrl);
    // A JSON body needs a CORS preflight: the server answers OPTIONS with 404, so the browser never sends the POST.
    const failed = await page.evaluate(
      `fetch('${server.url}/api/pow', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }).then(() => 'answered', (e) => e.name)`,
    );
    expect(failed).toBe('TypeError');

    // A form needs no preflight, and carries the body as text/plain: refused for where it comes from, before its type.
    const [formPost] = await Promise.all([
      page.waitForResponse(powAnswer),
      page.evaluate("document.getElementById('f').submit()").catch(() => undefined),
    ]);
    expect((await formPost.request().allHeaders())['sec-fetch-site']).toBe('cross-site');
    expect(formPost.status()).toBe(403);
    expect((await formPost.json()).error.code).toBe('cross_site_request');
    await context.close();
  });

  test("the server's own page makes the same request and gets through", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const [answer] = await Promise.all([
      page.waitForResponse(powAnswer),
      page.evaluate(
        "fetch('/api/pow', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }).then((r) => r.status)",
      ),
    ]);
    expect((await answer.request().allHeaders())['sec-fetch-site']).toBe('same-origin');
    expect(answer.status()).toBe(200);
    await context.close();
  });
});
