/**
 * No trace on the device. A survivor's whole visit runs in a Chromium with a real profile on
 * disk (launchPersistentContext): she switches to Urdu and back, shares a testimony holding a
 * marker, writes down her codename, comes back with it and reads the testimony. Then the
 * profile is inspected as an abuser with the device could:
 *  - through the browser: no cookie; localStorage holds only the language and the pinned
 *    fingerprint, and neither the marker, the codename nor the handle; sessionStorage, Cache
 *    Storage and IndexedDB are empty;
 *  - on disk, after the browser is closed: no file of the profile (history, session restore,
 *    autofill, caches, leveldb…) contains the marker, the codename or the handle, in UTF-8 or
 *    UTF-16.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { openOwnTestimonies, setUpFirstAdmin, shareTestimony } from './flows';
import { CHROMIUM, describeInBrowser, guardPage, launchBrowser, startServer, type RunningServer, switchLanguage } from './support';
import { CHROMIUM_ARGS, storageOf } from './safety-support';

const MAX_SCANNED_FILE = 50 * 1024 * 1024;

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isSymbolicLink()) return [];
    return d.isDirectory() ? filesUnder(p) : d.isFile() ? [p] : [];
  });
}

describeInBrowser('no trace of a survivor on the device', () => {
  let server: RunningServer;
  let staffBrowser: Browser;
  let profile: string;
  let survivor: BrowserContext | undefined;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startServer();
    staffBrowser = await launchBrowser();
    const admin = await staffBrowser.newPage();
    await setUpFirstAdmin(admin, server.setupLink, true);
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-profile-'));
  });
  afterAll(async () => {
    await survivor?.close().catch(() => undefined);
    await staffBrowser?.close();
    await server?.stop();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  test('after a full visit the profile holds no testimony, codename or handle', async () => {
    const marker = `TRACE-${Date.now()}-ye-sirf-mera-hai`;
    survivor = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      viewport: { width: 360, height: 740 },
    });
    const page = survivor.pages()[0] ?? (await survivor.newPage());
    await guardPage(page, problems);

    // The language is the one thing she chooses to keep; she switches to Urdu and back.
    await page.goto(server.url + '/safety');
    await switchLanguage(page, 'ur');
    await switchLanguage(page, 'en');
    await switchLanguage(page, 'ur');

    await switchLanguage(page, 'en');
    const shared = await shareTestimony(page, server.url, `What happened: ${marker}`);
    const own = await openOwnTestimonies(page, server.url, shared.codename);
    expect(own).toContain(marker);
    // she chose Urdu for next time
    await switchLanguage(page, 'ur');

    // What the browser itself would show to someone with the device.
    expect(await survivor.cookies()).toEqual([]);
    const storage = await storageOf(page);
    expect(Object.keys(storage.local).sort()).toEqual(['awaaz.lang', 'awaaz.pin']);
    expect(storage.local['awaaz.lang']).toBe('ur');
    expect(Object.keys(JSON.parse(storage.local['awaaz.pin'])).sort()).toEqual(['fingerprint', 'instanceId', 'keysetHash', 'version']);
    expect(storage.session).toEqual({});
    const everything = JSON.stringify(storage);
    for (const secret of [marker, shared.codename, shared.handle]) expect(everything).not.toContain(secret);
    expect(await page.evaluate('caches.keys()')).toEqual([]);
    expect(await page.evaluate('indexedDB.databases().then((dbs) => dbs.map((d) => d.name))')).toEqual([]);
    expect(await page.evaluate('navigator.serviceWorker ? navigator.serviceWorker.getRegistrations().then((r) => r.length) : 0')).toBe(0);
    expect(problems).toEqual([]);

    // Everything Chromium wrote to disk, once it has closed and flushed its files.
    await survivor.close();
    survivor = undefined;
    const files = filesUnder(profile);
    expect(files.length).toBeGreaterThan(10);
    const needles = [marker, shared.codename, shared.handle].flatMap((s) => [
      { what: s, bytes: Buffer.from(s, 'utf8') },
      { what: `${s} (UTF-16)`, bytes: Buffer.from(s, 'utf16le') },
    ]);
    // the codename also must not be there word by word in a row (e.g. split by a form field)
    const words = shared.codename.split(' ');
    needles.push({ what: 'two codename words in a row', bytes: Buffer.from(`${words[3]} ${words[4]}`, 'utf8') });
    const found: string[] = [];
    let scanned = 0;
    for (const file of files) {
      const size = fs.statSync(file).size;
      if (size > MAX_SCANNED_FILE) continue;
      const bytes = fs.readFileSync(file);
      scanned += bytes.length;
      for (const n of needles) if (bytes.includes(n.bytes)) found.push(`${path.relative(profile, file)}: ${n.what}`);
    }
    expect(scanned).toBeGreaterThan(0);
    expect(found).toEqual([]);

    // The check itself finds what is there: the pinned fingerprint is on disk (localStorage leveldb).
    const pin = JSON.parse(storage.local['awaaz.pin']) as { fingerprint: string };
    const fingerprintOnDisk = files.some(
      (f) =>
        fs.statSync(f).size <= MAX_SCANNED_FILE &&
        (fs.readFileSync(f).includes(Buffer.from(pin.fingerprint, 'utf8')) ||
          fs.readFileSync(f).includes(Buffer.from(pin.fingerprint, 'utf16le'))),
    );
    expect(fingerprintOnDisk).toBe(true);
  });
});
