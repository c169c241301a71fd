/**
 * The metadata report shown to a survivor (client/lib/metadata-scan.ts): it names what is in
 * JPEG, PNG and WebP files built here byte by byte, and never throws on a damaged file. It
 * only informs: the images are redrawn whatever it finds (tested in Chromium, e2e).
 */
import fc from 'fast-check';
import { scanImageMetadata } from '../../client/lib/metadata-scan';
import { EXIF_VALUES, exifTiff, jpegWithExif, pngWithMetadata } from '../support/evidence-files';

/** Just enough of a JPEG for the scanner: SOI, start of scan, EOI. */
const BARE_JPEG = Uint8Array.of(0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9);
/** PNG signature, a 1x1 IHDR and IEND (CRCs are not checked by the scanner). */
const BARE_PNG = Uint8Array.from([
  ...[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  ...[0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0, 0, 0, 0],
  ...[0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82],
]);

const ascii = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
function riffChunk(fourcc: string, data: Uint8Array): number[] {
  const size = [data.length & 0xff, (data.length >> 8) & 0xff, (data.length >> 16) & 0xff, data.length >>> 24];
  return [...ascii(fourcc), ...size, ...data, ...(data.length % 2 ? [0] : [])];
}
function webp(...chunks: number[][]): Uint8Array {
  const body = [...ascii('WEBP'), ...chunks.flat()];
  return Uint8Array.from([...ascii('RIFF'), body.length & 0xff, (body.length >> 8) & 0xff, 0, 0, ...body]);
}

const EXPECTED_CAMERA = `${EXIF_VALUES.make} ${EXIF_VALUES.model}`;

describe('JPEG', () => {
  test.each([
    ['big-endian (MM)', false],
    ['little-endian (II)', true],
  ])('names the GPS position, camera, date taken and software of an EXIF block, %s', (_order, le) => {
    const found = scanImageMetadata(jpegWithExif(BARE_JPEG, 1, le));
    expect(found).toEqual({
      gps: true,
      camera: EXPECTED_CAMERA,
      // the date the picture was taken (Exif IFD) over the date the file was changed (IFD0)
      taken: EXIF_VALUES.dateTaken,
      software: EXIF_VALUES.software,
      exif: true,
      xmp: true,
      iptc: false,
      notes: ['taken at the office'],
    });
  });

  test('a JPEG without metadata reports nothing', () => {
    expect(scanImageMetadata(BARE_JPEG)).toEqual({ gps: false, exif: false, xmp: false, iptc: false, notes: [] });
  });

  test('segments after the start of scan are not read as metadata', () => {
    const late = jpegWithExif(Uint8Array.of(0xff, 0xd8), 1);
    const jpeg = Uint8Array.from([...BARE_JPEG.subarray(0, 6), ...late.subarray(2)]);
    expect(scanImageMetadata(jpeg).exif).toBe(false);
  });
});

test('PNG: an eXIf chunk and a text chunk', () => {
  const found = scanImageMetadata(pngWithMetadata(BARE_PNG));
  expect(found).toMatchObject({ gps: true, camera: EXPECTED_CAMERA, software: EXIF_VALUES.software, exif: true, notes: ['Author'] });
});

test('PNG: an XMP packet in an iTXt chunk is named as XMP, not as a note', () => {
  const itxt = [...ascii('XML:com.adobe.xmp'), 0, 0, 0, 0, 0, ...ascii('<x:xmpmeta/>')];
  const chunk = [0, 0, 0, itxt.length, ...ascii('iTXt'), ...itxt, 0, 0, 0, 0];
  const png = Uint8Array.from([...BARE_PNG.subarray(0, 33), ...chunk, ...BARE_PNG.subarray(33)]);
  expect(scanImageMetadata(png)).toMatchObject({ xmp: true, notes: [] });
});

test('WebP: EXIF (with or without the "Exif" prefix) and XMP chunks', () => {
  const vp8x = riffChunk('VP8X', new Uint8Array(10));
  for (const exif of [exifTiff(), Uint8Array.from([...ascii('Exif\0\0'), ...exifTiff()])]) {
    const found = scanImageMetadata(webp(vp8x, riffChunk('EXIF', exif), riffChunk('XMP ', ascii('<x:xmpmeta/>'))));
    expect(found).toMatchObject({ gps: true, camera: EXPECTED_CAMERA, taken: EXIF_VALUES.dateTaken, exif: true, xmp: true });
  }
});

test('anything else reports nothing', () => {
  expect(scanImageMetadata(ascii('%PDF-1.7 /Author (x)'))).toEqual({ gps: false, exif: false, xmp: false, iptc: false, notes: [] });
});

test('a damaged or hostile file never throws: truncated anywhere, or bytes flipped', () => {
  const samples = [
    jpegWithExif(BARE_JPEG, 6),
    jpegWithExif(BARE_JPEG, 1, true),
    pngWithMetadata(BARE_PNG),
    webp(riffChunk('EXIF', exifTiff())),
  ];
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: samples.length - 1 }),
      fc.nat(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      (which, cut, flips) => {
        const bytes = samples[which].slice(0, (cut % samples[which].length) + 1);
        for (const [at, value] of flips) if (bytes.length) bytes[at % bytes.length] = value;
        const found = scanImageMetadata(bytes);
        expect(typeof found.gps).toBe('boolean');
        for (const s of [found.camera, found.taken, found.software, ...found.notes])
          if (s !== undefined) expect(s.length).toBeLessThanOrEqual(64);
      },
    ),
    { numRuns: 2000 },
  );
});
