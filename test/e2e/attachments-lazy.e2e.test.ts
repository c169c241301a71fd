/**
 * The evidence tools load only when a survivor chooses a first file, under their integrity
 * hash. If they cannot be loaded (a tampered file, a dropped connection), nothing is sent as if
 * it were attached: the page says which files could not be prepared, refuses to send until the
 * survivor removes them, and then sends the testimony without them.
 */
import { attachmentWorld, sendTestimony, writeTestimony } from './attachments-support';
import { describeInBrowser, newGuardedPage } from './support';

const TOOLS = '/assets/evidence-tools.js';

describeInBrowser('evidence tools load on demand', () => {
  const problems: string[] = [];
  const world = attachmentWorld(problems);

  test('a tools script that fails its integrity check attaches nothing and blocks sending until the files are removed', async () => {
    const { server, browser } = world();
    const survivor = await newGuardedPage(browser, problems);
    const toolsLoads = () => survivor.sent.filter((r) => new URL(r.url).pathname === TOOLS).length;
    await writeTestimony(survivor.page, server.url, 'What happened, with a screenshot that will not go.');
    expect(toolsLoads()).toBe(0);

    // The server (or someone on the way) serves other bytes than the build hashed: the browser refuses them.
    await survivor.page.route(`**${TOOLS}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: 'globalThis.AwaazEvidenceTools = {};' }),
    );
    survivor.page.on('console', () => undefined);
    await survivor.page
      .getByLabel('Add evidence')
      .setInputFiles([{ name: 'chat.png', mimeType: 'image/png', buffer: Buffer.from('not really a png') }]);
    await survivor.page.getByText('chat.png could not be prepared').waitFor({ timeout: 30_000 });
    expect(toolsLoads()).toBe(1);
    expect(await survivor.page.evaluate('typeof globalThis.AwaazEvidenceTools')).toBe('undefined');

    await survivor.page.getByRole('button', { name: 'Encrypt and send' }).click();
    await survivor.page.locator('#write-status').filter({ hasText: 'chat.png could not be prepared' }).waitFor();
    expect(survivor.sent.some((r) => new URL(r.url).pathname === '/api/survivor/cases')).toBe(false);

    await survivor.page.getByRole('button', { name: 'Remove chat.png' }).click();
    await sendTestimony(survivor.page);
    expect(survivor.sent.some((r) => new URL(r.url).pathname.startsWith('/api/survivor/attachments'))).toBe(false);
    // The refused script is a console error the guard records; it is what this test provokes.
    problems.splice(0, problems.length, ...problems.filter((p) => !/integrity|evidence-tools/i.test(p)));
  });
});
