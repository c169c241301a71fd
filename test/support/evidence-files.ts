/**
 * Evidence files for the attachment tests, built by hand so that each test knows exactly what
 * metadata went in: an EXIF block with camera, dates, software and a GPS position (TIFF IFDs
 * written byte by byte), inserted into a real JPEG or PNG; a PDF with every information field
 * set, an XMP stream and an earlier saved version; and readers for what came out (JPEG
 * segments, PNG chunks, image sizes).
 */
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';

/** What the EXIF block says, so tests can look for each value in what leaves the browser. */
export const EXIF_VALUES = {
  make: 'AwaazTestCam',
  model: 'Model-X1',
  software: 'LeakyEditor 9.1',
  dateTime: '2018:04:01 10:11:12',
  dateTaken: '2018:03:31 21:45:00',
  /** degrees, minutes, seconds: Lahore */
  latitude: [31, 32, 59] as const,
  longitude: [74, 20, 37] as const,
};

type Entry = { tag: number; type: 'ascii' | 'short' | 'long' | 'rational'; value: string | number | readonly number[] };

/** One TIFF IFD at `offset` (from the TIFF header), values that do not fit inline placed after it. */
function ifd(entries: Entry[], offset: number, le: boolean): Uint8Array {
  const size = (e: Entry) =>
    e.type === 'ascii' ? (e.value as string).length + 1 : e.type === 'short' ? 2 : e.type === 'long' ? 4 : 8 * (e.value as number[]).length;
  const head = 2 + entries.length * 12 + 4;
  const extra = entries.reduce((n, e) => n + (size(e) > 4 ? size(e) + (size(e) % 2) : 0), 0);
  const out = new Uint8Array(head + extra);
  const view = new DataView(out.buffer);
  view.setUint16(0, entries.length, le);
  let tail = head;
  entries.forEach((e, i) => {
    const at = 2 + i * 12;
    const n = size(e);
    const typeCode = { ascii: 2, short: 3, long: 4, rational: 5 }[e.type];
    const count = e.type === 'ascii' ? n : e.type === 'rational' ? (e.value as number[]).length : 1;
    view.setUint16(at, e.tag, le);
    view.setUint16(at + 2, typeCode, le);
    view.setUint32(at + 4, count, le);
    const write = (pos: number) => {
      if (e.type === 'ascii') [...(e.value as string)].forEach((c, j) => (out[pos + j] = c.charCodeAt(0)));
      else if (e.type === 'short') view.setUint16(pos, e.value as number, le);
      else if (e.type === 'long') view.setUint32(pos, e.value as number, le);
      else (e.value as number[]).forEach((v, j) => (view.setUint32(pos + 8 * j, v, le), view.setUint32(pos + 8 * j + 4, 1, le)));
    };
    if (n <= 4) write(at + 8);
    else {
      view.setUint32(at + 8, offset + tail, le);
      write(tail);
      tail += n + (n % 2);
    }
  });
  view.setUint32(2 + entries.length * 12, 0, le); // no next IFD
  return out;
}

/**
 * A TIFF block (the body of a JPEG APP1 "Exif" segment, a PNG eXIf or a WebP EXIF chunk) with
 * GPS; big-endian ("MM", as iPhones write) or little-endian ("II", as many Android phones do).
 */
