/**
 * The HTTP API's request and response shapes, as zod schemas: the one source of truth that
 * the server validates with and the client types itself from (`import type`, so zod is never
 * bundled into the pages). docs/api.md describes the same routes for people.
 */
import { z } from 'zod';
import { recordCount } from './attachment';
import { BASE64URL_PATTERN, isCanonicalBase64url } from './encoding';
import {
  ENVELOPE_ALG,
  ENVELOPE_KINDS,
  ENVELOPE_VERSION,
  type AnyKeyGrant,
  type Envelope,
  type EnvelopeKind,
  type RecipientKey,
} from './envelope';
import { MAX_GRANT_BATCH } from './grant-tree';
import type { AuditRecord } from './audit';
import type { Argon2Params } from './kdf';
import { STAFF_ROLES } from './keyset';
import { MATCH_ENTRY_ALG, MATCH_ENTRY_VERSION, type SealedMatchEntry } from './matching';
import { CONSENT_VERSION } from './consent';
import { storyControlCharacter } from './story-text';
import {
  CONTEXT_VALUES,
  DELETE_EVERYTHING_CONFIRMATION,
  DRAFT_STATUS_VALUES,
  FIRST_STATISTICS_YEAR,
  PROVINCE_VALUES,
  STATUS_VALUES,
  type DraftStatus,
} from './values';

/** Every base64url field is canonical (no stray trailing bits), so one value has exactly one spelling. */
const NOT_CANONICAL = 'is not canonical base64url (non-zero trailing bits)';

/** base64url of exactly `bytes` bytes (unpadded length is fixed by the byte count) */
/**
 * The largest value of the database's integer columns (PostgreSQL's `integer` is 32-bit):
 * ids, versions and counts a request names stay within it, so a larger one is refused as bad
 * input, naming the field, instead of failing in the database.
 */
export const DB_INT_MAX = 2_147_483_647;
/**
 * A whole number from min to max. The bounds are checked before .int(): zod 4 names the first
 * failed check, and .int() first would answer 1e308 with the safe-integer bound instead of max.
 */
const wholeNumber = (min: number, max: number, minMessage?: string) => z.number().min(min, minMessage).max(max).int();
/** A whole number that the database's integer columns hold: an id, a version, a count. */
const dbInteger = (min: number) => wholeNumber(min, DB_INT_MAX);

export const b64Bytes = (bytes: number) =>
  z
    .string()
    .regex(BASE64URL_PATTERN, 'must be base64url without padding')
    .length(Math.ceil((bytes * 4) / 3), `must be ${bytes} bytes in base64url`)
    .refine(isCanonicalBase64url, NOT_CANONICAL);
/** base64url of at most `maxBytes` bytes */
export const b64Max = (maxBytes: number) =>
  z
    .string()
    .regex(BASE64URL_PATTERN, 'must be base64url without padding')
    .min(2, 'must not be empty')
    .max(Math.ceil((maxBytes * 4) / 3), `must be at most ${maxBytes} bytes`)
    .refine((s) => s.length % 4 !== 1, 'is not a valid base64url length')
    .refine(isCanonicalBase64url, NOT_CANONICAL);

/** 16 random bytes (case, staff, draft and upload ids), in their one base64url spelling */
export const Id = z
  .string()
  .regex(/^[A-Za-z0-9_-]{22}$/, 'must be a 16-byte id in base64url')
  .refine(isCanonicalBase64url, NOT_CANONICAL);
/** The longest inbox cursor the server accepts (it makes far shorter ones). */
export const INBOX_CURSOR_MAX_LENGTH = 512;
export const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC day YYYY-MM-DD');
export const Username = z
  .string()
  .min(3, 'must be at least 3 characters')
  .max(32, 'must be at most 32 characters')
  .regex(/^[a-z0-9._-]+$/, 'may use only a-z, 0-9, dot, dash and underscore');
export const Role = z.enum(STAFF_ROLES);
export const CaseStatus = z.enum(STATUS_VALUES);
export type CaseStatus = z.infer<typeof CaseStatus>;

/** the largest testimony ciphertext accepted: about 64 KiB of text, padded */
export const MAX_CIPHERTEXT_BYTES = 96 * 1024;
export const MAX_RECIPIENTS = 64;

export const RecipientKeySchema = z.strictObject({
  kid: b64Bytes(16),
  epk: b64Bytes(32),
  wrapped: b64Bytes(24 + 32 + 16),
});

