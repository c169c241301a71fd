/**
 * Cleans an evidence file in the survivor's browser before anything is encrypted or sent.
 *  - Images (JPEG, PNG, WebP, recognised by their first bytes): decoded upright (the EXIF
 *    orientation applied), drawn on a canvas and encoded anew in the same format: the new file
 *    holds pixels only, so EXIF, GPS, XMP, comments and text chunks are gone whatever they
 *    were. lib/metadata-scan.ts reads the original only to tell the survivor what went.
 *  - PDF: pdf-lib, loaded from its own SRI-checked script the first time a PDF is attached
 *    (lib/pdf-clean.ts says what it clears and what it cannot).
 *  - Anything else (audio, video, documents): sent as it is, after a plain warning the
 *    survivor must acknowledge.
 * Every file gets a neutral name ("attachment-1.jpg"): an original name can identify.
 */
import type { CleanFile } from './attachments';
import { lazyScript } from './lazy-script';
import type { MessageKey, Params } from './messages';
import { scanImageMetadata } from './metadata-scan';
import type { CleanedPdf, PdfLocked } from './pdf-clean';

/** Set by scripts/build.mjs: where the PDF cleaner is and its Subresource Integrity hash. */
declare const AWAAZ_PDF_CLEANER_SRC: string;
declare const AWAAZ_PDF_CLEANER_SRI: string;

export interface Message {
  key: MessageKey;
  params?: Params;
}

export interface CleanedEvidence extends CleanFile {
  /** image: redrawn (a preview can show it); pdf: metadata cleared; raw: sent as it is */
  kind: 'image' | 'pdf' | 'raw';
  /** what was removed, for the survivor to read */
  removed: Message[];
  /** raw files: why nothing could be removed (the survivor must agree to send it) */
  warning?: MessageKey;
}

const IMAGE_EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };
const EXTENSIONS: Record<string, string> = {
  ...IMAGE_EXTENSIONS,
  'application/pdf': 'pdf',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/aac': 'aac',
  'audio/ogg': 'ogg',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/webm': 'webm',
};

/** The type by the file's own first bytes where it is one we clean, else what the browser says. */
function sniffType(head: Uint8Array, declared: string): string {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => head[at + i] === b);
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  const type = declared.toLowerCase();
  return /^[a-z]+\/[\w.+-]{1,100}$/.test(type) ? type : 'application/octet-stream';
}

function extension(type: string, originalName: string): string {
  const own = /\.([a-z0-9]{1,5})$/i.exec(originalName)?.[1]?.toLowerCase();
  return EXTENSIONS[type] ?? own ?? 'bin';
}

/** Removed-list entries for what the scan found in an image. */
function imageFindings(bytes: Uint8Array): Message[] {
  const found = scanImageMetadata(bytes);
  const out: Message[] = [];
  if (found.gps) out.push({ key: 'evidence.gps' });
  if (found.camera) out.push({ key: 'evidence.camera', params: { camera: found.camera } });
  if (found.taken) out.push({ key: 'evidence.taken', params: { date: found.taken } });
  if (found.software) out.push({ key: 'evidence.software', params: { software: found.software } });
  if (found.exif && out.length === 0) out.push({ key: 'evidence.exif' });
  if (found.xmp) out.push({ key: 'evidence.xmp' });
  if (found.iptc) out.push({ key: 'evidence.iptc' });
  if (found.notes.length) out.push({ key: 'evidence.notes', params: { notes: found.notes.join(', ') } });
  return out;
}

async function redraw(file: Blob, type: string): Promise<Blob> {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const canvas = document.createElement('canvas');
  try {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
    bitmap.close();
    // PNG is lossless; JPEG and WebP at a quality that keeps small text in screenshots legible.
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, 0.92));
    if (!blob) throw new Error('toBlob');
    return blob;
  } finally {
    canvas.width = canvas.height = 0; // let the browser free the pixels now
  }
}

interface PdfCleaner {
  cleanPdf(bytes: Uint8Array): Promise<CleanedPdf>;
}
/** Loads assets/pdf-cleaner.js once, checked against the hash the build recorded. */
const loadPdfCleaner = lazyScript<PdfCleaner>(() => ({ src: AWAAZ_PDF_CLEANER_SRC, integrity: AWAAZ_PDF_CLEANER_SRI }), 'AwaazPdfCleaner');

/**
 * Cleans `file`, the survivor's `n`th attachment. Throws only when the PDF cleaner cannot be
 * loaded (the survivor can try again); a file that cannot be opened comes back as raw, with a
 * warning.
 */
export async function cleanEvidence(file: File, n: number): Promise<CleanedEvidence> {
  const type = sniffType(new Uint8Array(await file.slice(0, 16).arrayBuffer()), file.type);
  // Only a file that will be cleaned is read whole.
  const read = async () => new Uint8Array(await file.arrayBuffer());
  const neutral = (t: string) => `attachment-${n}.${extension(t, file.name)}`;
  const renamed = (name: string): Message => ({ key: 'evidence.renamed', params: { name: file.name.slice(0, 80), neutral: name } });

  if (IMAGE_EXTENSIONS[type]) {
    try {
      const blob = await redraw(file, type);
      // A browser that cannot write this format gives PNG instead: name it for what it is.
      const outType = IMAGE_EXTENSIONS[blob.type] ? blob.type : type;
      const name = neutral(outType);
      return { kind: 'image', blob, name, type: outType, removed: [renamed(name), ...imageFindings(await read())] };
    } catch {
      // not decodable as an image: fall through to a raw file with a warning
    }
  } else if (type === 'application/pdf') {
    const cleaner = await loadPdfCleaner();
    try {
      const out = await cleaner.cleanPdf(await read());
      const name = neutral(type);
      const removed = [renamed(name)];
      if (out.fields.length) removed.push({ key: 'evidence.pdfInfo', params: { fields: out.fields.join(', ') } });
      if (out.xmp) removed.push({ key: 'evidence.pdfXmp' });
      if (out.versions > 1) removed.push({ key: 'evidence.pdfVersions' });
      return { kind: 'pdf', blob: new Blob([out.bytes as Uint8Array<ArrayBuffer>], { type }), name, type, removed };
    } catch (e) {
      const name = neutral(type);
      const locked: PdfLocked['code'] = 'pdf_locked';
      const warning = (e as Partial<PdfLocked> | undefined)?.code === locked ? 'evidence.pdfLocked' : 'evidence.cleanFailed';
      return { kind: 'raw', blob: file.slice(0, file.size, type), name, type, removed: [renamed(name)], warning };
    }
  }
  const name = neutral(type);
  const cleanable = IMAGE_EXTENSIONS[type] !== undefined;
  return {
    kind: 'raw',
    blob: file.slice(0, file.size, type),
    name,
    type,
    removed: [renamed(name)],
    warning: cleanable ? 'evidence.cleanFailed' : 'evidence.cannotClean',
  };
}
