/**
 * The matching escrow's own messages, in English and Urdu: what happens to an identifier a
 * survivor adds, the form, and why an identifier was refused. They ship with the matching code
 * (client/matching.ts registers them, client/lib/i18n.ts addMessages), not in survivor-base.js,
 * so a survivor who adds nothing does not download them. Same rules as en.ts and ur.ts
 * (test/unit/i18n-catalog.test.ts checks them together).
 */
export const matchingEn = {
  'matching.intro':
    'You may add a phone number, an email address or a social-media profile of the person who harmed you. Names are not accepted: they do not match reliably.',
  'matching.what1': 'Nothing about it is revealed unless another survivor names the same phone number, email or profile.',
  'matching.what2':
    'If that happens, a **matching counselor** of this team learns that your testimony and the other survivor’s match, and can read both. Nobody else is told, and the other survivor learns nothing about you.',
  'matching.what3':
    'This server never sees what you type: your phone or computer encrypts it first, and only the matching counselors can open it. You can withdraw it at any time.',
  'matching.unavailable': 'Adding is not possible here yet: nobody on this team is a matching counselor.',
  'matching.caseLabel': 'For which testimony',
  'matching.caseOption': 'Testimony of {day}',
  'matching.typeLabel': 'What you know of the person',
  'matching.type.phone': 'Phone number',
  'matching.type.email': 'Email address',
  'matching.type.social': 'Social-media profile',
  'matching.networkLabel': 'Network (if you type only the profile name)',
  'matching.networkAny': 'Found in the address',
  'matching.network.facebook': 'Facebook',
  'matching.network.instagram': 'Instagram',
  'matching.network.x': 'X (Twitter)',
  'matching.network.tiktok': 'TikTok',
  'matching.network.linkedin': 'LinkedIn',
  'matching.network.snapchat': 'Snapchat',
  'matching.network.youtube': 'YouTube',
  'matching.network.telegram': 'Telegram',
  'matching.network.threads': 'Threads',
  'matching.valueLabel': 'The number, address or profile',
  'matching.preview': 'It will be compared as: {value}',
  'matching.confirm': 'I have read what happens and I want to add it',
  'matching.needConfirm': 'Tick the box to confirm that you have read what happens.',
  'matching.add': 'Add',
  'matching.adding': 'Encrypting it on your phone or computer…',
  'matching.added': 'Added. It stays sealed unless another survivor names the same.',
  'matching.yours': 'What you have added',
  'matching.none': 'Nothing yet.',
  'matching.item': '{value}, added on {day}',
  'matching.withdraw': 'Withdraw',
  'matching.withdrawn': 'Withdrawn. It will no longer match.',
  'matching.limit': 'You have checked as many as you may today. Try again tomorrow.',
  'matching.problem.phone_characters': 'A phone number has only digits, spaces, dashes and a leading +.',
  'matching.problem.phone_country': 'Write the number as you would dial it, starting with 0, or with its country code (+…).',
  'matching.problem.phone_length': 'This number has too few or too many digits.',
  'matching.problem.email_shape': 'An email address looks like name@example.com.',
  'matching.problem.social_network': 'Choose the network, or paste the address of a profile on one of the networks listed.',
  'matching.problem.social_not_profile':
    'This is not the address of a profile (it is a share link, a post, a message or a page). Paste the profile’s address or its handle (@name) instead.',
  'matching.problem.social_handle': 'A profile name has only letters, digits, dots, underscores or dashes.',
} as const;

export type MatchingMessageKey = keyof typeof matchingEn;