export const EnvelopeSchema = z.strictObject({
  v: z.literal(ENVELOPE_VERSION),
  alg: z.literal(ENVELOPE_ALG),
  kind: z.enum(ENVELOPE_KINDS),
  caseId: Id,
  prev: b64Bytes(64).optional(),
  ciphertext: b64Max(MAX_CIPHERTEXT_BYTES),
  keys: z.array(RecipientKeySchema).min(1).max(MAX_RECIPIENTS),
  signer: b64Bytes(32),
  sig: b64Bytes(64),
});

export const KeyGrantSchema = z.strictObject({
  v: z.literal(ENVELOPE_VERSION),
  envelopeHash: b64Bytes(64),
  kid: b64Bytes(16),
  epk: b64Bytes(32),
  wrapped: b64Bytes(24 + 32 + 16),
  granter: b64Bytes(32),
  sig: b64Bytes(64),
});

export const KdfSchema = z.strictObject({
  params: z.strictObject({
    alg: z.literal('argon2id'),
    m: wholeNumber(19 * 1024, 1024 * 1024),
    t: wholeNumber(2, 20),
    p: wholeNumber(1, 8),
  }),
  salt: b64Bytes(16),
});

export const KeysetMemberSchema = z.strictObject({
  staffId: Id,
  username: Username,
  roles: z.array(Role).min(1).max(STAFF_ROLES.length),
  boxPk: b64Bytes(32),
  signPk: b64Bytes(32),
});

export const SignedKeysetSchema = z.strictObject({
  keyset: z.strictObject({
    v: z.literal(1),
    instanceId: Id,
    version: dbInteger(1),
    prev: b64Bytes(64).nullable(),
    issuedDay: Day,
    members: z.array(KeysetMemberSchema).min(1).max(MAX_RECIPIENTS),
  }),
  instancePk: b64Bytes(32),
  sig: b64Bytes(64),
});

export const PowSolutionSchema = z.strictObject({
  challenge: b64Bytes(32),
  nonce: wholeNumber(0, Number.MAX_SAFE_INTEGER),
});

/** a 6-digit code from an authenticator app (RFC 6238 TOTP) */
export const TotpCode = z.string().regex(/^\d{6}$/, 'must be the 6 digits shown by the authenticator app');
/** a "sign-in started" ticket from POST /api/staff/login/params: 8 bytes of start time and a 32-byte HMAC */
export const SIGN_IN_TICKET_BYTES = 8 + 32;
export const SignInTicket = b64Bytes(SIGN_IN_TICKET_BYTES);
/** a recovery code as shown once: 20 base32 characters, in any case, dashes and spaces ignored */
export const RecoveryCode = z
  .string()
  .max(40, 'is too long for a recovery code')
  .regex(/^[A-Za-z2-7 -]+$/, 'may use only letters, digits 2-7, dashes and spaces')
  .refine((s) => s.replace(/[\s-]/g, '').length === 20, 'must be the 20 letters and digits of a recovery code');

