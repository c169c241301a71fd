/**
 * The matching escrow (DESIGN.md "Matching escrow"): identifiers of a perpetrator, normalized
 * in the survivor's browser so that two spellings of one number meet; the match tag derived
 * from the OPRF output (protocol/oprf.ts); and the sealed entry that only the matching
 * counselors (and the survivor who filed it) can open.
 *
 *   input    = utf8("awaaz/v1/match\n" + type + ":" + value)       (value normalized)
 *   output   = OPRF(serverKey, input)                                 (RFC 9497, ristretto255-SHA512)
 *   tag      = SHA-512("awaaz/v1/match-tag\n" || output)[0..32]       (base64url)
 *   entry    = { v, alg, ciphertext = nonce24 || secretbox(pad(json), nonce, K),
 *                keys: [{ kid, epk, wrapped = nonce24 || box(K, …) }] }
 *   json     = { v, kind: "match-entry", tag, keyVersion, identifier: { type, value }, caseId }
 *
 * The plaintext names its tag and key version, so a counselor's browser refuses an entry the
 * server moved to another tag; it re-normalizes the identifier, so a hand-made entry whose
 * identifier is not in normal form is refused too. Kept out of protocol/index.ts and
 * protocol/survivor.ts: only the matching code (a lazy script), the staff page and the server
 * import it.
 */
import type { BoxKeyPair } from 'tweetnacl';
import { concatBytes, fromBase64url, fromUtf8, isCanonicalBase64url, nacl, ProtocolError, sha512, toBase64url, utf8 } from './encoding';
import type { CryptoProvider } from './crypto-provider';
import { keyId, verifyEnvelopeAsync, verifyThread, type Envelope, type RandomBytes } from './envelope';
import { pad, unpad } from './padding';

export const IDENTIFIER_TYPES = ['phone', 'email', 'social'] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

export interface Identifier {
  type: IdentifierType;
  /** the normal form: +923001234567, name@example.com, instagram:some.name */
  value: string;
}

/** Why an identifier was refused; the browser words each for the survivor (i18n/matching.ts). */
export const IDENTIFIER_PROBLEMS = [
  'phone_characters',
  'phone_country',
  'phone_length',
  'email_shape',
  'social_network',
  'social_not_profile',
  'social_handle',
] as const;
export type IdentifierProblem = (typeof IDENTIFIER_PROBLEMS)[number];

export class IdentifierError extends ProtocolError {
  constructor(
    readonly problem: IdentifierProblem,
    message: string,
  ) {
    super('bad_identifier', message);
  }
}

/** The country code a number without one belongs to (Pakistan). */
export const DEFAULT_COUNTRY_CODE = '92';

/** Urdu (Extended Arabic-Indic), Arabic-Indic and full-width digits, as phones and keyboards type them. */
function asciiDigits(text: string): string {
  return text.replace(/[\u06f0-\u06f9\u0660-\u0669\uff10-\uff19]/g, (d) => {
    const c = d.charCodeAt(0);
    const zero = c >= 0xff10 ? 0xff10 : c >= 0x06f0 ? 0x06f0 : 0x0660;
    return String(c - zero);
  });
}

/**
 * Country codes after which a 0 is the national trunk prefix, never part of the number: their
 * national numbers never start with 0 in international form, yet people write "+44 07911…" or
 * "+971 050…" as they dial at home. E.164 codes are prefix-free, so at most one applies. Every
 * zero after the code goes, so normalizing twice changes nothing. Not Italy (39), where the
 * leading 0 of a landline (+39 06…) is part of the number, nor any country not listed: there a
 * 0 is kept, and two spellings of one number may not meet.
 */
export const TRUNK_ZERO_COUNTRY_CODES: readonly string[] = [
  '92', // Pakistan
  '44', // United Kingdom
  '971', // United Arab Emirates
  '966', // Saudi Arabia
  '91', // India
  '93', // Afghanistan
  '880', // Bangladesh
  '98', // Iran
  '90', // Turkey
  '60', // Malaysia
  '61', // Australia
  '64', // New Zealand
  '49', // Germany
  '33', // France
  '353', // Ireland
  '27', // South Africa
  '20', // Egypt
  '94', // Sri Lanka
  '977', // Nepal
  '86', // China
  '62', // Indonesia
  '63', // Philippines
  '81', // Japan
  '82', // South Korea
  '234', // Nigeria
  '254', // Kenya
];