export function exifTiff(orientation = 1, littleEndian = false): Uint8Array {
  const le = littleEndian;
  const v = EXIF_VALUES;
  // IFD0 at 8; its size does not depend on the pointers' values, so measure it first.
  const ifd0Entries = (exifAt: number, gpsAt: number): Entry[] => [
    { tag: 0x010f, type: 'ascii', value: v.make },
    { tag: 0x0110, type: 'ascii', value: v.model },
    { tag: 0x0112, type: 'short', value: orientation },
    { tag: 0x0131, type: 'ascii', value: v.software },
    { tag: 0x0132, type: 'ascii', value: v.dateTime },
    { tag: 0x8769, type: 'long', value: exifAt },
    { tag: 0x8825, type: 'long', value: gpsAt },
  ];
  const ifd0Size = ifd(ifd0Entries(0, 0), 8, le).length;
  const exifEntries: Entry[] = [{ tag: 0x9003, type: 'ascii', value: v.dateTaken }];
  const exifAt = 8 + ifd0Size;
  const exifIfd = ifd(exifEntries, exifAt, le);
  const gpsAt = exifAt + exifIfd.length;
  const gpsIfd = ifd(
    [
      { tag: 0x0001, type: 'ascii', value: 'N' },
      { tag: 0x0002, type: 'rational', value: v.latitude },
      { tag: 0x0003, type: 'ascii', value: 'E' },
      { tag: 0x0004, type: 'rational', value: v.longitude },
    ],
    gpsAt,
    le,
  );
  // byte order, 42, IFD0 at 8
  const header = le ? Uint8Array.of(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0) : Uint8Array.of(0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8);
  return concat(header, ifd(ifd0Entries(exifAt, gpsAt), 8, le), exifIfd, gpsIfd);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const ascii = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));

function jpegSegment(marker: number, body: Uint8Array): Uint8Array {
  const head = Uint8Array.of(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff);
  return concat(head, body);
}

/**
 * A JPEG with an APP1 Exif segment (camera, dates, software, GPS), an XMP segment and a
 * comment, inserted right after SOI of a real JPEG (`jpeg`, e.g. from a canvas).
 */
export function jpegWithExif(jpeg: Uint8Array, orientation = 1, littleEndian = false): Uint8Array {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const app1 = jpegSegment(0xe1, concat(ascii('Exif\0\0'), exifTiff(orientation, littleEndian)));
  const xmp = jpegSegment(
    0xe1,
    concat(
      ascii('http://ns.adobe.com/xap/1.0/\0'),
      ascii('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description photoshop:City="Lahore"/></x:xmpmeta>'),
    ),
  );
  const comment = jpegSegment(0xfe, ascii('taken at the office'));
  return concat(jpeg.subarray(0, 2), app1, xmp, comment, jpeg.subarray(2));
}

/** The segments of a JPEG up to the start of scan: marker and body. */
export function jpegSegments(jpeg: Uint8Array): { marker: number; body: Uint8Array }[] {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const out: { marker: number; body: Uint8Array }[] = [];
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1];
    const length = (jpeg[at + 2] << 8) | jpeg[at + 3];
    out.push({ marker, body: jpeg.subarray(at + 4, at + 2 + length) });
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return out;
}

/** Width and height from a JPEG's frame header (SOF0..SOF15 but DHT, JPG, DAC). */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } {
  const sof = jpegSegments(jpeg).find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(s.marker));
  if (!sof) throw new Error('no frame header');
  return { height: (sof.body[1] << 8) | sof.body[2], width: (sof.body[3] << 8) | sof.body[4] };
}

/** The chunks of a PNG: type and data. */
export function pngChunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at + 8 <= png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    out.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

export function pngSize(png: Uint8Array): { width: number; height: number } {
  const ihdr = pngChunks(png)[0];
  const view = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, 8);
  return { width: view.getUint32(0), height: view.getUint32(4) };
}

/** CRC-32 as PNG chunks use it. */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const body = concat(ascii(type), data);
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(body, 4);
  view.setUint32(8 + data.length, crc32(body));
  return out;
}

/** A PNG with an eXIf chunk (GPS and all) and a tEXt "Author" chunk after its header. */
export function pngWithMetadata(png: Uint8Array): Uint8Array {
  const ihdrEnd = 8 + 12 + new DataView(png.buffer, png.byteOffset).getUint32(8);
  return concat(
    png.subarray(0, ihdrEnd),
    pngChunk('eXIf', exifTiff()),
    pngChunk('tEXt', ascii('Author\0Ayesha K.')),
    png.subarray(ihdrEnd),
  );
}