/** Retention (issue 15): how many days closed cases and survivor accounts with no case are kept (POST /api/staff/settings/retention). */
export const RETENTION_BOUNDS = {
  closedCaseDays: { min: 7, max: 3650 },
  idleAccountDays: { min: 7, max: 3650 },
} as const;
export interface RetentionPeriods {
  /** a closed case is erased this many days after the later of its closing and its survivor's last visit */
  closedCaseDays: number;
  /** a survivor account with no case is erased this many days after the survivor's last visit */
  idleAccountDays: number;
}
/** Staff alerts (issue 15): each kind is off, sent as it happens (coalesced), or in a daily digest. */
export const ALERT_MODES = ['off', 'immediate', 'digest'] as const;
export type AlertMode = (typeof ALERT_MODES)[number];
export const ALERT_KINDS = ['newCase', 'answer'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
/** GET /api/staff/me/alerts: `available` is false when no SMTP server is configured (then nothing is sent) */
export interface StaffAlertSettings {
  available: boolean;
  email: string | null;
  newCase: AlertMode;
  answer: AlertMode;
  /** the UTC hour at which daily digests go out */
  digestHourUtc: number;
  /** the least time between two immediate alerts of one kind, in minutes */
  pauseMinutes: number;
  /** the OpenPGP key alerts are encrypted to, or null: alerts go as plain mail */
  pgpKey: AlertKeyInfo | null;
}
/** The most characters of an ASCII-armored key POST /api/staff/me/alerts/key takes. */
export const ALERT_KEY_MAX_CHARS = 64 * 1024;
/** Why a stored alert key no longer encrypts (alerts to the member are then held, never sent in the clear). */
export const ALERT_KEY_PROBLEMS = ['expired', 'revoked', 'cannot_encrypt'] as const;
export type AlertKeyProblem = (typeof ALERT_KEY_PROBLEMS)[number];
/** What the member is shown of the key they pasted, to check it is theirs. */
export interface AlertKeyInfo {
  /** the key's fingerprint, upper-case hex (40 digits for a v4 key, 64 for v6) */
  fingerprint: string;
  /** the key's user IDs as it states them (at most 5, each at most 200 characters): they need not match the address */
  userIds: string[];
  /** when the key expires (ISO 8601), or null if it does not */
  expires: string | null;
  /** null while the key encrypts; otherwise why it does not, now */
  problem: AlertKeyProblem | null;
}

/** what an admin may set the staff session timeouts to (POST /api/staff/settings) */
export const SESSION_SETTING_BOUNDS = {
  sessionIdleMinutes: { min: 5, max: 24 * 60 },
  sessionAbsoluteHours: { min: 1, max: 24 * 7 },
} as const;

/**
 * What a survivor lets others do with a testimony (issue 4): advocates may read it to propose
 * a publication; and it may be counted in the public statistics, disclosing only the fields
 * named (none by default). Disclosed fields are stored in the clear, by the survivor's choice.
 */
export const StatisticsChoiceSchema = z.strictObject({
  context: z.enum(CONTEXT_VALUES).optional(),
  year: wholeNumber(FIRST_STATISTICS_YEAR, 2100, `must be ${FIRST_STATISTICS_YEAR} or later`).optional(),
  province: z.enum(PROVINCE_VALUES).optional(),
});
export type StatisticsChoice = z.infer<typeof StatisticsChoiceSchema>;
export const SharingSchema = z.strictObject({
  advocatesMayRead: z.boolean(),
  /** null: not counted at all */
  statistics: StatisticsChoiceSchema.nullable(),
});
export type Sharing = z.infer<typeof SharingSchema>;

/** Longest public story title and text: a testimony's own limit (share.html maxlength). */
export const MAX_STORY_TITLE = 200;
export const MAX_STORY_TEXT = 60000;
/** Longest takedown reason (publications.takedown_reason holds 600). */
export const MAX_TAKEDOWN_REASON = 500;
const nonBlank = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => s.trim().length > 0, 'must not be empty')
    // Control characters would break the Atom feed, and PostgreSQL's text cannot hold U+0000:
    // refused alike on both engines.
    .superRefine((s, issue) => {
      const found = storyControlCharacter(s);
      if (found)
        issue.addIssue({
          code: 'custom',
          message: `must not contain control characters; ${found.codePoint} is at character ${found.position} (only tab and line feed are allowed)`,
        });
    });
export const PublicStorySchema = z.strictObject({
  title: nonBlank(MAX_STORY_TITLE),
  text: nonBlank(MAX_STORY_TEXT),
  context: z.enum(CONTEXT_VALUES),
});

export const ConsentStatementSchema = z.strictObject({
  v: z.literal(CONSENT_VERSION),
  type: z.literal('publish'),
  caseId: Id,
  draftId: Id,
  textHash: b64Bytes(32),
  issuedDay: Day,
});
export const RevocationStatementSchema = z.strictObject({
  v: z.literal(CONSENT_VERSION),
  type: z.literal('revoke'),
  caseId: Id,
  draftId: Id,
  issuedDay: Day,
});
/** how many uploads one message or testimony may carry */
export const MAX_ATTACHMENTS_PER_ENVELOPE = 20;

/** ids of closed uploads (POST /api/survivor/attachments) that a survivor's testimony or message carries */
export const AttachmentIds = z
  .array(Id)
  .max(MAX_ATTACHMENTS_PER_ENVELOPE, `must list at most ${MAX_ATTACHMENTS_PER_ENVELOPE} attachments`)
  .refine((ids) => new Set(ids).size === ids.length, 'lists an attachment twice');

/**
 * A whole number in a query string or a path segment: plain decimal digits and nothing else
 * (no sign, space, exponent, hex, fraction or leading zero, and not empty), within [min, max].
 * So one number has one spelling, and `''` or `0x10` is not quietly read as 0 or 16.
 */
export const plainInteger = (min: number, max: number, message = `must be a whole number from ${min} to ${max}, in plain digits`) => {
  return z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message);
};

/** a record's position in its file, as a path segment */
export const RecordIndex = plainInteger(0, 999_999_999, 'must be a record index: a whole number from 0, in plain digits');

/** new staff member's key material, as made by their browser */
const StaffKeyMaterial = {
  username: Username,
  kdf: KdfSchema,
  authKey: b64Bytes(32),
  boxPk: b64Bytes(32),
  signPk: b64Bytes(32),
  wrappedKeys: b64Max(1024),
};

