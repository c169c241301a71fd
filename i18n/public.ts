/**
 * The public pages' own messages (the wall of stories, one story, statistics), in English and
 * Urdu. The server draws those pages from the English ones (server/http/html.ts); in the
 * browser, public.js registers both (client/lib/i18n.ts addMessages) before the page is translated.
 * They ship apart from survivor-base.js, which every survivor page loads, so that /, /share,
 * /return and /safety do not carry them: about 1 KB gzipped of their 80 KB budget. Same rules
 * as en.ts and ur.ts (test/unit/i18n-catalog.test.ts checks them together).
 */
export const publicEn = {
  'wall.title': 'Stories · Awaaz',
  'wall.heading': 'Stories',
  'wall.intro':
    'The people who lived these accounts chose to make them public, word for word, and can withdraw them at any time. Names and places were removed.',
  'wall.feed': 'Follow new stories with the [Atom feed](/stories/feed.atom).',
  'wall.filter': 'Where it happened:',
  'wall.all': 'All',
  'wall.none': 'No stories have been published yet.',
  'wall.noneHere': 'No stories have been published in this category yet.',
  'wall.pages': 'Pages of stories',
  'wall.newer': 'Newer stories',
  'wall.older': 'Older stories',
  'wall.pageOf': 'Page {page} of {pages}',
  'wall.storyMeta': 'Story {alias}, published {month}',
  'wall.storyTitle': 'A story · Awaaz',
  'wall.consentNote': 'Its author approved these exact words and can withdraw them at any time.',
  'wall.backToWall': '[Back to all stories](/stories)',
  'wall.goneTitle': 'This story was withdrawn',
  'wall.goneText': 'Its author withdrew it, and it is no longer published here. Please do not share copies of it.',
  'wall.missingTitle': 'No story at this address',
  'wall.takenDownTitle': 'This story was taken down',
  'wall.takenDownText': 'The organisation that runs this site took it down. The reason it gave:',
  'wall.feedTitle': 'Awaaz: stories',
  'stats.title': 'Statistics · Awaaz',
  'stats.heading': 'Statistics',
  'stats.intro':
    'Only testimonies whose authors chose to be counted, and only the details they chose to disclose. A category counted fewer than {n} times is left out, with one more where needed, so that no one can be singled out.',
  'stats.byContext': 'By where it happened',
  'stats.byMonth': 'By month received',
  'stats.byProvince': 'By province or territory',
  'stats.byYear': 'By year it happened',
  'stats.noData': 'Nothing to show yet.',
} as const;

export type PublicMessageKey = keyof typeof publicEn;

export const publicUr: Record<PublicMessageKey, string> = {
  'wall.title': 'کہانیاں · آواز',
  'wall.heading': 'کہانیاں',
  'wall.intro':
    'جن لوگوں پر یہ گزری، انہوں نے خود انہیں لفظ بہ لفظ عام کرنے کا فیصلہ کیا، اور وہ کسی بھی وقت انہیں واپس لے سکتے ہیں۔ نام اور جگہیں ہٹا دی گئی ہیں۔',
  'wall.feed': 'نئی کہانیوں کے لیے [ایٹم فیڈ](/stories/feed.atom) استعمال کریں۔',
  'wall.filter': 'واقعہ کہاں ہوا:',
  'wall.all': 'سب',
  'wall.none': 'ابھی تک کوئی کہانی شائع نہیں ہوئی۔',
  'wall.noneHere': 'اس زمرے میں ابھی تک کوئی کہانی شائع نہیں ہوئی۔',
  'wall.pages': 'کہانیوں کے صفحات',
  'wall.newer': 'نئی کہانیاں',
  'wall.older': 'پرانی کہانیاں',
  'wall.pageOf': 'صفحہ {page} از {pages}',
  'wall.storyMeta': 'کہانی {alias}، اشاعت {month}',
  'wall.storyTitle': 'ایک کہانی · آواز',
  'wall.consentNote': 'جس نے یہ لکھا، اس نے بالکل انہی الفاظ کی منظوری دی ہے، اور یہ منظوری کسی بھی وقت واپس لی جا سکتی ہے۔',
  'wall.backToWall': '[تمام کہانیوں پر واپس](/stories)',
  'wall.goneTitle': 'یہ کہانی واپس لے لی گئی',
  'wall.goneText': 'جس نے یہ لکھا تھا، اس نے اسے واپس لے لیا ہے، اور یہ اب یہاں شائع نہیں ہے۔ براہِ کرم اس کی نقلیں نہ پھیلائیں۔',
  'wall.missingTitle': 'اس لنک پر کوئی کہانی نہیں',
  'wall.takenDownTitle': 'یہ کہانی ہٹا دی گئی',
  'wall.takenDownText': 'اس سائٹ کو چلانے والی تنظیم نے اسے ہٹا دیا۔ اس کی بتائی ہوئی وجہ:',
  'wall.feedTitle': 'آواز: کہانیاں',
  'stats.title': 'اعداد و شمار · آواز',
  'stats.heading': 'اعداد و شمار',
  'stats.intro':
    'صرف وہ بیانات جن کے لکھنے والوں نے گنتی میں شامل کرنے کی اجازت دی، اور صرف وہ تفصیلات جنہیں ظاہر کرنے کی انہوں نے اجازت دی۔ جو زمرہ {n} سے کم بار گنا گیا ہو وہ دکھایا نہیں جاتا، اور ضرورت ہو تو ایک اور بھی، تاکہ کسی کی نشاندہی نہ ہو سکے۔',
  'stats.byContext': 'واقعہ کہاں ہوا، اس کے لحاظ سے',
  'stats.byMonth': 'موصول ہونے کے مہینے کے لحاظ سے',
  'stats.byProvince': 'صوبے یا علاقے کے لحاظ سے',
  'stats.byYear': 'واقعے کے سال کے لحاظ سے',
  'stats.noData': 'ابھی دکھانے کو کچھ نہیں۔',
};
