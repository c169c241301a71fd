/**
 * The evidence tools' own messages, in English and Urdu: what the picker says once a file is
 * chosen (what was removed, what cannot be cleaned, sizes and progress). They ship with the
 * tools (client/evidence-tools.ts registers them, client/lib/i18n.ts addMessages), not in
 * survivor-base.js, so a survivor who attaches nothing does not download them: about 1.5 KB
 * gzipped of the survivor pages' 80 KB. Same rules as en.ts and ur.ts
 * (test/unit/i18n-catalog.test.ts checks them together).
 */
export const evidenceEn = {
  'evidence.needConsent': 'Tick “Send this file anyway” for {name}, or remove it.',
  'evidence.pdfKept': 'The text and pictures inside the document are sent as they are: check that they do not name you.',
  'evidence.preview': 'What will be sent',
  'evidence.progress': 'Sending the evidence',
  'evidence.redrawn': 'The picture was redrawn on this device, so anything else hidden in the file is gone too.',
  'evidence.removed': 'Removed before sending:',
  'evidence.retrying': 'The connection dropped. Trying again…',
  'evidence.sendAnyway': 'Send this file anyway, as it is',
  'evidence.sending': 'Encrypting and sending file {n} of {count}…',
  'evidence.tooBig': '{name} is {size}; each file may be at most {limit}. Remove it or choose a smaller one.',
  'evidence.tooMany': 'At most {count} files can be sent at once.',
  'evidence.tooMuch': 'With these, the files of this testimony and its messages would total {size}; the limit is {limit}. Remove some.',
  'evidence.camera': 'The camera or phone: {camera}',
  'evidence.cannotClean':
    'This kind of file cannot be cleaned here. It may hold hidden details, such as the phone it was recorded on, dates or a place, and they would be sent with it.',
  'evidence.cleanFailed': 'This file could not be opened to clean it. If you send it, any hidden details in it are sent too.',
  'evidence.exif': 'Details recorded by the camera (EXIF)',
  'evidence.gps': 'The place where it was taken (GPS position)',
  'evidence.iptc': 'Captions, keywords or author (IPTC)',
  'evidence.notes': 'Text hidden in the file: {notes}',
  'evidence.pdfInfo': 'Document details: {fields}',
  'evidence.pdfLocked': 'This PDF has a password, so it cannot be cleaned. If you send it, its hidden details are sent too.',
  'evidence.pdfVersions': 'Earlier saved versions kept inside the file',
  'evidence.pdfXmp': 'Hidden document details (XMP)',
  'evidence.renamed': 'The file name {name} (it is sent as {neutral})',
  'evidence.software': 'The program used: {software}',
  'evidence.taken': 'The date and time: {date}',
  'evidence.xmp': 'Editing details (XMP)',
} as const;

export const evidenceUr: Record<keyof typeof evidenceEn, string> = {
  'evidence.needConsent': '{name} کے لیے ”یہ فائل پھر بھی بھیج دیں“ پر نشان لگائیں، یا اسے ہٹا دیں۔',
  'evidence.pdfKept': 'دستاویز کے اندر کا متن اور تصویریں جوں کی توں بھیجی جاتی ہیں: دیکھ لیں کہ ان میں آپ کا نام نہ ہو۔',
  'evidence.preview': 'جو بھیجا جائے گا',
  'evidence.progress': 'ثبوت بھیجا جا رہا ہے',
  'evidence.redrawn': 'تصویر اسی فون یا کمپیوٹر پر نئے سرے سے بنائی گئی، اس لیے فائل میں چھپی باقی ہر چیز بھی ہٹ گئی۔',
  'evidence.removed': 'بھیجنے سے پہلے ہٹایا گیا:',
  'evidence.retrying': 'کنکشن ٹوٹ گیا۔ دوبارہ کوشش کی جا رہی ہے…',
  'evidence.sendAnyway': 'یہ فائل پھر بھی، جیسی ہے ویسی، بھیج دیں',
  'evidence.sending': 'فائل {n} از {count} انکرپٹ کر کے بھیجی جا رہی ہے…',
  'evidence.tooBig': '{name} کا سائز {size} ہے؛ ہر فائل زیادہ سے زیادہ {limit} کی ہو سکتی ہے۔ اسے ہٹا دیں یا چھوٹی فائل چنیں۔',
  'evidence.tooMany': 'ایک بار میں زیادہ سے زیادہ {count} فائلیں بھیجی جا سکتی ہیں۔',
  'evidence.tooMuch': 'ان کے ساتھ اس بیان اور اس کے پیغامات کی فائلیں مل کر {size} کی ہو جائیں گی؛ حد {limit} ہے۔ کچھ فائلیں ہٹا دیں۔',
  'evidence.camera': 'کیمرا یا فون: {camera}',
  'evidence.cannotClean':
    'اس قسم کی فائل یہاں صاف نہیں کی جا سکتی۔ اس میں چھپی تفصیلات ہو سکتی ہیں، جیسے وہ فون جس پر یہ ریکارڈ ہوئی، تاریخیں یا کوئی جگہ، اور وہ بھی اس کے ساتھ بھیجی جائیں گی۔',
  'evidence.cleanFailed': 'یہ فائل صاف کرنے کے لیے کھولی نہیں جا سکی۔ اگر آپ اسے بھیجیں تو اس میں چھپی ہر تفصیل بھی ساتھ جائے گی۔',
  'evidence.exif': 'کیمرے کی محفوظ کی ہوئی تفصیلات (EXIF)',
  'evidence.gps': 'وہ جگہ جہاں یہ لی گئی (جی پی ایس مقام)',
  'evidence.iptc': 'کیپشن، مطلوبہ الفاظ یا مصنف (IPTC)',
  'evidence.notes': 'فائل میں چھپا متن: {notes}',
  'evidence.pdfInfo': 'دستاویز کی تفصیلات: {fields}',
  'evidence.pdfLocked':
    'اس پی ڈی ایف پر پاس ورڈ لگا ہے، اس لیے اسے صاف نہیں کیا جا سکتا۔ اگر آپ اسے بھیجیں تو اس کی چھپی تفصیلات بھی ساتھ جائیں گی۔',
  'evidence.pdfVersions': 'فائل کے اندر محفوظ پرانے نسخے',
  'evidence.pdfXmp': 'دستاویز کی چھپی تفصیلات (XMP)',
  'evidence.renamed': 'فائل کا نام {name} (یہ {neutral} کے نام سے بھیجی جائے گی)',
  'evidence.software': 'استعمال ہونے والا پروگرام: {software}',
  'evidence.taken': 'تاریخ اور وقت: {date}',
  'evidence.xmp': 'ترمیم کی تفصیلات (XMP)',
};