/** New credentials proven by the current ones: the same private keys wrapped under a new derivation. */
const CredentialsSwap = z
  .strictObject({ currentAuthKey: b64Bytes(32), kdf: KdfSchema, authKey: b64Bytes(32), wrappedKeys: b64Max(1024) })
  .refine((b) => b.authKey !== b.currentAuthKey, {
    message: 'must differ from currentAuthKey (derive it with a new salt)',
    path: ['authKey'],
  });

/** The matching escrow: at most this many identifiers blinded in one request, and named by one survivor. */
export const MAX_MATCH_BLINDED = 5;
export const MAX_MATCH_ENTRIES = 20;
/** the largest sealed entry's ciphertext (an identifier and a case reference, padded) */
export const MAX_MATCH_CIPHERTEXT_BYTES = 2048;

export const SealedMatchEntrySchema = z.strictObject({
  v: z.literal(MATCH_ENTRY_VERSION),
  alg: z.literal(MATCH_ENTRY_ALG),
  ciphertext: b64Max(MAX_MATCH_CIPHERTEXT_BYTES),
  keys: z.array(RecipientKeySchema).min(1).max(MAX_RECIPIENTS),
});

const MatchEntryBody = {
  /** SHA-512 of the OPRF output, first 32 bytes (protocol/matching.ts matchTag) */
  tag: b64Bytes(32),
  keyVersion: wholeNumber(1, 999_999_999),
  sealed: SealedMatchEntrySchema,
};