/**
 * A phone number in E.164 (+ and 8 to 15 digits). A local number (0300-1234567, 3001234567)
 * belongs to the default country; 0092… and 92… (12 digits) are read as +92…; the trunk 0
 * written after a country code of TRUNK_ZERO_COUNTRY_CODES, "+92 (0)300…" or "+44 07911…", is
 * dropped.
 */
export function normalizePhone(raw: string, country = DEFAULT_COUNTRY_CODE): string {
  let s = asciiDigits(raw.normalize('NFKC')).trim().replace(/^tel:/i, '').replace(/\(0\)/g, '');
  s = s.replace(/[\s\-.()/\u2010-\u2015\u00a0\u202f]/g, '');
  if (!/^\+?\d+$/.test(s))
    throw new IdentifierError('phone_characters', 'a phone number has only digits, spaces, dashes, dots, brackets and a leading +');
  let digits: string;
  if (s.startsWith('+')) digits = s.slice(1);
  else if (s.startsWith('00')) digits = s.slice(2);
  else if (s.startsWith('0')) digits = country + s.slice(1);
  else if (country === '92' && /^3\d{9}$/.test(s)) digits = country + s;
  else if (s.startsWith(country) && s.length >= country.length + 9) digits = s;
  else throw new IdentifierError('phone_country', 'write the number as you would dial it (starting with 0), or with its country code (+…)');
  // "+971 050…" is written for "+971 50…": a trunk 0 after the country code goes where it is never part of the number.
  const code = TRUNK_ZERO_COUNTRY_CODES.find((c) => digits.startsWith(c + '0'));
  if (code) digits = code + digits.slice(code.length).replace(/^0+/, '');
  if (!/^[1-9]\d{7,14}$/.test(digits)) throw new IdentifierError('phone_length', 'a phone number has 8 to 15 digits with its country code');
  // Pakistan: 9 or 10 digits after +92 (mobiles 3xx xxxxxxx, landlines with their area code).
  if (digits.startsWith('92') && !/^92\d{9,10}$/.test(digits))
    throw new IdentifierError('phone_length', 'a Pakistani number has 10 digits after +92 (11 with the leading 0)');
  return '+' + digits;
}

/** Providers that ignore dots and "+tags" in the name before @: the same mailbox, however written. */
const DOTLESS_PLUS_PROVIDERS: Record<string, string> = { 'gmail.com': 'gmail.com', 'googlemail.com': 'gmail.com' };

