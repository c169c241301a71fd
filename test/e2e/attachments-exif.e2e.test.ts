/**
 * Evidence leaves the survivor's browser without its metadata. A real JPEG drawn on a canvas
 * gets a hand-built EXIF block (camera, dates, software, a GPS position, orientation 6), an
 * XMP packet and a comment; a real PNG gets an eXIf and a tEXt chunk. The survivor attaches
 * both, reads what was removed, and sends. The record PUTs are captured byte for byte as they
 * leave the browser, and decrypted here with the manifests from the testimony envelope (opened
 * with her own keys, as her browser could): the files that arrive hold pixels and nothing
 * else, the JPEG upright, and no request carries the original file names.
 */
import { EXIF_VALUES, jpegSegments, jpegSize, jpegWithExif, pngChunks, pngSize, pngWithMetadata } from '../support/evidence-files';
import {
  attach,
  attachmentWorld,
  canvasImage,
  decryptSent,
  openSubmittedTestimony,
  recordPuts,
  sendTestimony,
  writeTestimony,
} from './attachments-support';
import { describeInBrowser, newGuardedPage, switchLanguage } from './support';
import { evidenceUr } from '../../i18n/evidence';

const JPEG_NAME = 'IMG_2041 Lahore Ayesha.jpg';
const PNG_NAME = 'Screenshot from Ayesha phone.png';
const METADATA_STRINGS = [
  EXIF_VALUES.make,
  EXIF_VALUES.model,
  EXIF_VALUES.software,
  EXIF_VALUES.dateTime,
  EXIF_VALUES.dateTaken,
  'Exif\0\0',
  'http://ns.adobe.com/xap',
  'Lahore',
  'taken at the office',
  'Ayesha',
];

describeInBrowser('evidence images leave the browser without metadata', () => {
  const problems: string[] = [];
  const world = attachmentWorld(problems);

  test('a JPEG with GPS EXIF and a PNG with text chunks arrive as pixels only', async () => {
    const { server, browser, instanceId } = world();
    const survivor = await newGuardedPage(browser, problems);
    const records = recordPuts(survivor.context);
    const jpeg = Buffer.from(jpegWithExif(await canvasImage(survivor.page, 'image/jpeg', 40, 20), 6));
    const png = Buffer.from(pngWithMetadata(await canvasImage(survivor.page, 'image/png', 30, 10)));
    // The files do carry what must go.
    expect(jpegSegments(jpeg).filter((s) => s.marker === 0xe1)).toHaveLength(2);
    expect(jpeg.includes(EXIF_VALUES.make)).toBe(true);
    expect(pngChunks(png).map((c) => c.type)).toEqual(expect.arrayContaining(['eXIf', 'tEXt']));

    const codename = await writeTestimony(survivor.page, server.url, 'What happened, with two pictures.');
    await attach(survivor.page, [
      { name: JPEG_NAME, mimeType: 'image/jpeg', buffer: jpeg },
      { name: PNG_NAME, mimeType: 'image/png', buffer: png },
    ]);

    // She sees what will be sent and what was removed.
    const items = survivor.page.locator('ul.evidence > li');
    expect(await items.count()).toBe(2);
    const jpegItem = await items.nth(0).innerText();
    expect(jpegItem).toContain('attachment-1.jpg');
    expect(jpegItem).toContain(`The file name ${JPEG_NAME} (it is sent as attachment-1.jpg)`);
    expect(jpegItem).toContain('The place where it was taken (GPS position)');
    expect(jpegItem).toContain(`The camera or phone: ${EXIF_VALUES.make} ${EXIF_VALUES.model}`);
    // A phone model moves to the next line whole, rather than breaking between "Galaxy" and "A10".
    expect(
      await survivor.page.evaluate(
        `getComputedStyle([...document.querySelectorAll('ul.evidence bdi')].find((b) => b.textContent.includes(${JSON.stringify(EXIF_VALUES.model)}))).display`,
      ),
    ).toBe('inline-block');
    // EXIF's "2018:03:31 21:45:00", written as people write dates
    expect(jpegItem).toContain('The date and time: 31 March 2018, 21:45');
    expect(jpegItem).toContain(`The program used: ${EXIF_VALUES.software}`);
    expect(jpegItem).toContain('Editing details (XMP)');
    // The evidence tools bring their own messages, in both languages: the list follows a change of language.
    await switchLanguage(survivor.page, 'ur');
    const jpegItemUrdu = await items.nth(0).innerText();
    expect(jpegItemUrdu).toContain(evidenceUr['evidence.gps']);
    expect(jpegItemUrdu).toContain('31 مارچ 2018، 21:45');
    await switchLanguage(survivor.page, 'en');
    expect(await items.nth(0).innerText()).toContain('The place where it was taken (GPS position)');
    const pngItem = await items.nth(1).innerText();
    expect(pngItem).toContain('attachment-2.png');
    expect(pngItem).toContain('Text hidden in the file: Author');
    // The previews are the redrawn files, from blob: URLs; the JPEG is shown upright (orientation 6: turned a quarter).
    const previews = await survivor.page.evaluate<{ src: string; width: number; height: number }[]>(
      `[...document.querySelectorAll('ul.evidence img')].map((i) => ({ src: i.src, width: i.naturalWidth, height: i.naturalHeight }))`,
    );
    expect(previews.map((p) => p.src.startsWith('blob:'))).toEqual([true, true]);
    expect(previews.map(({ width, height }) => ({ width, height }))).toEqual([
      { width: 20, height: 40 },
      { width: 30, height: 10 },
    ]);

    await sendTestimony(survivor.page);
    const { testimony, attachmentIds } = await openSubmittedTestimony(survivor.sent, codename, instanceId);
    const manifests = testimony.attachments ?? [];
    expect(manifests.map((m) => [m.name, m.type])).toEqual([
      ['attachment-1.jpg', 'image/jpeg'],
      ['attachment-2.png', 'image/png'],
    ]);
    expect(attachmentIds).toEqual(manifests.map((m) => m.id));

    // The JPEG as it left the browser: a JPEG, upright, with no APP1 (EXIF, XMP), no IPTC, no comment.
    const sentJpeg = decryptSent(records, manifests[0]);
    expect([...sentJpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(jpegSize(sentJpeg)).toEqual({ width: 20, height: 40 });
    expect(jpegSegments(sentJpeg).filter((s) => [0xe1, 0xed, 0xfe].includes(s.marker))).toEqual([]);
    // The PNG: image data and its header, nothing written by a camera or an editor.
    const sentPng = decryptSent(records, manifests[1]);
    expect(pngSize(sentPng)).toEqual({ width: 30, height: 10 });
    expect(pngChunks(sentPng).filter((c) => ['eXIf', 'tEXt', 'zTXt', 'iTXt', 'tIME'].includes(c.type))).toEqual([]);
    for (const file of [sentJpeg, sentPng])
      for (const s of METADATA_STRINGS) expect({ s, found: file.includes(s) }).toEqual({ s, found: false });

    // No request names the original files; records went as ciphertext.
    for (const r of survivor.sent)
      for (const name of ['IMG_2041', 'Ayesha', 'Screenshot']) expect(decodeURIComponent(r.url) + r.body).not.toContain(name);
    expect([...records.values()].flatMap((m) => [...m.values()]).some((b) => b.includes(EXIF_VALUES.make))).toBe(false);
    expect(problems).toEqual([]);
  });
});
