/**
 * English messages: the default language and the source for every other catalog (ur.ts must
 * have exactly these keys; test/unit/i18n-catalog.test.ts checks it). Markup: `**bold**`,
 * `[text](/path)`, `{name}` (see format.ts). Survivor pages show these through
 * data-i18n attributes in the HTML and msg()/t()/localize() in code.
 */
export const en = {
  // The page frame shared by every survivor page
  'common.skip': 'Skip to the main content',
  'common.brand': 'Awaaz',
  'common.quickExit': 'Quick exit',
  'common.quickExitTitle': 'Leave this site at once. On a computer, pressing the Esc key three times quickly does the same.',
  'common.escHint':
    'To leave this site at once, press **Quick exit**. On a computer, pressing the Esc key three times quickly does the same.',
  'common.yes': 'Yes',
  'common.no': 'No',
  // The language switch shows the other language, in that language.
  'lang.other': 'اردو',
  'lang.otherTitle': 'Show this page in Urdu',
  'nav.label': 'Awaaz pages',
  'nav.home': 'Home',
  'nav.safety': 'Staying safe',
  'nav.staff': 'Staff sign in',
  'action.share': 'Share what happened',
  'action.return': 'I have a codename',

  'landing.title': 'Awaaz: tell what happened, safely',
  'landing.heading': 'Tell what happened, without giving your name',
  'landing.intro':
    'Awaaz lets you describe harassment or abuse you lived through. You do not give a name, an email or a phone number. Your browser encrypts what you write before it leaves this device, so the people who run this server cannot read it. Only you, the moderators of this organisation and, if you allow it, its advocates can read it.',
  'landing.safety':
    'On a shared phone, or one that someone else checks? Read [how to stay safe](/safety) first. **Quick exit** leaves this site at once (on a computer, so does pressing Esc three times quickly).',
  'landing.howHeading': 'How it works',
  'landing.how1': 'Your browser makes you a codename of eight words. It is your only key: keep it secret and safe.',
  'landing.how2':
    'You write what happened. It is encrypted here, on your device, for you and the moderators (and for the advocates, if you allow it).',
  'landing.how3': 'Come back any time with your codename to read your testimony and see its status.',
  'landing.checkHeading': 'Check this server',
  'landing.checkText':
    "This organisation's key fingerprint is shown below. It should match the one the organisation publishes elsewhere (its website, a poster, a message). If it differs, do not write anything here.",
  'landing.loading': 'Loading…',
  'landing.notSetUp': 'This Awaaz is not set up yet.',

  'share.title': 'Share what happened · Awaaz',
  'share.introText':
    'First, your browser will create a **codename**: eight ordinary English words, chosen at random on this device. It is your password, not your name: the only way back to your testimony, and the only thing that proves it is yours.',
  'share.introNoRecovery': 'Nobody can recover it for you, not even the moderators. If you lose it, you lose access.',
  'share.introKeep':
    'Keep it where only you can see it: memorised, or written on paper you keep safe, somewhere it does not look out of place, or in a password manager.',
  'share.introDont': 'Do not keep it on a shared or watched phone, in your messages, email, photos or notes.',
  'share.introSafety': 'Before you start, read [how to stay safe](/safety).',
  'share.makeCodename': 'Create my codename',
  'share.codenameHeading': 'Your codename',
  'share.codenameText':
    'Write these eight English words down in order, from 1 to 8. Small or capital letters make no difference. This is the only time they are shown.',
  'share.copy': 'Copy',
  'share.confirmLabel': 'To be sure you kept it, type or paste your codename here',
  'share.confirmButton': 'I have kept my codename',
  'share.notSame': 'That is not the same codename. Check each word and its order.',
  'share.writeHeading': 'What happened',
  'share.writeHint':
    'Write in your own words, in Urdu or English. Leave out anything that could identify you if you prefer; you can add more later.',
  'share.whatLabel': 'What happened',
  'share.whenLabel': 'Roughly when {hint}',
  'share.whenHint': '(optional; for example “summer 2018” or “about five years ago”)',
  'share.whereLabel': 'Where did it happen?',
  'share.chooseOne': 'Choose one',
  'share.repliesLegend': 'Would you like the moderators to reply?',
  'share.repliesYes': 'Yes, I will come back with my codename to read replies',
  'share.repliesNo': 'No',
  'share.send': 'Encrypt and send',
  'share.needWhat': 'Write what happened before sending.',
  'share.needWhere': 'Choose where it happened.',
  'share.noModerator': 'This Awaaz has no moderator yet; nothing was sent. Please try again later.',
  'share.preparing': 'Preparing your keys…',
  'share.sending': 'Encrypting and sending…',
  'share.doneHeading': 'Your testimony was sent',
  'share.doneText':
    'It was encrypted on this device before it was sent. The moderators know you only by this code: {handle}. It is not your codename, and you do not need to remember it.',
  'share.doneReturn':
    'Reading it and replying can take days. Come back any time to [read it and see its status](/return) with your codename.',
  'share.doneNotice': 'If you are on a shared device, close this window now.',
  'share.fingerprint': "This organisation's key fingerprint: {fingerprint}",

  'return.title': 'Your testimonies · Awaaz',
  'return.loginHeading': 'Open your testimonies',
  'return.safety': 'On a shared device? Read [how to stay safe](/safety) before you type your codename.',
  'return.codenameLabel': 'Your codename {hint}',
  'return.codenameHint': '(eight words)',
  'return.reveal': 'Show what I type',
  'return.open': 'Open',
  'return.opening': 'Opening… this takes a few seconds.',
  'return.listHeading': 'Your testimonies',
  'return.handle': 'The moderators know you only by this code: {handle}. It is not your codename, and you do not need to remember it.',
  'return.none': 'There is no testimony here yet.',
  'return.shareAnother': 'Share another testimony',
  'return.notice': 'If you are on a shared device, close this window when you are done.',

  'codename.wordCount': 'A codename has eight words; this one has {count}.',
  'codename.badWord': 'Word {n} (“{word}”) is not a codename word; check its spelling.',

  'testimony.survivor': 'Survivor',
  'testimony.sentOn': 'Sent on',
  'testimony.status': 'Status',
  'testimony.where': 'Where',
  'testimony.when': 'When',
  'testimony.wantsReplies': 'Wants replies',
  'testimony.badFormat': 'The testimony is not in a format this page understands.',
  'context.workplace': 'Workplace',
  'context.family': 'Family',
  'context.education': 'School, college or university',
  'context.online': 'Online',
  'context.public_place': 'Public place',
  'context.other': 'Other',
  'status.new': 'Received, not yet read',
  'status.in_review': 'Being reviewed',
  'status.waiting_for_survivor': 'A reply is waiting for you; answer when you are ready',
  'status.closed': 'Closed',

  'trust.notSetUp': 'This Awaaz has not been set up yet: there is nobody to send a testimony to.',
  'trust.failed':
    "Stop: this server's list of readers failed its security check ({reason}). Nothing was encrypted or sent. Someone may have tampered with this server. Contact the organisation through another channel before writing anything here.",
  'trust.unknownReason': 'the list of readers could not be checked',
  'trust.linkMismatch': 'its verification code is not the one in the link you followed: check that link with the organisation',

  'copy.done': 'Copied',
  'copy.failed': 'Copy failed: select the text and copy it',

  'api.network': 'Could not reach the server. Check your connection and try again.',
  'api.status': 'The server answered {status}.',
  'api.rateLimited': 'Too many attempts from this connection. Wait a minute and try again.',
  'api.unauthorized': 'No testimony was found for this codename. Check each word and its order, then try again.',
  'api.keysetChanged': 'The list of moderators changed while you were writing. Nothing was sent: press **Encrypt and send** again.',
  'api.server': 'The server had a problem ({status}). Nothing was lost on this page; please try again later.',
  'api.other': 'The server refused this request ({code}).',
  'error.generic': 'Something went wrong.',
  'error.detail': 'Something went wrong: {detail}',

  'safety.title': 'Staying safe · Awaaz',
  'safety.heading': 'Staying safe',
  'safety.intro':
    'Awaaz protects what you write with encryption, but it cannot see who is around you or what is on your phone or computer. These steps keep your visit as private as they can.',
  'safety.exitHeading': 'Leave at once',
  'safety.exitText':
    "Press **Quick exit** at the top of every page; on a computer, pressing the Esc key three times quickly does the same. On a phone as on a computer, this page is replaced at once by an ordinary website ({site}), what you typed and had not yet sent is erased, and the back button does not bring Awaaz back. Your browser's history still lists this site: see below.",
  'safety.deviceHeading': 'Use a phone or computer you trust',
  'safety.deviceText':
    'Do not use a shared or watched device: one that someone else uses, checks or can unlock, or on which they may have installed a monitoring app. Such an app can pass on everything you see and type, and no encryption helps against it. If you can, use your own device, or one that belongs to someone you trust.',
  'safety.privateHeading': 'Use a private window or Tor Browser',
  'safety.privateText':
    'A private window (called Incognito in Chrome) forgets this visit when you close it: the history, your language choice and the saved fingerprint. Close every private window when you are done.',
  'safety.torText':
    '[Tor Browser](https://www.torproject.org/download/) does the same, and also hides from your internet provider, from whoever runs the Wi-Fi and from this server that you are using Awaaz. It is free. If this organisation gives you an address ending in {onion}, open it in Tor Browser. On a phone that someone checks, a Tor Browser app can itself draw attention.',
  'safety.codenameHeading': 'Your codename',
  'safety.codenameText':
    'Your codename is eight ordinary English words that your browser chose at random. It is your password, not your name, and the only key to your testimonies: anyone who has it can read them. Nobody can recover it for you, not even the moderators, and they will never ask you for it.',
  'safety.codenameKeep':
    'Keep it in your memory, on paper in a safe place, or in a password manager on a device nobody else can open. Do not keep it in notes, photos, messages or email, and do not tell it to anyone.',
  'safety.protectsHeading': 'What Awaaz protects',
  'safety.protects1':
    "What you write is encrypted on your device before it is sent. The people who run the server cannot read it: only you, this organisation's moderators and, if you allow it, its advocates can.",
  'safety.protects2':
    'You give no name, email or phone number. The moderators know you only by a code chosen at random, such as {example}, which is not your codename.',
  'safety.protects3':
    "Awaaz does not record your IP (internet) address or which browser you use, sets no cookie, and keeps only two things in this browser: your language choice and this organisation's fingerprint.",
  'safety.cannotHeading': 'What Awaaz cannot protect',
  'safety.cannot1':
    "Your browser's history shows that this site was visited, unless you use a private window or Tor Browser. Afterwards you can delete just this site's entries from the history; clearing all of it can itself draw attention.",
  'safety.cannot2':
    'Your internet provider, or whoever runs the Wi-Fi, can see that you connected to this site, though not what you wrote, unless you use Tor Browser.',
  'safety.cannot3':
    'This page runs code sent by the server. If the server were taken over, or the people who run it misused it, they could change that code so that it reads what you type. Comparing the fingerprint with the one the organisation publishes elsewhere, and using Tor Browser, make this harder to do unnoticed.',
  'safety.cannot4': 'A phone or computer with a monitoring app shows everything you type to whoever installed it.',
  'safety.cannot5':
    'What you write can identify you to someone who knows what happened. Leave out names, places and dates you do not want to share.',
  'safety.cannot6': 'A codename that is written down or saved can be found.',
  'safety.dangerHeading': 'If you are in danger now',
  'safety.dangerText':
    'Awaaz is not an emergency service: a reply can take days. If you are in danger now, call the emergency services, a helpline or someone you trust.',
  // Tor Browser's security levels: the safety page, and the notice every page shows when its
  // scripts cannot run (Safest level); the build writes noscript.* into the pages' HTML in
  // both languages (server/http/html.ts noscriptNotice).
  'safety.torLevelsHeading': "Tor Browser's security levels",
  'safety.torStandard': '**Standard:** everything in Awaaz works.',
  'safety.torSafer': '**Safer:** everything works; making your keys from your codename takes several seconds.',
  'safety.torSafest': '**Safest:** Awaaz cannot work: it encrypts your words in your browser, with scripts, which this level turns off.',
  'safety.torWhy': 'Awaaz has no version without scripts: the server would then receive your words as you typed them.',
  'safety.torHow': 'To change it: the shield icon → Settings → Security Level → “Safer” or “Standard”.',
  // The conversation with the moderators, on the return page
  'thread.heading': 'Conversation with the moderators',
  'thread.fromTeam': 'Moderator, {day}',
  'thread.fromYou': 'You, {day}',
  'thread.new': 'New',
  'thread.unread': 'New replies: {count}',
  'thread.empty': 'No reply yet. The moderators will answer here.',
  'thread.replyLabel': 'Write to the moderators',
  'thread.send': 'Encrypt and send',
  'thread.sending': 'Encrypting and sending…',
  'thread.sent': 'Your message was encrypted and sent.',
  'thread.emptyText': 'Write your message first.',
  'thread.unsafe': 'These messages could not be shown safely: {reason}',
  'thread.keyMismatch': "The survivor's key does not match their testimony; nothing was sent.",
  'thread.unknownAuthor': 'A note is signed by someone who is not on the team.',
  'api.threadMoved': 'A new message arrived meanwhile: it is shown now. What you wrote is kept: read it, then send again.',
  // Publishing and statistics choices (share and return pages)
  'share.sharingLegend': 'Publishing and statistics (you can change these later)',
  'share.advocatesLabel':
    "Let this organisation's advocates read it, so that they can propose publishing it on the Stories page, without your name. Nothing is published unless you approve the exact words.",
  'share.countLabel': 'Count this in anonymous statistics',
  'share.countHint': 'Only what you choose below is disclosed. Nothing is, unless you choose it.',
  'share.discloseContext': 'Disclose where it happened',
  'share.yearLabel': 'Year it happened',
  'share.provinceLabel': 'Province or territory',
  'share.notDisclosed': 'Do not disclose',
  'province.punjab': 'Punjab',
  'province.sindh': 'Sindh',
  'province.khyber_pakhtunkhwa': 'Khyber Pakhtunkhwa',
  'province.balochistan': 'Balochistan',
  'province.islamabad': 'Islamabad Capital Territory',
  'province.gilgit_baltistan': 'Gilgit-Baltistan',
  'province.azad_kashmir': 'Azad Jammu and Kashmir',
  'province.elsewhere': 'Outside Pakistan',
  'sharing.heading': 'Publishing and statistics',
  'sharing.save': 'Save these choices',
  'sharing.saving': 'Saving…',
  'sharing.saved': 'Your choices were saved.',
  // Publication drafts, on the return page
  // A published story taken down by the organisation (issue 15)
  // Delete everything, on the return page
  'delete.heading': 'Delete everything',
  'delete.text':
    'This erases from this server your testimonies, the conversations, the drafts, your approvals, any published story, and the keys of your codename. It cannot be undone: nobody can bring any of it back. Copies of a published story that people already made are beyond its reach.',
  'delete.confirmLabel': 'I understand that this cannot be undone',
  'delete.button': 'Delete everything',
  'delete.needConfirm': 'Tick the box first to confirm.',
  'delete.deleting': 'Deleting…',
  'delete.done': 'Everything was deleted. Close this window now.',
  // The public pages: the wall of stories, one story, statistics
  'nav.stories': 'Stories',
  'nav.stats': 'Statistics',
  // Evidence files: chosen, cleaned and sent on the share and return pages (client/lib/evidence-picker.ts)
  'evidence.legend': 'Evidence (optional)',
  'evidence.hint':
    'Screenshots, photos, PDF documents or recordings. Photos and screenshots are redrawn on this device, which removes the details hidden in them, such as the place, the phone and the time. What can be seen in a picture (names, numbers, faces) is sent as it is, and a voice in a recording can be recognised. Everything is encrypted here before it is sent.',
  'evidence.add': 'Add evidence',
  'evidence.cleaning': 'Removing hidden details…',
  'evidence.remove': 'Remove {name}',
  'evidence.notPrepared': '{name} could not be prepared. Remove it and add it again.',
  'evidence.stillCleaning': 'Wait until every file is ready.',
  'evidence.serverTooBig': 'The server refused a file as too large. Remove it or choose a smaller one.',
  'evidence.attached': 'Evidence: {name}, {size}',
  // Attached files as a reader downloads them (survivor and staff pages, client/lib/attachments.ts)
  'attachment.kb': '{n} KB',
  'attachment.mb': '{n} MB',
  'attachment.truncated': 'The file is incomplete: its end is missing.',
  'attachment.altered': 'The file does not decrypt: it was altered, or parts of it were reordered or taken from another file.',
  'attachment.badManifest': 'The description of an attached file is not valid.',
  'attachment.missing': 'The file is not on the server.',
  // Wording review 2026-11: reassurance on the writing screen, "prefer not to say", dates in the reader's language (i18n/format.ts formatDate)
  'share.notYourFault': 'What happened is not your fault. Write only what you want; you can stop at any time.',
  'share.exitWarning': '**Quick exit** erases what you have written here and not yet sent.',
  'context.unsaid': 'Prefer not to say',
  'evidence.noProof': 'You do not need proof to be heard.',
  'date.months': 'January February March April May June July August September October November December',
  'date.at': '{date}, {time}',
  'safety.supportContacts': 'Support from this organisation: {contacts}',
  // Retention (issue 15): the period on /safety, the last kept day beside a closed case on /return
  'safety.retention': 'A closed case is erased {days} days after it was closed or after your last visit, whichever is later.',
  'return.keptUntil': 'Closed. Kept until {date}; each visit keeps it longer.',
  'kdf.working':
    'Working… In this safer mode (no WebAssembly) your keys take a little while, usually under half a minute. Please keep this page open.',
  // The matching escrow's offer on the return page; the form and its explanations load with client/matching.ts (i18n/matching.ts)
  'matching.heading': 'Has this person harmed others?',
  'matching.teaser': 'You may add their phone number, email or profile. It stays sealed unless another survivor names the same.',
  'matching.open': 'Add a phone, email or profile',
  // A session renewed by signing in again failed (client/lib/survivor.ts renewSessions)
  'api.sessionEnded': 'Your session ended and could not be renewed. What you wrote is kept on this page: try again in a moment.',
  // One thread message that opened but holds what no message should (client/return.ts)
  'thread.unreadable': 'This message could not be shown safely: {reason}',
  // Conflicts and lost answers, worded (client/lib/survivor-publishing.ts, client/share.ts, client/return.ts)
  'api.sharingChanged': 'Your choices were changed elsewhere meanwhile; nothing was saved here. They are shown as they are now.',
  'share.sentAsFirst':
    'Your testimony had already been sent, as first written: your changes were not. Add them as a message when you [come back](/return).',
  'api.threadMovedFiles':
    'A new message arrived meanwhile: it is shown now. What you wrote is kept, but not your files: read it, add them again, then send.',
} as const;

export type MessageKey = keyof typeof en;
/** Another language's messages: every English key, nothing else. */
export type Catalog = Record<MessageKey, string>;
