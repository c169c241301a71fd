/**
 * A PDF leaves the survivor's browser with its metadata cleared. The share page does not load
 * pdf-lib until a PDF is attached; then it loads assets/pdf-cleaner.js once, with its
 * Subresource Integrity hash. The PDF (every information field, an XMP stream, an earlier
 * saved version) is attached, the survivor reads what was removed and that the text inside is
 * sent as it is; the records that leave the browser, decrypted, are a PDF without any of it.
 */
import { PDFDocument, PDFName } from 'pdf-lib';
import { PDF_VALUES, pdfWithMetadata } from '../support/evidence-files';
import {
  attach,
  attachmentWorld,
  decryptSent,
  openSubmittedTestimony,
  recordPuts,
  sendTestimony,
  writeTestimony,
} from './attachments-support';
import { describeInBrowser, newGuardedPage } from './support';

const CLEANER = '/assets/pdf-cleaner.js';

describeInBrowser('PDF evidence leaves the browser with its metadata cleared', () => {
  const problems: string[] = [];
  const world = attachmentWorld(problems);

  test('pdf-lib loads only when a PDF is attached, and the PDF that leaves has no metadata', async () => {
    const { server, browser, instanceId } = world();
    const survivor = await newGuardedPage(browser, problems);
    const records = recordPuts(survivor.context);
    const cleanerLoads = () => survivor.sent.filter((r) => new URL(r.url).pathname === CLEANER).length;
    const codename = await writeTestimony(survivor.page, server.url, 'What happened, with the minutes.');
    expect(survivor.sent.some((r) => new URL(r.url).pathname === '/assets/survivor-crypto.js')).toBe(true);
    expect(cleanerLoads()).toBe(0);

    await attach(survivor.page, [
      { name: 'Minutes Ayesha Khan.pdf', mimeType: 'application/pdf', buffer: Buffer.from(await pdfWithMetadata()) },
    ]);
    expect(cleanerLoads()).toBe(1);
    const tag = await survivor.page.evaluate<string | null>(
      `(() => { const s = document.querySelector('script[src="${CLEANER}"]'); return s && s.integrity; })()`,
    );
    expect(tag).toMatch(/^sha384-[A-Za-z0-9+/]{64}$/);

    const item = await survivor.page.locator('ul.evidence > li').first().innerText();
    expect(item).toContain('attachment-1.pdf');
    expect(item).toContain('The file name Minutes Ayesha Khan.pdf (it is sent as attachment-1.pdf)');
    expect(item).toContain('Document details: Title, Author, Subject, Keywords, Creator, Producer, CreationDate, ModDate');
    expect(item).toContain('Hidden document details (XMP)');
    expect(item).toContain('Earlier saved versions kept inside the file');
    expect(item).toContain('The text and pictures inside the document are sent as they are');

    // A second PDF uses the cleaner already loaded.
    await attach(survivor.page, [{ name: 'second.pdf', mimeType: 'application/pdf', buffer: Buffer.from(await pdfWithMetadata()) }]);
    expect(cleanerLoads()).toBe(1);
    await survivor.page.getByRole('button', { name: 'Remove attachment-2.pdf' }).click();

    await sendTestimony(survivor.page);
    const { testimony } = await openSubmittedTestimony(survivor.sent, codename, instanceId);
    expect((testimony.attachments ?? []).map((m) => [m.name, m.type])).toEqual([['attachment-1.pdf', 'application/pdf']]);

    const sent = decryptSent(records, testimony.attachments![0]);
    const raw = sent.toString('latin1');
    for (const s of [
      PDF_VALUES.title,
      PDF_VALUES.author,
      PDF_VALUES.subject,
      PDF_VALUES.creator,
      PDF_VALUES.producer,
      PDF_VALUES.xmpMarker,
      PDF_VALUES.oldAuthor,
      'Lahore office',
      '/Metadata',
      '/Info',
      '/ID',
    ]) {
      expect({ s, found: raw.includes(s) }).toEqual({ s, found: false });
    }
    const doc = await PDFDocument.load(sent, { updateMetadata: false });
    expect(doc.getPageCount()).toBe(1);
    expect([
      doc.getTitle(),
      doc.getAuthor(),
      doc.getSubject(),
      doc.getKeywords(),
      doc.getCreator(),
      doc.getProducer(),
      doc.getCreationDate(),
      doc.getModificationDate(),
    ]).toEqual(Array(8).fill(undefined));
    expect(doc.catalog.has(PDFName.of('Metadata'))).toBe(false);
    expect(raw.match(/startxref/g)).toHaveLength(1);
    expect(problems).toEqual([]);
  });
});
