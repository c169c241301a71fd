/**
 * What the attachment tests share: a survivor who writes a testimony and attaches files,
 * the record PUTs her browser sends (captured byte for byte), the testimony envelope opened
 * as she herself can open it (her codename gives her keys, and she is always a recipient),
 * and the files decrypted from exactly those bytes with the manifests inside it.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  decryptFile,
  normalizeCodename,
  openEnvelope,
  survivorKeyPairs,
  survivorMaster,
  type AttachmentManifest,
  type Envelope,
} from '../../protocol';
import { setUpFirstAdmin } from './flows';
import { launchBrowser, newGuardedPage, startServer, type RunningServer, type SentRequest } from './support';

export interface AttachmentWorld {
  server: RunningServer;
  browser: Browser;
  /** the first admin, also a moderator: set up, not signed in */
  moderator: Awaited<ReturnType<typeof newGuardedPage>>;
  instanceId: string;
}

/**
 * For one describe block: a server, a browser, and the first admin set up as a moderator too;
 * page problems (CSP, errors) go to `problems`. Returns a getter for use inside tests.
 */
export function attachmentWorld(problems: string[]): () => AttachmentWorld {
  let world: AttachmentWorld | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const moderator = await newGuardedPage(browser, problems);
    await setUpFirstAdmin(moderator.page, server.setupLink, true);
    const { instanceId } = (await (await fetch(`${server.url}/api/instance`)).json()) as { instanceId: string };
    world = { server, browser, moderator, instanceId };
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
  return () => {
    if (!world) throw new Error('the attachment world was not set up (see beforeAll)');
    return world;
  };
}

const RECORD_PUT = /\/api\/survivor\/attachments\/([^/]+)\/records\/(\d+)$/;

/** Record bodies as they left the browser, by upload id and index (the last sent wins). */
export type SentRecords = Map<string, Map<number, Buffer>>;

/** Captures the bytes of every record PUT the context sends. */
export function recordPuts(context: BrowserContext): SentRecords {
  const records: SentRecords = new Map();
  context.on('request', (req) => {
    const m = RECORD_PUT.exec(new URL(req.url()).pathname);
    if (!m || req.method() !== 'PUT') return;
    const body = req.postDataBuffer();
    if (!body) throw new Error(`a record PUT without a body: ${req.url()}`);
    if (!records.has(m[1])) records.set(m[1], new Map());
    records.get(m[1])!.set(Number(m[2]), body);
  });
  return records;
}

/** A JPEG or PNG drawn on a canvas in Chromium (on a blank page, outside the app): a real image. */
export async function canvasImage(page: Page, type: 'image/jpeg' | 'image/png', width: number, height: number): Promise<Buffer> {
  const base64 = await page.evaluate(
    `(() => {
      const c = document.createElement('canvas');
      c.width = ${width}; c.height = ${height};
      const g = c.getContext('2d');
      g.fillStyle = '#d33'; g.fillRect(0, 0, ${width}, ${height});
      g.fillStyle = '#33d'; g.fillRect(0, 0, ${width} / 2, ${height} / 2);
      return c.toDataURL('${type}', 0.9).split(',')[1];
    })()`,
  );
  return Buffer.from(base64 as string, 'base64');
}

/** Share page up to a written testimony, not yet sent; returns the codename. */
export async function writeTestimony(page: Page, baseUrl: string, what: string): Promise<string> {
  await page.goto(`${baseUrl}/share`);
  await page.getByRole('button', { name: 'Create my codename' }).click();
  const codename = (await page.getByTestId('codename').textContent())!.trim();
  await page.getByLabel('To be sure you kept it').fill(codename);
  await page.getByRole('button', { name: 'I have kept my codename' }).click();
  await page.getByLabel('What happened').fill(what);
  await page.getByLabel('Where did it happen?').selectOption('workplace');
  return codename;
}

export interface FileToAttach {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** Chooses files with "Add evidence" and waits until every one is cleaned (or refused). */
export async function attach(page: Page, files: FileToAttach[]): Promise<void> {
  const before = await page.locator('ul.evidence > li').count();
  await page.getByLabel('Add evidence').first().setInputFiles(files);
  // The first file loads the evidence tools (lib/evidence-tools-loader.ts); then each file gets its row.
  // (a function, not a string: the page's CSP refuses eval)
  const rows = (n: number) =>
    (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll(
      'ul.evidence > li',
    ).length >= n;
  await page.waitForFunction(rows, before + files.length, { timeout: 30_000 });
  await page
    .locator('ul.evidence > li')
    .filter({ hasText: 'Removing hidden details' })
    .first()
    .waitFor({ state: 'detached', timeout: 30_000 });
}

/** Presses Encrypt and send and waits for the confirmation; returns the handle. */
export async function sendTestimony(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Encrypt and send' }).click();
  const refused = page.locator('#write-status[data-kind="error"]');
  await page.getByRole('heading', { name: 'Your testimony was sent' }).or(refused).waitFor({ timeout: 90_000 });
  if (await refused.isVisible()) throw new Error(`the testimony was not sent: ${await refused.textContent()}`);
  return (await page.locator('#handle').textContent())!.trim();
}

/** The testimony the survivor's browser submitted, opened with her own keys: the manifests inside. */
/** The part of a testimony's body these tests read (client/lib/testimony.ts TestimonyBody). */
export interface SentTestimony {
  what: string;
  attachments?: AttachmentManifest[];
}

export async function openSubmittedTestimony(
  sent: SentRequest[],
  codename: string,
  instanceId: string,
): Promise<{ testimony: SentTestimony; attachmentIds: string[] }> {
  const submissions = sent.filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/api/survivor/cases');
  if (submissions.length !== 1) throw new Error(`expected one submission, saw ${submissions.length}`);
  const body = JSON.parse(submissions[0].body) as { envelope: Envelope; attachments?: string[] };
  const keys = survivorKeyPairs(await survivorMaster(normalizeCodename(codename), instanceId));
  const opened = openEnvelope<{ testimony: SentTestimony }>(body.envelope, {
    box: keys.box,
    expectedKind: 'testimony',
    expectedCaseId: body.envelope.caseId,
    trustedSigners: [keys.sign.publicKey],
  });
  return { testimony: opened.body.testimony, attachmentIds: body.attachments ?? [] };
}

/** One file decrypted from the record bytes that left the browser, as the manifest describes it. */
export function decryptSent(records: SentRecords, manifest: AttachmentManifest): Buffer {
  const sent = records.get(manifest.id);
  if (!sent) throw new Error(`no record of ${manifest.id} left the browser`);
  const ordered = Array.from({ length: manifest.records }, (_, i) => {
    const r = sent.get(i);
    if (!r) throw new Error(`record ${i} of ${manifest.id} never left the browser`);
    return new Uint8Array(r);
  });
  return Buffer.from(decryptFile(ordered, manifest));
}
