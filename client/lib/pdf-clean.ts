/**
 * Clears a PDF's metadata with pdf-lib, in the browser, before it is encrypted and sent.
 * Bundled alone into assets/pdf-cleaner.js (client/pdf-cleaner.ts) and loaded only when a
 * survivor attaches a PDF: pdf-lib is far larger than the survivor pages' whole budget.
 *
 * What it does:
 *  - drops the document information dictionary (Title, Author, Subject, Keywords, Creator,
 *    Producer, CreationDate, ModDate and any custom entry) and the trailer's /ID (which can tie
 *    the file to other copies made on the same computer);
 *  - removes every /Metadata (XMP) stream, /PieceInfo (application private data) and
 *    /LastModified entry, from the catalog, pages, images, fonts: wherever a dictionary has one;
 *  - writes the file anew, keeping only the objects reachable from the catalog: earlier saved
 *    versions (incremental updates), objects a later version deleted or replaced, and the
 *    removed metadata streams are not written. pdf-lib alone would keep every object it parsed.
 *
 * What it does NOT do (SECURITY.md says the same): the visible text and drawings are sent as
 * they are; pictures inside the PDF keep their own EXIF (a scanned photo's GPS, for example);
 * files embedded in the PDF, form field values, comments and annotations (with their authors'
 * names), bookmarks and the names of fonts stay. A password-protected PDF cannot be cleaned.
 */
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFRef, PDFStream, PDFString, type PDFObject } from 'pdf-lib';

export interface CleanedPdf {
  bytes: Uint8Array;
  /** names of the information fields that held something (Title, Author…) */
  fields: string[];
  /** an XMP metadata stream was attached somewhere */
  xmp: boolean;
  /** saved versions found in the file: more than 1 means earlier versions were dropped */
  versions: number;
}

/** What is thrown for a password-protected PDF: a `code`, not a class, as the caller is in another bundle. */
export interface PdfLocked {
  code: 'pdf_locked';
}

const STRIPPED_KEYS = ['Metadata', 'PieceInfo', 'LastModified'].map((k) => PDFName.of(k));

function count(bytes: Uint8Array, needle: string): number {
  const first = needle.charCodeAt(0);
  let n = 0;
  outer: for (let i = bytes.indexOf(first); i >= 0 && i <= bytes.length - needle.length; i = bytes.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (bytes[i + j] !== needle.charCodeAt(j)) continue outer;
    n++;
  }
  return n;
}

/** Saved versions: one startxref per save; a linearized file has one more for its first page. */
function savedVersions(bytes: Uint8Array): number {
  const linearized = count(bytes.subarray(0, 2048), '/Linearized') > 0;
  return Math.max(1, count(bytes, 'startxref') - (linearized ? 1 : 0));
}

function filledFields(info: PDFObject | undefined): string[] {
  if (!(info instanceof PDFDict)) return [];
  return info
    .entries()
    .filter(([, value]) => !((value instanceof PDFString || value instanceof PDFHexString) && value.decodeText().trim() === ''))
    .map(([key]) => key.decodeText().replace(/[^A-Za-z0-9]/g, ''))
    .filter(Boolean)
    .slice(0, 12);
}

export async function cleanPdf(input: Uint8Array): Promise<CleanedPdf> {
  // updateMetadata: false, or pdf-lib would write its own Producer, Creator and dates.
  // ignoreEncryption only to tell a locked file apart (pdf-lib's own error fails instanceof).
  const doc = await PDFDocument.load(input, { updateMetadata: false, ignoreEncryption: true });
  if (doc.isEncrypted) {
    const locked: PdfLocked = { code: 'pdf_locked' };
    throw Object.assign(new Error('password-protected PDF'), locked);
  }
  const context = doc.context;
  const fields = filledFields(context.lookup(context.trailerInfo.Info));
  context.trailerInfo.Info = undefined;
  context.trailerInfo.ID = undefined;

  // Walk everything reachable from the catalog, removing metadata entries on the way.
  let xmp = false;
  const reachable = new Set<string>();
  const pending: PDFObject[] = [context.trailerInfo.Root!];
  while (pending.length > 0) {
    const object = pending.pop()!;
    if (object instanceof PDFRef) {
      if (reachable.has(object.tag)) continue;
      reachable.add(object.tag);
      const target = context.lookup(object);
      if (target) pending.push(target);
    } else if (object instanceof PDFDict || object instanceof PDFStream) {
      const dict = object instanceof PDFStream ? object.dict : object;
      for (const key of STRIPPED_KEYS) {
        if (!dict.has(key)) continue;
        if (key === STRIPPED_KEYS[0]) xmp = true;
        dict.delete(key);
      }
      pending.push(...dict.values());
    } else if (object instanceof PDFArray) {
      pending.push(...object.asArray());
    }
  }
  for (const [ref] of context.enumerateIndirectObjects()) if (!reachable.has(ref.tag)) context.delete(ref);

  // Plain objects (no object streams), so what is sent can be read and checked; no default
  // page, no form appearances: nothing is added to the survivor's document.
  const bytes = await doc.save({ useObjectStreams: false, addDefaultPage: false, updateFieldAppearances: false });
  return { bytes, fields, xmp, versions: savedVersions(input) };
}
