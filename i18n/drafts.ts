/**
 * The messages of the drafts proposed to a survivor, in English and Urdu: approving the exact
 * words, asking for changes, withdrawing consent. They ship with the drafts code
 * (client/drafts.ts registers them, client/lib/i18n.ts addMessages), not in survivor-base.js,
 * so a survivor without a draft does not download them. Same rules as en.ts and ur.ts
 * (test/unit/i18n-catalog.test.ts checks them together).
 */
export const draftsEn = {
  'drafts.heading': 'Proposed publication',
  'drafts.version': 'Draft {version}',
  'draftStatus.proposed': 'Waiting for your decision',
  'draftStatus.changes_requested': 'You asked for changes',
  'draftStatus.approved': 'Approved, not yet published',
  'draftStatus.published': 'Published',
  'draftStatus.revoked': 'Withdrawn',
  'draftStatus.superseded': 'Replaced by a newer draft',
  'drafts.original': 'What you wrote',
  'drafts.proposal': 'What would be published',
  'drafts.approveNote':
    'If you approve, an advocate may publish exactly these words on the Stories page: the title, the text and where it happened. You can withdraw them at any time, and the story then leaves the public page at once; people who already read it, copied it or received it through the feed may keep a copy.',
  'drafts.approve': 'Approve these exact words',
  'drafts.approving': 'Recording your approval securely…',
  'drafts.approved': 'Approved. An advocate can now publish it.',
  'drafts.askChanges': 'Ask for changes',
  'drafts.changesLabel': 'What should change?',
  'drafts.sendChanges': 'Send my request',
  'drafts.changesMessage': 'About draft {version}: {text}',
  'drafts.changesSent': 'Your request was sent to the moderators and the draft’s author.',
  'drafts.seeStory': 'See the published story',
  'drafts.revoke': 'Withdraw my consent',
  'drafts.revokeConfirm':
    'Withdraw it? The story leaves the public page at once and its link stops working. Copies that people already made may remain.',
  'drafts.revokeYes': 'Yes, withdraw it',
  'drafts.revoked': 'Withdrawn. The story is no longer published.',
  'drafts.unsafe': 'This draft could not be opened safely: {reason}',
  'draftStatus.taken_down': 'Taken down by the organisation',
  'drafts.takenDown': 'The organisation took the story down. Their reason:',
};

export type DraftsMessageKey = keyof typeof draftsEn;

export const draftsUr: Record<DraftsMessageKey, string> = {
  'drafts.heading': 'مجوزہ اشاعت',
  'drafts.version': 'مسودہ {version}',
  'draftStatus.proposed': 'آپ کے فیصلے کا انتظار ہے',
  'draftStatus.changes_requested': 'آپ نے تبدیلیاں مانگی ہیں',
  'draftStatus.approved': 'منظور شدہ، ابھی شائع نہیں ہوا',
  'draftStatus.published': 'شائع ہو چکا',
  'draftStatus.revoked': 'واپس لے لیا گیا',
  'draftStatus.superseded': 'اس کی جگہ نیا مسودہ آ گیا',
  'drafts.original': 'جو آپ نے لکھا',
  'drafts.proposal': 'جو شائع کیا جائے گا',
  'drafts.approveNote':
    'اگر آپ منظوری دیں تو آگاہی ٹیم بالکل یہی الفاظ ”کہانیاں“ صفحے پر شائع کر سکتی ہے: عنوان، متن اور یہ کہ واقعہ کہاں ہوا۔ منظوری کسی بھی وقت واپس لی جا سکتی ہے، اور کہانی اسی وقت عوامی صفحے سے ہٹ جائے گی؛ جنہوں نے اسے پہلے پڑھ یا نقل کر لیا، یا فیڈ کے ذریعے حاصل کر لیا، ان کے پاس نقل رہ سکتی ہے۔',
  'drafts.approve': 'بالکل انہی الفاظ کی منظوری دیں',
  'drafts.approving': 'منظوری محفوظ طریقے سے درج کی جا رہی ہے…',
  'drafts.approved': 'منظور ہو گیا۔ اب آگاہی ٹیم اسے شائع کر سکتی ہے۔',
  'drafts.askChanges': 'تبدیلیاں مانگیں',
  'drafts.changesLabel': 'کیا بدلنا چاہیے؟',
  'drafts.sendChanges': 'میری درخواست بھیجیں',
  'drafts.changesMessage': 'مسودہ {version} کے بارے میں: {text}',
  'drafts.changesSent': 'آپ کی درخواست ماڈریٹرز اور مسودہ لکھنے والے کو بھیج دی گئی۔',
  'drafts.seeStory': 'شائع شدہ کہانی دیکھیں',
  'drafts.revoke': 'اپنی رضامندی واپس لیں',
  'drafts.revokeConfirm':
    'واپس لیں؟ کہانی اسی وقت عوامی صفحے سے ہٹ جائے گی اور اس کا لنک کام کرنا بند کر دے گا۔ جو نقلیں لوگ پہلے بنا چکے ہوں، وہ رہ سکتی ہیں۔',
  'drafts.revokeYes': 'ہاں، واپس لیں',
  'drafts.revoked': 'واپس لے لیا گیا۔ کہانی اب شائع نہیں ہے۔',
  'drafts.unsafe': 'یہ مسودہ محفوظ طریقے سے نہیں کھولا جا سکا: {reason}',
  'draftStatus.taken_down': 'تنظیم نے ہٹا دی',
  'drafts.takenDown': 'تنظیم نے یہ کہانی ہٹا دی۔ ان کی بتائی ہوئی وجہ:',
};