export const schemas = {
  setup: z.strictObject({
    setupToken: b64Bytes(32),
    ...StaffKeyMaterial,
    staffId: Id,
    roles: z.array(Role).min(1).max(STAFF_ROLES.length),
    keyset: SignedKeysetSchema,
  }),
  loginParams: z.strictObject({ username: Username }),
  login: z.strictObject({ username: Username, authKey: b64Bytes(32) }),
  createInvite: z.strictObject({ roles: z.array(Role).min(1).max(STAFF_ROLES.length) }),
  checkInvite: z.strictObject({ inviteToken: b64Bytes(32) }),
  inviteIdParam: z.strictObject({ inviteId: Id }),
  enrol: z.strictObject({ inviteToken: b64Bytes(32), ...StaffKeyMaterial }),
  publishKeyset: z.strictObject({ signed: SignedKeysetSchema }),
  caseListQuery: z.strictObject({
    status: CaseStatus.optional(),
    /** a staff id, "me", or "none" for unassigned */
    assignee: z.union([Id, z.enum(['me', 'none'])]).optional(),
    from: Day.optional(),
    to: Day.optional(),
    sort: z.enum(['newest', 'oldest']).default('newest'),
    /** the previous answer's nextCursor, unchanged, with the same filters and sort; absent for the first page */
    cursor: z
      .string()
      .min(1, 'must be the nextCursor of a previous answer')
      .max(INBOX_CURSOR_MAX_LENGTH, 'must be the nextCursor of a previous answer, unchanged')
      .optional(),
    /** pages are reached by cursor now: a page number is refused with a message saying so */
    page: z
      .never({
        message: 'page numbers are no longer accepted: the inbox pages by cursor; send the nextCursor of the previous answer as cursor',
      })
      .optional(),
  }),
  /** a survivor's thread message, with the evidence files it carries */
  postEnvelope: z.strictObject({ envelope: EnvelopeSchema, keysetVersion: dbInteger(1), attachments: AttachmentIds.optional() }),
  /** a staff thread message or an internal note: staff send no attachments (an `attachments` field is an unknown field) */
  postStaffEnvelope: z.strictObject({ envelope: EnvelopeSchema, keysetVersion: dbInteger(1) }),
  /** a staff reply; `status` is the status the case takes with it (left out: the status stays as it is) */
  postStaffReply: z.strictObject({ envelope: EnvelopeSchema, keysetVersion: dbInteger(1), status: CaseStatus.optional() }),
  /** the moderator has read the case's thread up to seq (opening a case marks it read) */
  caseRead: z.strictObject({ seq: wholeNumber(0, 1_000_000) }),
  setStatus: z.strictObject({ status: CaseStatus }),
  setAssignee: z.strictObject({ staffId: Id.nullable() }),
  survivorSeen: z.strictObject({ seq: wholeNumber(0, 1_000_000) }),
  pendingGrantsQuery: z.strictObject({ staffId: Id, after: plainInteger(0, DB_INT_MAX).default(0) }),
  postGrants: z.strictObject({
    staffId: Id,
    grants: z
      .array(z.strictObject({ envelopeId: dbInteger(1), grant: KeyGrantSchema }))
      .min(1)
      .max(100),
  }),
  /**
   * A batch of v2 grants (protocol/grant-batch.ts), in the order the granter signed them: per
   * envelope only the content key wrapped to staffId's key; the server adds the hash it stores
   * and the colleague's kid, recomputes the tree and checks `sig` once.
   */
  postGrantBatch: z.strictObject({
    staffId: Id,
    sig: b64Bytes(64),
    grants: z
      .array(z.strictObject({ envelopeId: dbInteger(1), epk: b64Bytes(32), wrapped: b64Bytes(24 + 32 + 16) }))
      .min(1)
      .max(MAX_GRANT_BATCH),
  }),
  /** sig = signLogin(instanceId, pow.challenge): proves the browser holds the sign key */
  register: z.strictObject({ signPk: b64Bytes(32), boxPk: b64Bytes(32), pow: PowSolutionSchema, sig: b64Bytes(64) }),
  survivorChallenge: z.strictObject({}),
  survivorSession: z.strictObject({ signPk: b64Bytes(32), challenge: b64Bytes(32), sig: b64Bytes(64) }),
  submitCase: z.strictObject({
    envelope: EnvelopeSchema,
    keysetVersion: dbInteger(1),
    pow: PowSolutionSchema,
    sharing: SharingSchema.optional(),
    attachments: AttachmentIds.optional(),
  }),
  caseIdParam: z.strictObject({ caseId: Id }),
  matchEvaluate: z.strictObject({ blinded: z.array(b64Bytes(32)).min(1).max(MAX_MATCH_BLINDED) }),
  matchEntry: z.strictObject(MatchEntryBody),
  matchEntryParam: z.strictObject({ entryId: Id }),
  // Publishing with consent: server/routes/publishing.ts (survivor and staff) and public.ts.
  draftParam: z.strictObject({ caseId: Id, draftId: Id }),
  staffDraftParam: z.strictObject({ draftId: Id }),
  /** grants: when advocates may now read, the testimony's key re-wrapped to each advocate, signed by the survivor */
  updateSharing: z.strictObject({
    sharing: SharingSchema,
    keysetVersion: dbInteger(1),
    grants: z.array(KeyGrantSchema).max(MAX_RECIPIENTS).default([]),
  }),
  postDraft: z.strictObject({ draftId: Id, envelope: EnvelopeSchema, keysetVersion: dbInteger(1) }),
  consent: z.strictObject({ statement: ConsentStatementSchema, sig: b64Bytes(64) }),
  revoke: z.strictObject({ statement: RevocationStatementSchema, sig: b64Bytes(64) }),
  /** the request for changes, sealed (kind 'changes', body `{changes: {draftId, text}}`) to the survivor, the moderators and the draft's author */
  requestChanges: z.strictObject({ envelope: EnvelopeSchema, keysetVersion: dbInteger(1) }),
  publish: z.strictObject({ story: PublicStorySchema }),
  /** an admin or advocate takes a published story down; the reason is shown on its 410 page and to the survivor */
  storyAliasParam: z.strictObject({ alias: z.string().regex(/^[a-z2-9]{10}$/, 'must be a story address: 10 characters a-z and 2-9') }),
  takedown: z.strictObject({ reason: nonBlank(MAX_TAKEDOWN_REASON) }),
  deleteEverything: z.strictObject({
    confirm: z.literal(DELETE_EVERYTHING_CONFIRMATION, { message: `must be the words "${DELETE_EVERYTHING_CONFIRMATION}"` }),
  }),
  // The public pages are reached through shared links, which pick up parameters on the way
  // (?fbclid=, ?utm_source=): unknown ones are ignored there, the known ones checked.
  storiesQuery: z.object({
    context: z.enum(CONTEXT_VALUES).optional(),
    page: plainInteger(1, 100000).default(1),
  }),
  // Attachments (evidence files in 64 KiB records, protocol/attachment.ts): server/routes/attachments.ts.
  /**
   * size: plaintext bytes; records: recordCount(size), so both sides agree on every record's
   * length; id (optional, chosen by the browser): a create sent again after its answer was lost
   * finds the upload it made instead of making another
   */
  createAttachment: z
    .strictObject({
      size: wholeNumber(0, Number.MAX_SAFE_INTEGER),
      records: dbInteger(1),
      id: Id.optional(),
    })
    .superRefine((b, issue) => {
      if (!Number.isSafeInteger(b.size) || b.size < 0) return; // already refused above
      const expected = recordCount(b.size);
      if (b.records !== expected)
        issue.addIssue({ code: 'custom', path: ['records'], message: `must be ${expected} for a file of this size (records of 64 KiB)` });
    }),
  closeAttachment: z.strictObject({}),
  attachmentIdParam: z.strictObject({ id: Id }),
  recordParams: z.strictObject({ id: Id, index: RecordIndex }),
  // Staff security (2FA, sessions, password change, audit log): server/routes/staff-auth.ts.
  /**
   * sign-in: the second factor is a TOTP code or a recovery code; neither only before TOTP is set
   * up. ticket: from /login/params; with it the TOTP code is judged by when sign-in began too.
   */
  staffLogin: z
    .strictObject({
      username: Username,
      authKey: b64Bytes(32),
      totp: TotpCode.optional(),
      recoveryCode: RecoveryCode.optional(),
      ticket: SignInTicket.optional(),
    })
    .refine((b) => !(b.totp !== undefined && b.recoveryCode !== undefined), {
      message: 'send either totp or recoveryCode, not both',
      path: ['recoveryCode'],
    }),
  confirmTotp: z.strictObject({ code: TotpCode }),
  /** new recovery codes (the old ones stop working): the password and a fresh TOTP code prove it is the member */
  regenerateRecoveryCodes: z.strictObject({ currentAuthKey: b64Bytes(32), totp: TotpCode }),
  staffIdParam: z.strictObject({ staffId: Id }),
  /** the browser re-wraps the same private keys under a key derived from the new password */
  changePassword: CredentialsSwap,
  /** the same password, derived again with the current staff KDF parameters and a new salt */
  upgradeKdf: CredentialsSwap,
  sessionSettings: z
    .strictObject({
      sessionIdleMinutes: wholeNumber(SESSION_SETTING_BOUNDS.sessionIdleMinutes.min, SESSION_SETTING_BOUNDS.sessionIdleMinutes.max),
      sessionAbsoluteHours: wholeNumber(SESSION_SETTING_BOUNDS.sessionAbsoluteHours.min, SESSION_SETTING_BOUNDS.sessionAbsoluteHours.max),
    })
    .refine((b) => b.sessionIdleMinutes <= b.sessionAbsoluteHours * 60, {
      message: 'must not be longer than the absolute timeout',
      path: ['sessionIdleMinutes'],
    }),
  retention: z.strictObject({
    closedCaseDays: wholeNumber(RETENTION_BOUNDS.closedCaseDays.min, RETENTION_BOUNDS.closedCaseDays.max),
    idleAccountDays: wholeNumber(RETENTION_BOUNDS.idleAccountDays.min, RETENTION_BOUNDS.idleAccountDays.max),
  }),
  staffAlerts: z
    .strictObject({
      email: z.string().trim().max(254, 'must be at most 254 characters').email('must be an email address').nullable(),
      newCase: z.enum(ALERT_MODES),
      answer: z.enum(ALERT_MODES),
    })
    .refine((b) => b.email !== null || (b.newCase === 'off' && b.answer === 'off'), {
      message: 'give an email address to receive alerts, or turn both kinds off',
      path: ['email'],
    }),
  alertKey: z.strictObject({
    publicKey: z
      .string()
      .max(
        ALERT_KEY_MAX_CHARS,
        `must be at most ${ALERT_KEY_MAX_CHARS} characters (export the key alone, without others' signatures: gpg --armor --export-options export-minimal --export <address>)`,
      )
      .refine((k) => k.trim().length > 0, 'must not be empty: paste an ASCII-armored OpenPGP public key'),
  }),
  auditQuery: z.strictObject({
    /** entries after this position (0: from the first) */
    after: plainInteger(0, DB_INT_MAX).default(0),
    limit: plainInteger(1, 500).default(200),
  }),
} as const;