export const matchingUr: Record<MatchingMessageKey, string> = {
  'matching.intro':
    'آپ اس شخص کا فون نمبر، ای میل ایڈریس یا سوشل میڈیا پروفائل شامل کر سکتے ہیں جس نے آپ کو نقصان پہنچایا۔ نام قبول نہیں کیے جاتے: وہ قابلِ اعتماد طریقے سے نہیں ملتے۔',
  'matching.what1': 'اس کے بارے میں کچھ ظاہر نہیں ہوتا، جب تک کوئی اور متاثرہ شخص یہی فون نمبر، ای میل یا پروفائل نہ بتائے۔',
  'matching.what2':
    'اگر ایسا ہو، تو اس ٹیم کے ایک **میچنگ کونسلر** کو پتا چلتا ہے کہ آپ کا بیان اور دوسرے متاثرہ شخص کا بیان آپس میں ملتے ہیں، اور وہ دونوں پڑھ سکتے ہیں۔ کسی اور کو نہیں بتایا جاتا، اور دوسرے متاثرہ شخص کو آپ کے بارے میں کچھ پتا نہیں چلتا۔',
  'matching.what3':
    'یہ سرور کبھی نہیں دیکھتا کہ آپ کیا لکھتے ہیں: آپ کا فون یا کمپیوٹر پہلے اسے انکرپٹ کرتا ہے، اور صرف میچنگ کونسلر ہی اسے کھول سکتے ہیں۔ آپ اسے کسی بھی وقت واپس لے سکتے ہیں۔',
  'matching.unavailable': 'یہاں ابھی شامل کرنا ممکن نہیں: اس ٹیم میں کوئی میچنگ کونسلر نہیں ہے۔',
  'matching.caseLabel': 'کس بیان کے لیے',
  'matching.caseOption': '{day} کا بیان',
  'matching.typeLabel': 'آپ اس شخص کے بارے میں کیا جانتے ہیں',
  'matching.type.phone': 'فون نمبر',
  'matching.type.email': 'ای میل ایڈریس',
  'matching.type.social': 'سوشل میڈیا پروفائل',
  'matching.networkLabel': 'نیٹ ورک (اگر آپ صرف پروفائل کا نام لکھیں)',
  'matching.networkAny': 'ایڈریس سے معلوم ہو گا',
  'matching.network.facebook': 'فیس بک',
  'matching.network.instagram': 'انسٹاگرام',
  'matching.network.x': 'ایکس (ٹوئٹر)',
  'matching.network.tiktok': 'ٹک ٹاک',
  'matching.network.linkedin': 'لنکڈ اِن',
  'matching.network.snapchat': 'اسنیپ چیٹ',
  'matching.network.youtube': 'یوٹیوب',
  'matching.network.telegram': 'ٹیلی گرام',
  'matching.network.threads': 'تھریڈز',
  'matching.valueLabel': 'نمبر، ایڈریس یا پروفائل',
  'matching.preview': 'اس کا موازنہ یوں ہو گا: {value}',
  'matching.confirm': 'مجھے معلوم ہے کہ کیا ہوتا ہے، اسے شامل کیا جائے',
  'matching.needConfirm': 'تصدیق کے لیے خانے پر نشان لگائیں کہ آپ نے پڑھ لیا ہے کہ کیا ہوتا ہے۔',
  'matching.add': 'شامل کریں',
  'matching.adding': 'آپ کے فون یا کمپیوٹر پر اسے انکرپٹ کیا جا رہا ہے…',
  'matching.added': 'شامل ہو گیا۔ یہ تب تک بند رہے گا جب تک کوئی اور متاثرہ شخص یہی نہ بتائے۔',
  'matching.yours': 'جو آپ نے شامل کیا ہے',
  'matching.none': 'ابھی کچھ نہیں۔',
  'matching.item': '{value}، {day} کو شامل کیا',
  'matching.withdraw': 'واپس لیں',
  'matching.withdrawn': 'واپس لے لیا گیا۔ اب یہ کسی سے نہیں ملے گا۔',
  'matching.limit': 'آج آپ جتنی بار جانچ سکتے تھے، جانچ چکے ہیں۔ کل دوبارہ کوشش کریں۔',
  'matching.problem.phone_characters': 'فون نمبر میں صرف ہندسے، خالی جگہ، ڈیش اور شروع میں + ہوتا ہے۔',
  'matching.problem.phone_country': 'نمبر ویسے لکھیں جیسے آپ ملاتے ہیں، 0 سے شروع کر کے، یا ملک کے کوڈ (+…) کے ساتھ۔',
  'matching.problem.phone_length': 'اس نمبر میں ہندسے بہت کم یا بہت زیادہ ہیں۔',
  'matching.problem.email_shape': 'ای میل ایڈریس کچھ یوں ہوتا ہے: name@example.com',
  'matching.problem.social_network': 'نیٹ ورک منتخب کریں، یا دیے گئے نیٹ ورکس میں سے کسی پروفائل کا ایڈریس چسپاں کریں۔',
  'matching.problem.social_not_profile':
    'یہ کسی پروفائل کا ایڈریس نہیں (یہ شیئر لنک، پوسٹ، پیغام یا کسی صفحے کا ہے)۔ اس کے بجائے پروفائل کا ایڈریس یا اس کا صارف نام (@name) پیسٹ کریں۔',
  'matching.problem.social_handle': 'پروفائل کے نام میں صرف حروف، ہندسے، نقطے، انڈر اسکور یا ڈیش ہوتے ہیں۔',
};
