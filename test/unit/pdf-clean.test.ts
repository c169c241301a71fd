/**
 * PDF cleaning (client/lib/pdf-clean.ts) with the real pdf-lib, on a PDF built to carry every
 * information field, an XMP stream and an earlier saved version: none of it is in the output,
 * which pdf-lib reads back with its page and content unchanged. The same code runs in the
 * survivor's browser (assets/pdf-cleaner.js; test/e2e/attachments-pdf.e2e.test.ts).
 */
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFRawStream, PDFStream, PDFString, type PDFObject } from 'pdf-lib';
import { cleanPdf, type PdfLocked } from '../../client/lib/pdf-clean';
import { PDF_VALUES, pdfWithMetadata } from '../support/evidence-files';

const SECRETS = [
  PDF_VALUES.title,
  PDF_VALUES.author,
  PDF_VALUES.subject,
  PDF_VALUES.creator,
  PDF_VALUES.producer,
  PDF_VALUES.xmpMarker,
  PDF_VALUES.oldAuthor,
  'Lahore office',
];

/** Every string and stream text in every object of a PDF, decoded, as pdf-lib reads it. */
async function everyText(bytes: Uint8Array): Promise<string> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false });
  const out: string[] = [];
  const walk = (o: PDFObject | undefined): void => {
    if (o instanceof PDFString || o instanceof PDFHexString) out.push(o.decodeText());
    else if (o instanceof PDFArray) o.asArray().forEach(walk);
    else if (o instanceof PDFDict) o.values().forEach(walk);
    else if (o instanceof PDFRawStream) {
      o.dict.values().forEach(walk);
      if (!o.dict.has(PDFName.of('Filter'))) out.push(Buffer.from(o.contents).toString('latin1'));
    } else if (o instanceof PDFStream) o.dict.values().forEach(walk);
  };
  for (const [, object] of doc.context.enumerateIndirectObjects()) walk(object);
  walk(doc.context.trailerInfo.Info);
  return out.join('\n');
}

test('the test PDF does carry the metadata (so the checks below can fail)', async () => {
  const pdf = await pdfWithMetadata();
  const raw = Buffer.from(pdf).toString('latin1');
  const text = await everyText(pdf);
  for (const secret of SECRETS) expect({ secret, found: raw.includes(secret) && text.includes(secret) }).toEqual({ secret, found: true });
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  expect(doc.getAuthor()).toBe(PDF_VALUES.author); // the later version wins
  expect(doc.catalog.has(PDFName.of('Metadata'))).toBe(true);
});

test('clears every information field, the XMP stream, the document ID and earlier versions, and says so', async () => {
  const pdf = await pdfWithMetadata();
  const cleaned = await cleanPdf(pdf);
  expect(cleaned.fields).toEqual(['Title', 'Author', 'Subject', 'Keywords', 'Creator', 'Producer', 'CreationDate', 'ModDate']);
  expect(cleaned.xmp).toBe(true);
  expect(cleaned.versions).toBe(2);

  const raw = Buffer.from(cleaned.bytes).toString('latin1');
  const text = await everyText(cleaned.bytes);
  for (const secret of SECRETS)
    expect({ secret, raw: raw.includes(secret), decoded: text.includes(secret) }).toEqual({ secret, raw: false, decoded: false });
  for (const key of ['/Info', '/Metadata', '/ID', '/Prev', 'pdf-lib'])
    expect({ key, found: raw.includes(key) }).toEqual({ key, found: false });
  // one version: a single cross-reference table and end-of-file mark
  expect(raw.match(/startxref/g)).toHaveLength(1);

  const doc = await PDFDocument.load(cleaned.bytes, { updateMetadata: false });
  expect(doc.context.trailerInfo.Info).toBeUndefined();
  expect(doc.getTitle()).toBeUndefined();
  expect(doc.getAuthor()).toBeUndefined();
  expect(doc.getProducer()).toBeUndefined();
  expect(doc.getCreationDate()).toBeUndefined();
  expect(doc.catalog.has(PDFName.of('Metadata'))).toBe(false);
});

test('keeps the document itself: the same page, with the same content stream', async () => {
  const pdf = await pdfWithMetadata();
  const before = await PDFDocument.load(pdf, { updateMetadata: false });
  const after = await PDFDocument.load((await cleanPdf(pdf)).bytes, { updateMetadata: false });
  expect(after.getPageCount()).toBe(1);
  expect(after.getPage(0).getSize()).toEqual(before.getPage(0).getSize());
  const contents = (d: PDFDocument) => {
    const ref = d.getPage(0).node.Contents();
    const stream = (ref instanceof PDFArray ? d.context.lookup(ref.get(0)) : ref) as PDFRawStream;
    return Buffer.from(stream.contents);
  };
  expect(contents(after).equals(contents(before))).toBe(true);
});

test('pdf-lib alone would keep the earlier version: the cleaner drops what the catalog no longer reaches', async () => {
  const pdf = await pdfWithMetadata();
  const plainResave = await (await PDFDocument.load(pdf, { updateMetadata: false })).save({ useObjectStreams: false });
  expect(Buffer.from(plainResave).toString('latin1')).toContain(PDF_VALUES.oldAuthor);
  expect(Buffer.from((await cleanPdf(pdf)).bytes).toString('latin1')).not.toContain(PDF_VALUES.oldAuthor);
});

test('a PDF with nothing to clear reports nothing and stays one version', async () => {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.addPage([100, 100]);
  const cleaned = await cleanPdf(await doc.save({ useObjectStreams: false }));
  expect(cleaned).toMatchObject({ fields: [], xmp: false, versions: 1 });
});

test('a password-protected PDF is refused as encrypted (the page then warns instead of cleaning)', async () => {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.addPage([100, 100]);
  doc.context.trailerInfo.Encrypt = doc.context.register(doc.context.obj({ Filter: 'Standard', V: 2, R: 3 }));
  await expect(cleanPdf(await doc.save({ useObjectStreams: false }))).rejects.toMatchObject({ code: 'pdf_locked' } satisfies PdfLocked);
});