/** What the PDF's metadata says: none of it may leave the browser. */
export const PDF_VALUES = {
  title: 'Minutes naming Ayesha',
  author: 'Ayesha Khan',
  subject: 'HR complaint 2018',
  keywords: ['harassment', 'Lahore office'],
  creator: 'AyeshasLaptopWriter',
  producer: 'Acme PDF Producer 7',
  xmpMarker: 'XMP-AYESHA-DEVICE-42',
  oldAuthor: 'Earlier-Draft-Author-Ayesha',
  pageText: 'The text of the page stays as it is.',
};

/**
 * A PDF with every information field set, an XMP stream on its catalog, and an earlier saved
 * version: the first save holds an older Info dictionary (author `oldAuthor`) and the XMP
 * stream; an incremental update appended after it replaces the Info dictionary and the
 * catalog (the new catalog still points at the XMP stream), and frees the older Info object.
 */
export async function pdfWithMetadata(): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.addPage([300, 200]).drawText(PDF_VALUES.pageText, { x: 20, y: 100, size: 10 });
  // Literal strings (pdf-lib's setters write hex), so a byte search finds them as an editor writes them.
  doc.context.trailerInfo.Info = doc.context.register(
    doc.context.obj({ Title: PDFString.of(PDF_VALUES.title), Author: PDFString.of(PDF_VALUES.oldAuthor) }),
  );
  const xmp = doc.context.stream(
    `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description pdf:Producer="${PDF_VALUES.xmpMarker}"/></x:xmpmeta>`,
    { Type: 'Metadata', Subtype: 'XML' },
  );
  doc.catalog.set(PDFName.of('Metadata'), doc.context.register(xmp));
  const first = await doc.save({ useObjectStreams: false });

  // The incremental update: a new Info dictionary and the catalog again, as an editor writes them.
  const text = Buffer.from(first).toString('latin1');
  const prevXref = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(text)![1]);
  const size = Number(/\/Size (\d+)/.exec(text.slice(text.lastIndexOf('trailer')))![1]);
  const rootRef = /\/Root (\d+ \d+ R)/.exec(text.slice(text.lastIndexOf('trailer')))![1];
  const oldInfoNum = Number(/\/Info (\d+) 0 R/.exec(text.slice(text.lastIndexOf('trailer')))![1]);
  const catalogBody = new RegExp(`(?:^|\\n)${rootRef.replace(' R', '')} obj\\s*([\\s\\S]*?)\\s*endobj`).exec(text)![1];
  const pdfString = (s: string) => `(${s.replace(/[()\\]/g, '\\$&')})`;
  const info =
    `<< /Title ${pdfString(PDF_VALUES.title)} /Author ${pdfString(PDF_VALUES.author)} /Subject ${pdfString(PDF_VALUES.subject)} ` +
    `/Keywords ${pdfString(PDF_VALUES.keywords.join(' '))} /Creator ${pdfString(PDF_VALUES.creator)} /Producer ${pdfString(PDF_VALUES.producer)} ` +
    `/CreationDate (D:20180331214500+05'00') /ModDate (D:20180401101112+05'00') >>`;
  let update = '\n';
  const offsets: [number, number][] = [];
  const add = (num: number, body: string) => {
    offsets.push([num, first.length + Buffer.byteLength(update, 'latin1')]);
    update += `${num} 0 obj\n${body}\nendobj\n`;
  };
  add(size, info);
  add(Number(rootRef.split(' ')[0]), catalogBody);
  const xrefAt = first.length + Buffer.byteLength(update, 'latin1');
  const entry = (offset: number, gen: string, kind: 'n' | 'f') => `${String(offset).padStart(10, '0')} ${gen} ${kind} \n`;
  update += 'xref\n0 1\n' + entry(0, '65535', 'f');
  update += `${oldInfoNum} 1\n` + entry(0, '00001', 'f');
  for (const [num, offset] of offsets.sort((a, b) => a[0] - b[0])) update += `${num} 1\n` + entry(offset, '00000', 'n');
  update += `trailer\n<< /Size ${size + 1} /Root ${rootRef} /Info ${size} 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>] /Prev ${prevXref} >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return concat(first, Buffer.from(update, 'latin1'));
}
