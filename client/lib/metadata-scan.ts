/**
 * Reads what an image file carries besides its picture (EXIF, XMP, text chunks), only to TELL
 * the survivor what re-encoding removes. Safety never depends on it: every image is redrawn
 * on a canvas and re-encoded whatever this finds (lib/metadata.ts), so a parser that misses
 * something removes nothing less. Every read is bounds-checked; a malformed file gives a
 * shorter report, never an exception. DOM-free, so jest tests it directly.
 */

export interface FoundMetadata {
  /** a GPS block with a position or any other GPS tag */
  gps: boolean;
  /** camera or phone make and model */
  camera?: string;
  /** when the picture was taken (or last changed) */
  taken?: string;
  software?: string;
  /** any EXIF block at all */
  exif: boolean;
  xmp: boolean;
  /** IPTC captions, keywords, authors (JPEG APP13) */
  iptc: boolean;
  /** PNG text chunks' keywords and JPEG comments */
  notes: string[];
}

export function noMetadata(): FoundMetadata {
  return { gps: false, exif: false, xmp: false, iptc: false, notes: [] };
}

const MAX_TEXT = 64;

/** Printable ASCII of at most MAX_TEXT characters (metadata strings are NUL-padded, sometimes garbage). */
function text(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0) break;
    if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
  }
  return out.trim().slice(0, MAX_TEXT);
}

function startsWith(bytes: Uint8Array, at: number, prefix: string): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

const TAG = { make: 0x010f, model: 0x0110, software: 0x0131, dateTime: 0x0132, exifIfd: 0x8769, gpsIfd: 0x8825, dateTaken: 0x9003 };

/** Reads an EXIF TIFF block (II or MM): the few tags worth naming to a survivor. */
export function readExif(tiff: Uint8Array, found: FoundMetadata): void {
  found.exif = true;
  if (tiff.length < 8) return;
  const little = startsWith(tiff, 0, 'II');
  if (!little && !startsWith(tiff, 0, 'MM')) return;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const u16 = (at: number) => (at + 2 <= tiff.length ? view.getUint16(at, little) : 0);
  const u32 = (at: number) => (at + 4 <= tiff.length ? view.getUint32(at, little) : 0);
  const visited = new Set<number>();

  /** The ASCII value of an entry (inline when it fits in 4 bytes). */
  const ascii = (entry: number) => {
    const count = u32(entry + 4);
    if (u16(entry + 2) !== 2 || count === 0) return '';
    const at = count <= 4 ? entry + 8 : u32(entry + 8);
    return text(tiff.subarray(at, Math.min(tiff.length, at + count)));
  };
  const entries = (offset: number) => {
    if (offset < 8 || offset + 2 > tiff.length || visited.has(offset)) return [];
    visited.add(offset);
    const n = Math.min(u16(offset), Math.floor((tiff.length - offset - 2) / 12));
    return Array.from({ length: n }, (_, i) => offset + 2 + i * 12);
  };

  const ifd0 = entries(u32(4));
  let make = '';
  let model = '';
  for (const e of ifd0) {
    const tag = u16(e);
    if (tag === TAG.make) make = ascii(e);
    else if (tag === TAG.model) model = ascii(e);
    else if (tag === TAG.software) found.software = ascii(e) || found.software;
    else if (tag === TAG.dateTime) found.taken ??= ascii(e) || undefined;
    else if (tag === TAG.exifIfd) {
      for (const x of entries(u32(e + 8))) if (u16(x) === TAG.dateTaken) found.taken = ascii(x) || found.taken;
    } else if (tag === TAG.gpsIfd) {
      if (entries(u32(e + 8)).length > 0) found.gps = true;
    }
  }
  // Many phones repeat the make at the start of the model ("Apple" / "Apple iPhone 12").
  const camera = model.toLowerCase().startsWith(make.toLowerCase()) ? model : `${make} ${model}`.trim();
  if (camera) found.camera = camera;
}

const XMP_JPEG = 'http://ns.adobe.com/xap/1.0/';

function scanJpeg(bytes: Uint8Array, found: FoundMetadata): void {
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xff) {
      at += marker === 0xff ? 1 : 2; // fill byte, or a marker without a length
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return; // start of scan: no metadata after this
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) return;
    const body = bytes.subarray(at + 4, Math.min(bytes.length, at + 2 + length));
    if (marker === 0xe1 && startsWith(body, 0, 'Exif\0\0')) readExif(body.subarray(6), found);
    else if (marker === 0xe1 && startsWith(body, 0, XMP_JPEG)) found.xmp = true;
    else if (marker === 0xed) found.iptc = true;
    else if (marker === 0xfe && text(body)) found.notes.push(text(body));
    at += 2 + length;
  }
}

const PNG_TEXT = new Set(['tEXt', 'zTXt', 'iTXt']);

function scanPng(bytes: Uint8Array, found: FoundMetadata): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length));
    if (type === 'IEND') return;
    if (type === 'eXIf') readExif(data, found);
    else if (PNG_TEXT.has(type)) {
      const keyword = text(data);
      if (keyword === 'XML:com.adobe.xmp') found.xmp = true;
      else if (keyword) found.notes.push(keyword);
    } else if (type === 'tIME' && data.length >= 7) {
      const two = (n: number) => String(n).padStart(2, '0');
      found.taken ??= `${view.getUint16(at + 8)}:${two(data[2])}:${two(data[3])} ${two(data[4])}:${two(data[5])}:${two(data[6])}`;
    }
    at += 12 + length;
  }
}

function scanWebp(bytes: Uint8Array, found: FoundMetadata): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 12; at + 8 <= bytes.length;) {
    const size = view.getUint32(at + 4, true);
    const data = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + size));
    if (startsWith(bytes, at, 'EXIF')) readExif(startsWith(data, 0, 'Exif\0\0') ? data.subarray(6) : data, found);
    else if (startsWith(bytes, at, 'XMP ')) found.xmp = true;
    at += 8 + size + (size % 2);
  }
}

/** What metadata an image holds, by its own signature (not its declared type). */
export function scanImageMetadata(bytes: Uint8Array): FoundMetadata {
  const found = noMetadata();
  if (bytes[0] === 0xff && bytes[1] === 0xd8) scanJpeg(bytes, found);
  else if (startsWith(bytes, 0, '\x89PNG\r\n\x1a\n')) scanPng(bytes, found);
  else if (startsWith(bytes, 0, 'RIFF') && startsWith(bytes, 8, 'WEBP')) scanWebp(bytes, found);
  found.notes = [...new Set(found.notes)].slice(0, 5);
  return found;
}