export type SetupRequest = z.infer<typeof schemas.setup>;
export type EnrolRequest = z.infer<typeof schemas.enrol>;
export type SubmitCaseRequest = z.infer<typeof schemas.submitCase>;
export type SignedKeysetBody = z.infer<typeof SignedKeysetSchema>;

// Responses (the server builds them; the client reads them).
export interface InstanceInfo {
  instanceId: string;
  setupComplete: boolean;
  // No fingerprint here: a page shows only the one it computed from the keyset chain it verified.
  powBits: number;
  keyset: SignedKeysetBody | null;
  /** where survivor pages' quick exit goes (QUICK_EXIT_URL), an http(s) URL */
  quickExitUrl: string;
  /** the organisation's own support contacts (SUPPORT_CONTACTS), shown on the safety page; '' when none */
  supportContacts: string;
  /** the largest evidence file, the most a testimony's files may total, and the plaintext bytes of a record (all in bytes) */
  attachmentLimits: { fileBytes: number; testimonyBytes: number; recordBytes: number };
  /** how long closed cases and accounts with no case are kept, in days (shown on /safety) */
  retention: RetentionPeriods;
}
export interface PowChallenge {
  challenge: string;
  bits: number;
}
export interface StaffMe {
  id: string;
  username: string;
  roles: z.infer<typeof Role>[];
  status: 'pending' | 'active' | 'removed';
  boxPk: string;
  signPk: string;
  wrappedKeys: string;
  /** false until the member has confirmed a TOTP code; until then every other staff route answers 403 */
  totpEnrolled: boolean;
}
/** POST /api/staff/login/params: how to derive the keys, and a "sign-in started" ticket for /login (valid 5 minutes) */
export interface StaffLoginParams {
  kdf: { params: Argon2Params; salt: string };
  ticket: string;
}
/** POST /api/staff/login: also how many unused recovery codes are left */
export interface StaffLoginResult extends StaffMe {
  recoveryCodesLeft: number;
}
/** POST /api/staff/totp/setup: a new secret to scan or type in (not active until confirmed) */
export interface TotpSetup {
  /** base32, in groups of four */
  secret: string;
  /** otpauth://totp/Awaaz:username?secret=… */
  uri: string;
}
/** POST /api/staff/totp/confirm: shown once; the server keeps only their hashes */
export interface RecoveryCodes {
  recoveryCodes: string[];
}
export interface SessionSettings {
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  defaults: { sessionIdleMinutes: number; sessionAbsoluteHours: number };
  bounds: typeof SESSION_SETTING_BOUNDS;
}
/** GET /api/staff/activity: who is active, for the admin's team list */
export interface StaffActivity {
  members: { id: string; lastSeenDay: string | null; activeSessions: number }[];
}
/** GET /api/staff/audit: a page of the audit log, oldest first, and the newest entry's position and hash */
export interface AuditPage {
  entries: AuditRecord[];
  latest: { seq: number; hash: string } | null;
}
/** One invite not yet used or expired, as GET /api/staff/invites lists it: nothing in it lets anyone enrol. */
export const PendingInviteSchema = z.strictObject({
  id: Id,
  roles: z.array(Role).min(1),
  /** the username of the admin who made it */
  createdBy: Username,
  /** ISO 8601 */
  expiresAt: z.string(),
});
export type PendingInvite = z.infer<typeof PendingInviteSchema>;
/** GET /api/staff/invites */
export const PendingInviteListSchema = z.strictObject({ invites: z.array(PendingInviteSchema) });
export type PendingInviteList = z.infer<typeof PendingInviteListSchema>;
export interface StaffMemberSummary {
  id: string;
  username: string;
  roles: z.infer<typeof Role>[];
  status: 'pending' | 'active' | 'removed';
  boxPk: string;
  signPk: string;
}
export interface CaseSummary {
  caseId: string;
  handle: string;
  status: CaseStatus;
  createdDay: string;
  updatedDay: string;
  assignee: { id: string; username: string } | null;
  /** the survivor wrote and no staff member has replied since */
  awaitingStaff: boolean;
  /** in inbox listings: the survivor wrote beyond what the asking moderator has read */
  unread?: boolean;
}
/** One envelope as the server returns it: its row id, thread position, UTC day, and for staff the grants addressed to them. */
export interface EnvelopeItem {
  id: number;
  seq: number | null;
  day: string;
  fromStaff: boolean;
  envelope: Envelope;
  grants: AnyKeyGrant[];
}
export interface CaseList {
  cases: CaseSummary[];
  pageSize: number;
  /** matching cases, counted up to 1,000 */
  total: number;
  /** true when more than 1,000 cases match: total is then 1,000 */
  totalCapped: boolean;
  /** pass it as `cursor` (with the same filters and sort) for the next page; null on the last page */
  nextCursor: string | null;
}
/** How many cases wait unread for the asking moderator, counted up to `limit` (then "more than limit"). */
export interface UnreadCount {
  unread: number;
  limit: number;
  capped: boolean;
}
/** The key that seals this session's unlocked private keys in the browser's sessionStorage (SECURITY.md). */
export interface SessionReloadKey {
  key: string;
}
export interface StaffCaseDetail extends CaseSummary {
  survivorSignPk: string;
  survivorBoxPk: string;
  /** the testimony then the messages, in thread order */
  thread: EnvelopeItem[];
  /** internal notes, staff only */
  notes: EnvelopeItem[];
}
/** A publication draft: its envelope (sealed to the survivor, moderators and advocates) and where it stands. */
export interface DraftItem {
  draftId: string;
  /** 1 for the case's first draft, then 2, 3, … */
  version: number;
  status: DraftStatus;
  day: string;
  item: EnvelopeItem;
  /** once published (and until revoked): the story's public address */
  publication: { alias: string; publishedDay: string } | null;
  /** when staff took the published story down: why, and the UTC day */
  takedown: { alias: string; reason: string; day: string } | null;
  /** the survivor's request for changes (kind 'changes', sealed to the survivor, moderators and the draft's author), if any */
  changes: EnvelopeItem | null;
}
export const DRAFT_STATUSES = DRAFT_STATUS_VALUES;
export interface SurvivorCase {
  caseId: string;
  status: CaseStatus;
  createdDay: string;
  sharing: Sharing;
  drafts: DraftItem[];
  thread: EnvelopeItem[];
  /** staff messages after the last one the survivor marked as seen */
  unread: number;
  /** a closed case: the last UTC day it is kept, unless the survivor comes back; null while open */
  keptUntilDay: string | null;
}
/** GET /api/staff/publishing: cases whose survivor lets advocates read, newest first. */
export interface PublishingCaseSummary {
  caseId: string;
  handle: string;
  createdDay: string;
  drafts: { draftId: string; version: number; status: DraftStatus; day: string }[];
}
/** GET /api/staff/publishing/:caseId: the testimony (not the thread: advocates do not read it) and the drafts. */
export interface PublishingCase extends PublishingCaseSummary {
  survivorSignPk: string;
  survivorBoxPk: string;
  testimony: EnvelopeItem;
  drafts: (PublishingCaseSummary['drafts'][number] & {
    item: EnvelopeItem;
    author: string | null;
    publication: DraftItem['publication'];
    takedown: DraftItem['takedown'];
    changes: DraftItem['changes'];
  })[];
}
/** What a granter needs per envelope (issue 17): no ciphertext, the stored hash and its own way in. */
export interface PendingGrants {
  /** on the first page only (after = 0) */
  total?: number;
  items: {
    id: number;
    caseId: string;
    kind: EnvelopeKind;
    /** envelopeHash as the server computed it when the envelope was submitted */
    hash: string;
    /** the asking member's own key entry, when the envelope was sealed to it */
    key?: Required<Pick<RecipientKey, 'kid' | 'epk' | 'wrapped'>>;
    /** grants addressed to the asking member (how it reads the envelope otherwise) */
    grants: AnyKeyGrant[];
  }[];
}
export interface SurvivorSession {
  token: string;
  handle: string;
  expiresInSeconds: number;
}
/** An upload as its survivor sees it (POST and GET /api/survivor/attachments…): resume from `received`. */
export interface AttachmentUpload {
  id: string;
  size: number;
  records: number;
  /** how many records are stored: the index the next PUT must carry */
  received: number;
  closed: boolean;
}
/** An attached file as a moderator sees it (GET /api/staff/attachments/:id). */
export interface StaffAttachment {
  id: string;
  caseId: string;
  size: number;
  records: number;
}
export interface ApiError {
  error: { code: string; message: string };
}

/** The survivor's identifiers (sealed; her browser opens them to re-derive after a key rotation). */
export interface SurvivorMatchEntry {
  id: string;
  tag: string;
  keyVersion: number;
  createdDay: string;
  sealed: SealedMatchEntry;
  /**
   * The matching counselors changed since it was sealed (one was added or left): her browser
   * seals it again to the counselors of the keyset it verifies (same tag, same key version).
   * A hint only: her browser decides from the keyset it checked.
   */
  reseal: boolean;
}
export interface SurvivorMatching {
  /** the OPRF key version evaluations are made under now */
  keyVersion: number;
  /** whether anyone holds the matching counselor role in the current keyset */
  counselors: boolean;
  entries: SurvivorMatchEntry[];
  /** how many more evaluations the survivor may ask for today */
  evaluationsLeftToday: number;
}
export interface MatchEvaluation {
  keyVersion: number;
  /** one evaluated element per blinded element, in order */
  evaluated: string[];
}
/** A tag held by two or more distinct survivors, with every entry under it. */
export interface StaffMatch {
  tag: string;
  keyVersion: number;
  entries: { id: string; handle: string; createdDay: string; sealed: SealedMatchEntry }[];
}
