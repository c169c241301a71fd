/**
 * The HTTP API's request and response shapes, as zod schemas: the one source of truth that
 * the server validates with and the client types itself from (`import type`, so zod is never
 * bundled into the pages). docs/api.md describes the same routes for people.
 */
import { z } from 'zod';
import { BASE64URL_PATTERN } from './encoding';
import { ENVELOPE_ALG, ENVELOPE_VERSION, type Envelope } from './envelope';
import { STAFF_ROLES } from './keyset';

/** base64url of exactly `bytes` bytes (unpadded length is fixed by the byte count) */
export const b64Bytes = (bytes: number) =>
  z
    .string()
    .regex(BASE64URL_PATTERN, 'must be base64url without padding')
    .length(Math.ceil((bytes * 4) / 3), `must be ${bytes} bytes in base64url`);
/** base64url of at most `maxBytes` bytes */
export const b64Max = (maxBytes: number) =>
  z
    .string()
    .regex(BASE64URL_PATTERN, 'must be base64url without padding')
    .min(2, 'must not be empty')
    .max(Math.ceil((maxBytes * 4) / 3), `must be at most ${maxBytes} bytes`)
    .refine((s) => s.length % 4 !== 1, 'is not a valid base64url length');

export const Id = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'must be a 16-byte id in base64url');
export const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC day YYYY-MM-DD');
export const Username = z
  .string()
  .min(3, 'must be at least 3 characters')
  .max(32, 'must be at most 32 characters')
  .regex(/^[a-z0-9._-]+$/, 'may use only a-z, 0-9, dot, dash and underscore');
export const Role = z.enum(STAFF_ROLES);
export const CaseStatus = z.enum(['new', 'in_review', 'waiting_for_survivor', 'closed']);
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
  kind: z.enum(['testimony']),
  caseId: Id,
  ciphertext: b64Max(MAX_CIPHERTEXT_BYTES),
  keys: z.array(RecipientKeySchema).min(1).max(MAX_RECIPIENTS),
  signer: b64Bytes(32),
  sig: b64Bytes(64),
});

export const KdfSchema = z.strictObject({
  params: z.strictObject({
    alg: z.literal('argon2id'),
    m: z.number().int().min(19 * 1024).max(1024 * 1024),
    t: z.number().int().min(2).max(20),
    p: z.number().int().min(1).max(8),
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
    version: z.number().int().min(1),
    prev: b64Bytes(64).nullable(),
    issuedDay: Day,
    members: z.array(KeysetMemberSchema).min(1).max(MAX_RECIPIENTS),
  }),
  instancePk: b64Bytes(32),
  sig: b64Bytes(64),
});

export const PowSolutionSchema = z.strictObject({
  challenge: b64Bytes(32),
  nonce: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** new staff member's key material, as made by their browser */
const StaffKeyMaterial = {
  username: Username,
  kdf: KdfSchema,
  authKey: b64Bytes(32),
  boxPk: b64Bytes(32),
  signPk: b64Bytes(32),
  wrappedKeys: b64Max(1024),
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
  enrol: z.strictObject({ inviteToken: b64Bytes(32), ...StaffKeyMaterial }),
  publishKeyset: z.strictObject({ signed: SignedKeysetSchema }),
  caseListQuery: z.strictObject({
    status: CaseStatus.optional(),
    page: z.coerce.number().int().min(1).max(100000).default(1),
  }),
  /** sig = signLogin(instanceId, pow.challenge): proves the browser holds the sign key */
  register: z.strictObject({ signPk: b64Bytes(32), boxPk: b64Bytes(32), pow: PowSolutionSchema, sig: b64Bytes(64) }),
  survivorChallenge: z.strictObject({}),
  survivorSession: z.strictObject({ signPk: b64Bytes(32), challenge: b64Bytes(32), sig: b64Bytes(64) }),
  submitCase: z.strictObject({ envelope: EnvelopeSchema, keysetVersion: z.number().int().min(1), pow: PowSolutionSchema }),
  caseIdParam: z.strictObject({ caseId: Id }),
} as const;

export type SetupRequest = z.infer<typeof schemas.setup>;
export type EnrolRequest = z.infer<typeof schemas.enrol>;
export type SubmitCaseRequest = z.infer<typeof schemas.submitCase>;
export type SignedKeysetBody = z.infer<typeof SignedKeysetSchema>;

// Responses (the server builds them; the client reads them).
export interface InstanceInfo {
  instanceId: string;
  setupComplete: boolean;
  fingerprint: string | null;
  powBits: number;
  keyset: SignedKeysetBody | null;
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
}
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
}
export interface CaseList {
  cases: CaseSummary[];
  page: number;
  pageSize: number;
  total: number;
}
export interface StaffCaseDetail extends CaseSummary {
  survivorSignPk: string;
  envelopes: Envelope[];
}
export interface SurvivorCase {
  caseId: string;
  status: CaseStatus;
  createdDay: string;
  envelopes: Envelope[];
}
export interface SurvivorSession {
  token: string;
  handle: string;
  expiresInSeconds: number;
}
export interface ApiError {
  error: { code: string; message: string };
}