/** An email address, lower-cased; Gmail's dots and +tags removed (one mailbox). */
export function normalizeEmail(raw: string): string {
  let s = raw
    .normalize('NFKC')
    .trim()
    .replace(/^mailto:/i, '')
    .toLowerCase();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
  const parts = s.split('@');
  if (parts.length !== 2) throw new IdentifierError('email_shape', 'an email address has one @ between a name and a domain');
  let [local, domain] = parts;
  domain = domain.replace(/\.$/, '');
  if (!/^[^\s@<>(),;:"[\]\\]{1,64}$/.test(local) || !/^(?=.{3,253}$)([a-z0-9-]+\.)+[a-z]{2,}$/.test(domain))
    throw new IdentifierError('email_shape', 'an email address looks like name@example.com');
  const provider = DOTLESS_PLUS_PROVIDERS[domain];
  if (provider) {
    local = local.split('+')[0].replace(/\./g, '');
    domain = provider;
    if (!local) throw new IdentifierError('email_shape', 'an email address looks like name@example.com');
  }
  return `${local}@${domain}`;
}

export const SOCIAL_NETWORKS = ['facebook', 'instagram', 'x', 'tiktok', 'linkedin', 'snapchat', 'youtube', 'telegram', 'threads'] as const;
export type SocialNetwork = (typeof SOCIAL_NETWORKS)[number];

const NETWORK_HOSTS: Record<string, SocialNetwork> = {
  'facebook.com': 'facebook',
  'fb.com': 'facebook',
  'instagram.com': 'instagram',
  'instagr.am': 'instagram',
  'twitter.com': 'x',
  'x.com': 'x',
  'tiktok.com': 'tiktok',
  'linkedin.com': 'linkedin',
  'snapchat.com': 'snapchat',
  'youtube.com': 'youtube',
  't.me': 'telegram',
  'telegram.me': 'telegram',
  'threads.net': 'threads',
  'threads.com': 'threads',
};

/**
 * First path parts that are pages of a network, never someone's profile: posts, share links,
 * messages, settings, searches, sign-in. An address whose first part is one of these is refused
 * rather than read as a handle (else every TikTok share link, t.me/s/… or x.com/notifications
 * would become one "handle", and strangers would match). One list for every network: a handle
 * drawn for a test that avoids it is a profile everywhere.
 */
export const NOT_PROFILES: ReadonlySet<string> = new Set([
  // shared by several networks
  ...['p', 'reel', 'reels', 'stories', 'story', 'share', 'sharer', 'sharer.php', 'watch', 'status', 'hashtag', 'explore', 'search'],
  ...['home', 'home.php', 'login', 'login.php', 'logout', 'signup', 'intent', 'i', 'groups', 'events', 'photo', 'photos', 'photo.php'],
  ...['story.php', 'video', 'videos', 'video.php', 'shorts', 'tv', 'messages', 'notifications', 'settings', 'privacy', 'help', 'legal'],
  ...['about', 'media', 'live', 'ads', 'business', 'policies', 'l.php', 'dialog', 'plugins', 'r.php', 'profile', 'profile.php', 'people'],
  // facebook
  ...['permalink.php', 'pages', 'marketplace', 'gaming', 'friends', 'bookmarks', 'saved', 'memories', 'fundraisers', 'posts', 'notes'],
  ...['composer', 'checkpoint', 'recover', 'reg', 'comment', 'commerce', 'games', 'messenger', 'watchparty'],
  // instagram
  ...['direct', 'accounts', 'developer', 'web', 'challenge', 'emails', 'sessions', '_u', '_n', 'ar', 's', 'oauth'],
  // x
  ...['compose', 'account', 'download', 'jobs', 'tos', 'lists'],
  // tiktok (profiles are /@name, so these only document what is refused)
  ...['t', 'v', 'tag', 'discover', 'music', 'foryou', 'following', 'upload', 'embed'],
  // telegram
  ...['joinchat', 'c', 'addstickers', 'addemoji', 'addtheme', 'addlist', 'proxy', 'socks', 'iv', 'setlanguage', 'bg', 'confirmphone'],
  ...['contact', 'boost', 'invoice', 'giftcode', 'm'],
]);

/** Why an address was refused as a profile: the survivor is told what to paste instead. */
const NOT_A_PROFILE =
  "this address is not a profile (a share link, a post, a message or a page of the network); paste the profile's address or its handle instead";

/**
 * YouTube keeps several names per channel: the @handle every channel page shows since 2022, and
 * the older custom /c/name and /user/name, chosen apart from it, which may belong to another
 * channel than the @handle of the same spelling. Each form keeps its prefix (youtube:@john,
 * youtube:c/john, youtube:user/john, youtube:channel/<id>): two survivors who paste the same
 * kind of link meet, and a channel is never joined to a stranger's of the same spelling. A bare
 * name is read as an @handle, the name a survivor sees on the channel's page.
 */
function youtubeHandle(text: string): string {
  const m = text.match(/^(c\/|user\/|channel\/|@)?([a-z0-9._-]{1,100})$/);
  if (!m || /^[._-]+$/.test(m[2]))
    throw new IdentifierError('social_handle', 'a profile name has letters, digits, dots, underscores or dashes');
  return (m[1] ?? '@') + m[2];
}

/** A profile's handle: letters, digits, dot, underscore, dash (lower-cased, no @; YouTube's keep their form). */
function handleOf(text: string, network: SocialNetwork): string {
  if (network === 'youtube') return youtubeHandle(text.trim().toLowerCase());
  let h = text.trim().replace(/^@/, '').toLowerCase();
  // Facebook ignores dots in a username: john.smith and johnsmith are one profile.
  if (network === 'facebook' && !h.startsWith('id:')) h = h.replace(/\./g, '');
  if (!/^(id:\d{5,20}|[a-z0-9._-]{1,100})$/.test(h) || /^[._-]+$/.test(h))
    throw new IdentifierError('social_handle', 'a profile name has letters, digits, dots, underscores or dashes');
  return h;
}

/** A numeric Facebook profile id (profile.php?id=N, /profile/N, /people/name/N), or nothing. */
const facebookId = (n: string | null | undefined): string | undefined => (n && /^\d{5,20}$/.test(n) ? `id:${n}` : undefined);

/**
 * The handle an address names on its network, or nothing when it names no profile. TikTok and
 * Threads profiles are always /@name, so anything else (a /t/ or vm.tiktok.com share link, a
 * video without its author) names none; LinkedIn's are /in/name, Snapchat's /add/name or /@name.
 * A post under its author (x.com/name/status/…, tiktok.com/@name/video/…) names its author.
 */
function profileHandle(network: SocialNetwork, path: string[], url: URL): string | undefined {
  const [first = '', second] = path;
  const profile = (name: string | undefined) => (name && !NOT_PROFILES.has(name) ? name : undefined);
  switch (network) {
    case 'facebook':
      if (first === 'profile.php') return facebookId(url.searchParams.get('id'));
      if (first === 'profile') return facebookId(second);
      if (first === 'people') return facebookId(path[2]);
      return profile(first);
    case 'linkedin':
      return first === 'in' ? second : undefined;
    case 'snapchat':
      return first === 'add' ? second : first.startsWith('@') ? first : undefined;
    case 'tiktok':
    case 'threads':
      return first.startsWith('@') ? first : undefined;
    case 'youtube':
      if (first.startsWith('@')) return first;
      return (first === 'c' || first === 'user' || first === 'channel') && second ? `${first}/${second}` : undefined;
    case 'telegram':
      // t.me/s/name is the web preview of the channel @name; t.me/+code is an invitation.
      if (first === 's') return profile(second);
      return first.startsWith('+') ? undefined : profile(first);
    default:
      return profile(first);
  }
}

/**
 * A social-media profile as `network:handle`: from a profile address of a common network
 * (any of its hosts, with or without www., m., mobile.; tracking parameters and fragments
 * dropped), or from a handle with the network named. An address that names no profile (a share
 * link, a post without its author, a message, a setting) is refused, never read as a handle.
 */
export function normalizeSocial(raw: string, network?: SocialNetwork): string {
  if (network !== undefined && !SOCIAL_NETWORKS.includes(network))
    throw new IdentifierError('social_network', 'this is not a network Awaaz knows');
  const s = raw.normalize('NFKC').trim();
  const looksLikeAddress = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^(www\.|m\.|mobile\.)?[a-z0-9.-]+\.[a-z]{2,}\//i.test(s);
  if (!looksLikeAddress) {
    if (!network) throw new IdentifierError('social_network', 'choose the network, or paste the address of the profile');
    const prefixed = s.match(/^([a-z]+):(.+)$/);
    if (prefixed && prefixed[1] === network) return `${network}:${handleOf(prefixed[2], network)}`;
    return `${network}:${handleOf(s, network)}`;
  }
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`);
  } catch {
    throw new IdentifierError('social_network', 'this is not a profile address of a network Awaaz knows');
  }
  const host = url.hostname.toLowerCase().replace(/^(www|m|mobile|web|mbasic|touch|[a-z]{2}(-[a-z]{2})?)\./, '');
  const found = NETWORK_HOSTS[host] ?? NETWORK_HOSTS[url.hostname.toLowerCase().replace(/^www\./, '')];
  if (!found || (network && network !== found))
    throw new IdentifierError('social_network', 'this is not a profile address of a network Awaaz knows');
  let path: string[];
  try {
    path = url.pathname
      .split('/')
      .filter(Boolean)
      .map((p) => decodeURIComponent(p).toLowerCase());
  } catch {
    throw new IdentifierError(
      'social_not_profile',
      "this address has a broken %-escape; paste the profile's address or its handle instead",
    );
  }
  const handle = profileHandle(found, path, url);
  if (!handle) throw new IdentifierError('social_not_profile', NOT_A_PROFILE);
  return `${found}:${handleOf(handle, found)}`;
}

/** The normal form of an identifier of this type (throws IdentifierError naming the problem). */
export function normalizeIdentifier(type: IdentifierType, raw: string, network?: SocialNetwork): Identifier {
  if (type === 'phone') return { type, value: normalizePhone(raw) };
  if (type === 'email') return { type, value: normalizeEmail(raw) };
  if (type === 'social') return { type, value: normalizeSocial(raw, network) };
  throw new IdentifierError('social_network', 'an identifier is a phone number, an email address or a social-media profile');
}

/** What is blinded for the OPRF: the identifier's normal form, domain-separated. */
export function oprfInput(identifier: Identifier): Uint8Array {
  return utf8(`awaaz/v1/match\n${identifier.type}:${identifier.value}`);
}

/** The match tag of an OPRF output: two survivors naming one identifier under one key hold the same tag. */
export function matchTag(oprfOutput: Uint8Array): string {
  if (oprfOutput.length !== 64) throw new ProtocolError('bad_oprf_output', 'an OPRF output of ristretto255-SHA512 is 64 bytes');
  return toBase64url(sha512(concatBytes(utf8('awaaz/v1/match-tag\n'), oprfOutput)).slice(0, 32));
}

/** A tag is 32 bytes in base64url. */
export function isMatchTag(tag: string): boolean {
  return tag.length === 43 && isCanonicalBase64url(tag);
}

export const MATCH_ENTRY_VERSION = 1;
export const MATCH_ENTRY_ALG = 'x25519-xsalsa20poly1305-padme';

export interface MatchEntryKey {
  kid: string;
  epk: string;
  wrapped: string;
}

/** What the server stores: opaque to it. */
export interface SealedMatchEntry {
  v: typeof MATCH_ENTRY_VERSION;
  alg: typeof MATCH_ENTRY_ALG;
  ciphertext: string;
  keys: MatchEntryKey[];
}

export interface MatchEntryBody {
  v: typeof MATCH_ENTRY_VERSION;
  kind: 'match-entry';
  tag: string;
  keyVersion: number;
  identifier: Identifier;
  /** the survivor's case this identifier belongs to */
  caseId: string;
}

export interface SealMatchEntryInput {
  identifier: Identifier;
  caseId: string;
  tag: string;
  keyVersion: number;
  /** box public keys: the matching counselors, and the survivor herself (to re-derive after a key rotation) */
  recipients: Uint8Array[];
  random?: RandomBytes;
}

export function sealMatchEntry(input: SealMatchEntryInput): SealedMatchEntry {
  const random = input.random ?? ((n: number) => nacl.randomBytes(n));
  if (input.recipients.length === 0) throw new ProtocolError('no_recipients', 'an entry needs at least one reader');
  const kids = input.recipients.map(keyId);
  if (new Set(kids).size !== kids.length) throw new ProtocolError('duplicate_recipient', 'a recipient is listed twice');
  const body: MatchEntryBody = {
    v: MATCH_ENTRY_VERSION,
    kind: 'match-entry',
    tag: input.tag,
    keyVersion: input.keyVersion,
    identifier: { type: input.identifier.type, value: input.identifier.value },
    caseId: input.caseId,
  };
  const contentKey = random(nacl.secretbox.keyLength);
  const nonce = random(nacl.secretbox.nonceLength);
  const ciphertext = concatBytes(nonce, nacl.secretbox(pad(utf8(JSON.stringify(body))), nonce, contentKey));
  const ephemeral = nacl.box.keyPair.fromSecretKey(random(nacl.box.secretKeyLength));
  const epk = toBase64url(ephemeral.publicKey);
  const keys = input.recipients.map((pk, i) => {
    const wrapNonce = random(nacl.box.nonceLength);
    return { kid: kids[i], epk, wrapped: toBase64url(concatBytes(wrapNonce, nacl.box(contentKey, wrapNonce, pk, ephemeral.secretKey))) };
  });
  ephemeral.secretKey.fill(0);
  contentKey.fill(0);
  return { v: MATCH_ENTRY_VERSION, alg: MATCH_ENTRY_ALG, ciphertext: toBase64url(ciphertext), keys };
}

const CASE_ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * Opens an entry with this reader's box key and checks it: its format, that it decrypts, that
 * its plaintext names the tag and key version it is stored under, that its identifier is in
 * normal form and its case reference well formed. Throws ProtocolError otherwise.
 *
 * `olderForm`, for the survivor's own entries only: an identifier written in a normal form of
 * an earlier version (e.g. `youtube:name` before YouTube handles kept their `@`) opens too, in
 * today's form, marked `olderForm`, so that her page can show it, let her withdraw it, and
 * derive it again. A counselor's check never accepts one: its tag was derived from the older
 * spelling.
 */
export function openMatchEntry(
  sealed: SealedMatchEntry,
  box: BoxKeyPair,
  expected: { tag: string; keyVersion: number },
  opts: { olderForm?: boolean } = {},
): MatchEntryBody & { olderForm?: true } {
  if (typeof sealed !== 'object' || sealed === null || sealed.v !== MATCH_ENTRY_VERSION || sealed.alg !== MATCH_ENTRY_ALG)
    throw new ProtocolError('unsupported_version', 'this entry is not a version 1 matching entry');
  if (!Array.isArray(sealed.keys) || typeof sealed.ciphertext !== 'string') throw new ProtocolError('bad_entry', 'the entry is malformed');
  const kid = keyId(box.publicKey);
  const entry = sealed.keys.find((k) => k && k.kid === kid);
  if (!entry) throw new ProtocolError('not_a_recipient', 'this entry is not addressed to this key');
  let contentKey: Uint8Array | null;
  let padded: Uint8Array | null;
  try {
    const wrapped = fromBase64url(entry.wrapped);
    contentKey = nacl.box.open(wrapped.subarray(24), wrapped.subarray(0, 24), fromBase64url(entry.epk), box.secretKey);
    if (!contentKey || contentKey.length !== nacl.secretbox.keyLength)
      throw new ProtocolError('decrypt_failed', 'the wrapped key does not open');
    const ciphertext = fromBase64url(sealed.ciphertext);
    padded = nacl.secretbox.open(ciphertext.subarray(24), ciphertext.subarray(0, 24), contentKey);
    contentKey.fill(0);
  } catch (e) {
    if (e instanceof ProtocolError && e.code === 'decrypt_failed') throw e;
    throw new ProtocolError('decrypt_failed', 'the entry does not decrypt: it was altered or is malformed');
  }
  if (!padded) throw new ProtocolError('decrypt_failed', 'the entry does not decrypt: it was altered');
  let body: MatchEntryBody;
  try {
    body = JSON.parse(fromUtf8(unpad(padded))) as MatchEntryBody;
  } catch {
    throw new ProtocolError('bad_plaintext', 'the decrypted entry is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || body.v !== MATCH_ENTRY_VERSION || body.kind !== 'match-entry')
    throw new ProtocolError('bad_plaintext', 'the decrypted entry is not a matching entry');
  if (body.tag !== expected.tag || body.keyVersion !== expected.keyVersion)
    throw new ProtocolError('wrong_context', 'the entry names another tag or key version than the one it is stored under');
  if (typeof body.caseId !== 'string' || !CASE_ID.test(body.caseId)) throw new ProtocolError('bad_plaintext', 'the entry names no case');
  const id = body.identifier;
  if (typeof id !== 'object' || id === null || !IDENTIFIER_TYPES.includes(id.type) || typeof id.value !== 'string')
    throw new ProtocolError('bad_plaintext', 'the entry holds no identifier');
  let again: string;
  try {
    again = normalizeIdentifier(id.type, id.value, id.type === 'social' ? (id.value.split(':')[0] as SocialNetwork) : undefined).value;
  } catch {
    throw new ProtocolError('bad_plaintext', 'the entry holds an identifier that is not valid');
  }
  if (again !== id.value && !opts.olderForm)
    throw new ProtocolError('bad_plaintext', 'the entry holds an identifier that is not in normal form');
  return {
    v: body.v,
    kind: body.kind,
    tag: body.tag,
    keyVersion: body.keyVersion,
    identifier: { type: id.type, value: again },
    caseId: body.caseId,
    ...(again !== id.value ? { olderForm: true as const } : {}),
  };
}

/** Two opened entries name the same person only if their identifiers are equal in normal form. */
export function sameIdentifier(a: MatchEntryBody, b: MatchEntryBody): boolean {
  return a.identifier.type === b.identifier.type && a.identifier.value === b.identifier.value;
}

export interface MatchCheck {
  /** the entries that opened and name the matched identifier, in the order given */
  confirmed: { index: number; body: MatchEntryBody }[];
  /** the entries refused, with why: forged, malformed, or naming another identifier */
  refused: { index: number; reason: string }[];
  /**
   * the entries not sealed to this reader: sealed before this counselor held the role, they
   * open once their survivor's browser seals them again on her next visit (neither confirmed
   * nor refused)
   */
  notForMe: number[];
  /** entries that opened, when no match is confirmed but some entries are not sealed to this reader: undecided until those open */
  undecided: number[];
  /** true when entries of at least two distinct survivors name one identifier */
  isMatch: boolean;
  /** how many distinct survivors name the confirmed identifier (0 when no match) */
  survivors: number;
  /**
   * true when two handles list entries naming the same case: the server replaying one
   * survivor's entry under another handle, or one person with two accounts naming her own case
   * twice. Such entries count as one survivor: they make no match, and hide none.
   */
  forged: boolean;
}

/**
 * What a matching counselor's browser concludes from a match the server reports: it opens
 * every entry stored under the tag and confirms the identifier that the most survivors' entries
 * name, if at least two distinct survivors (by handle) name it. The server only says that tags
 * are equal; this checks that identifiers are (a survivor who sealed another identifier under a
 * tag she obtained would otherwise fake a match, and is refused here). A case belongs to one
 * survivor, so entries naming one case count as one survivor whatever handles list them: a
 * server replaying one survivor's entry under a second handle makes no match, and neither does
 * one person who names her own case from two accounts. Refusing the whole reported match
 * instead would let that person hide every genuine match on the identifier.
 */
export function checkMatch(
  tag: string,
  keyVersion: number,
  entries: { handle: string; sealed: SealedMatchEntry }[],
  box: BoxKeyPair,
): MatchCheck {
  const opened: { index: number; handle: string; body: MatchEntryBody }[] = [];
  const refused: MatchCheck['refused'] = [];
  const notForMe: number[] = [];
  entries.forEach((entry, index) => {
    try {
      opened.push({ index, handle: entry.handle, body: openMatchEntry(entry.sealed, box, { tag, keyVersion }) });
    } catch (e) {
      if (e instanceof ProtocolError && e.code === 'not_a_recipient') notForMe.push(index);
      else refused.push({ index, reason: e instanceof Error ? e.message : String(e) });
    }
  });
  // One survivor per group of entries linked by a handle or by a case they both name.
  const group = opened.map((_, k) => k);
  const root = (k: number): number => (group[k] === k ? k : (group[k] = root(group[k])));
  for (let a = 0; a < opened.length; a++)
    for (let b = a + 1; b < opened.length; b++)
      if (opened[a].handle === opened[b].handle || opened[a].body.caseId === opened[b].body.caseId) group[root(b)] = root(a);
  const handlesOf = new Map<number, Set<string>>();
  opened.forEach((o, k) => handlesOf.set(root(k), (handlesOf.get(root(k)) ?? new Set()).add(o.handle)));
  const forged = [...handlesOf.values()].some((handles) => handles.size > 1);
  const survivorsNaming = new Map<string, Set<number>>();
  opened.forEach((o, k) => {
    const key = `${o.body.identifier.type}:${o.body.identifier.value}`;
    survivorsNaming.set(key, (survivorsNaming.get(key) ?? new Set()).add(root(k)));
  });
  const [best] = [...survivorsNaming.entries()].sort((a, b) => b[1].size - a[1].size);
  const isMatch = best !== undefined && best[1].size >= 2;
  const confirmed: MatchCheck['confirmed'] = [];
  const undecided: number[] = [];
  opened.forEach((o, k) => {
    const handles = handlesOf.get(root(k))!;
    if (isMatch && `${o.body.identifier.type}:${o.body.identifier.value}` === best[0]) confirmed.push({ index: o.index, body: o.body });
    else if (!isMatch && notForMe.length > 0) undecided.push(o.index);
    else
      refused.push({
        index: o.index,
        reason:
          handles.size > 1
            ? `one survivor: it names the same case as the entry of ${[...handles].filter((h) => h !== o.handle).join(', ')}, so they count once (the server listed one entry twice, or one person used two accounts)`
            : isMatch
              ? 'it names another identifier than the matching entries (forged)'
              : 'no entry of another survivor names the same identifier',
      });
  });
  refused.sort((a, b) => a.index - b.index);
  return { confirmed, refused, notForMe, undecided, isMatch, survivors: isMatch ? best[1].size : 0, forged };
}

/**
 * The survivor signing key of a matched case, as the case itself proves it: the server sent
 * the case the entry names, as the case of the handle that listed the entry, its thread starts
 * with this case's testimony, and that testimony is signed by the key the server gives as its
 * survivor's (`survivorSignPk`). The server cannot give one survivor's case another key: the
 * testimony would not verify. Throws ProtocolError otherwise. Needs no decryption, so it works
 * for a moderator not yet granted the case.
 */
export async function caseSurvivorKey(
  named: { caseId: string; handle: string },
  detail: { caseId: string; handle: string; survivorSignPk: string; thread: readonly { envelope: Envelope }[] },
  provider?: CryptoProvider,
): Promise<string> {
  const { caseId, handle } = named;
  if (detail.caseId !== caseId) throw new ProtocolError('wrong_context', 'the server sent another case than the one the entry names');
  if (detail.handle !== handle)
    throw new ProtocolError('wrong_context', `this case belongs to ${detail.handle}, not to ${handle} who named it`);
  const testimony = detail.thread[0]?.envelope;
  verifyThread(
    detail.thread.slice(0, 1).map((i) => i.envelope),
    caseId,
  );
  const key = isCanonicalBase64url(detail.survivorSignPk) ? fromBase64url(detail.survivorSignPk) : new Uint8Array(0);
  if (key.length !== nacl.sign.publicKeyLength) throw new ProtocolError('bad_key', "the case's survivor key is malformed");
  await verifyEnvelopeAsync(testimony, [key], provider);
  return detail.survivorSignPk;
}

export interface SurvivorKeyCheck {
  /**
   * - `confirmed`: the cases of entries naming the identifier carry at least two distinct
   *   survivor keys: two survivors, whatever the server says about handles;
   * - `unchecked`: fewer than two so far, and the key of some entry's case is not known (not
   *   read yet, or it could not be checked): not confirmed yet;
   * - `one-survivor`: every case is checked and one survivor key signed them all;
   * - `no-match`: checkMatch confirmed no identifier.
   */
  state: 'confirmed' | 'unchecked' | 'one-survivor' | 'no-match';
  /** distinct survivor keys among the checked cases of the confirmed entries */
  survivors: number;
  /** the confirmed entries (indices) whose case's key is not known, in the order given */
  unchecked: number[];
  /** handles that list different cases signed by one survivor key: one survivor, shown as several */
  sameKey: string[][];
}

/**
 * Counts the survivors of a match that checkMatch confirmed by the signing keys of their cases.
 * An entry carries nothing authenticated about who filed it, so a hostile server (which cannot
 * read entries or forge a testimony's signature) could still list two cases of ONE survivor,
 * each with its own genuine entry, under two handles. Each case's testimony is signed by its
 * survivor's key (`caseSurvivorKey`), one survivor's cases share it, and one account has one
 * key, so the survivors are the distinct keys of the cases, whatever handles list them. A
 * match is confirmed only by two distinct keys: until then, an entry whose case was not
 * checked leaves it unconfirmed, never confirmed on the handles' word. Knowing more keys never
 * takes a confirmation back. `caseKeys` maps a case id to the key its testimony verified
 * against.
 */
export function checkSurvivorKeys(
  check: MatchCheck,
  entries: readonly { handle: string }[],
  caseKeys: ReadonlyMap<string, string>,
): SurvivorKeyCheck {
  if (!check.isMatch) return { state: 'no-match', survivors: 0, unchecked: [], sameKey: [] };
  const byKey = new Map<string, { handles: Set<string>; cases: Set<string> }>();
  const unchecked: number[] = [];
  for (const { index, body } of check.confirmed) {
    const key = caseKeys.get(body.caseId);
    if (key === undefined) {
      unchecked.push(index);
      continue;
    }
    const seen = byKey.get(key) ?? { handles: new Set(), cases: new Set() };
    seen.handles.add(entries[index].handle);
    seen.cases.add(body.caseId);
    byKey.set(key, seen);
  }
  const sameKey = [...byKey.values()].filter((s) => s.handles.size > 1 && s.cases.size > 1).map((s) => [...s.handles].sort());
  const survivors = byKey.size;
  const state = survivors >= 2 ? 'confirmed' : unchecked.length > 0 ? 'unchecked' : 'one-survivor';
  return { state, survivors, unchecked, sameKey };
}
