/**
 * The staff audit log as a hash chain (DOM-free, so the admin's browser verifies what the
 * server stores with the same code the server appends with).
 *
 *   hash(n) = base64url(SHA-512(utf8(prevHash(n) + canonicalJson(entry(n)))))
 *   prevHash(1) = auditGenesis(instanceId),  prevHash(n) = hash(n - 1)
 *
 * An entry names a staff action: who (a staff id, or null for the system), what (an action
 * such as "staff.login"), on what (a staff id or a case id, never anything that identifies a
 * survivor) and a small detail object, with the exact time (allowed for staff actions).
 *
 * What the chain proves: a database edit that changes, deletes or reorders entries without
 * recomputing every later hash is detected by verifyAuditChain. Someone who controls the
 * server can recompute the whole chain; that is caught by a checkpoint the admin's browser
 * keeps (the newest hash it saw and its position): a rewritten history no longer holds it.
 */
import { canonicalJson, ProtocolError, sha512, toBase64url, utf8 } from './encoding';

export const AUDIT_VERSION = 1;

/** A scalar an audit detail may hold: short strings, safe integers, booleans, null. */
export type AuditScalar = string | number | boolean | null;
/** Flat: each value a scalar or a short list of scalars. */
export type AuditDetail = Record<string, AuditScalar | AuditScalar[]>;

/** The part of an entry that is hashed. */
export interface AuditEntry {
  v: typeof AUDIT_VERSION;
  /** position in the chain, from 1, without gaps */
  seq: number;
  /** milliseconds since the epoch (staff actions only) */
  at: number;
  /** the staff member who acted, or null for the system */
  actorId: string | null;
  /** e.g. "staff.login", "keyset.published", "case.status_changed" */
  action: string;
  /** what was acted on: a staff id or a case id, or null */
  subject: string | null;
  detail: AuditDetail | null;
}

/** An entry as stored and served: the entry, the previous hash, its own hash. */
export interface AuditRecord extends AuditEntry {
  prevHash: string;
  hash: string;
}

export const AUDIT_ACTION_PATTERN = /^[a-z][a-z0-9_]{0,31}(\.[a-z][a-z0-9_]{0,31}){1,2}$/;
/** a staff id or a case id (16-byte ids in base64url) */
export const AUDIT_SUBJECT_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const AUDIT_LIMITS = { detailKeys: 16, keyLength: 40, stringLength: 200, listLength: 64 } as const;

/** Human labels for the actions known today; the admin page shows unknown ones as they are. */
export const AUDIT_ACTION_LABELS: Record<string, string> = {
  'instance.set_up': 'set up the instance',
  'staff.login': 'signed in',
  'staff.login_failed': 'failed to sign in',
  'staff.logout_everywhere': 'logged out everywhere',
  'staff.totp_enrolled': 'set up two-factor sign-in',
  'staff.password_changed': 'changed their password',
  'staff.kdf_upgraded': 'updated their key protection at sign-in',
  'staff.enrolled': 'joined through an invite',
  'invite.created': 'created an invite',
  'invite.revoked': 'revoked an invite',
  'keyset.published': 'signed and published the list of readers',
  'settings.changed': 'changed the session settings',
  'case.status_changed': 'changed the status of a case',
  'case.assigned': 'changed who a case is assigned to',
  'case.replied': 'replied to a survivor',
  'case.note_added': 'added an internal note',
  'case.keys_granted': 'shared older cases with a newer moderator',
  'case.draft_proposed': 'proposed a publication draft to a survivor',
  'story.published': "published a story with its survivor's signed consent",
  'case.attachment_opened': 'opened an evidence file of a case',
  'matching.listed': 'looked at the matches (survivors who named the same person)',
  'staff.recovery_codes_regenerated': 'made new recovery codes',
  'staff.recovery_codes_failed': 'failed to make new recovery codes',
  'staff.totp_reset': "reset a member's two-factor sign-in",
  'story.taken_down': 'took a published story down',
};

/** The chain's first prevHash: bound to the instance, so one instance's log cannot pass as another's. */
export function auditGenesis(instanceId: string): string {
  return toBase64url(sha512(utf8(`awaaz/v1/audit-genesis\n${instanceId}`)));
}

/** Throws a ProtocolError unless the entry has the shape and limits above. */
export function checkAuditEntry(entry: AuditEntry): void {
  const fail = (message: string) => {
    throw new ProtocolError('bad_audit_entry', message);
  };
  if (entry.v !== AUDIT_VERSION) fail('unknown audit entry version');
  if (!Number.isSafeInteger(entry.seq) || entry.seq < 1) fail('seq must be a positive integer');
  if (!Number.isSafeInteger(entry.at) || entry.at < 0) fail('at must be a time in milliseconds');
  if (entry.actorId !== null && !AUDIT_SUBJECT_PATTERN.test(entry.actorId)) fail('actorId must be a staff id or null');
  if (!AUDIT_ACTION_PATTERN.test(entry.action)) fail('action must look like "area.verb"');
  if (entry.subject !== null && !AUDIT_SUBJECT_PATTERN.test(entry.subject)) fail('subject must be a staff id, a case id or null');
  if (entry.detail === null) return;
  if (typeof entry.detail !== 'object' || Array.isArray(entry.detail) || Object.getPrototypeOf(entry.detail) !== Object.prototype)
    fail('detail must be a plain object');
  const keys = Object.keys(entry.detail);
  if (keys.length > AUDIT_LIMITS.detailKeys) fail(`detail holds at most ${AUDIT_LIMITS.detailKeys} keys`);
  const scalar = (v: unknown) =>
    v === null ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isSafeInteger(v)) ||
    (typeof v === 'string' && v.length <= AUDIT_LIMITS.stringLength);
  for (const k of keys) {
    if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(k) || k.length > AUDIT_LIMITS.keyLength) fail('detail keys must be short field names');
    const v = entry.detail[k];
    if (Array.isArray(v)) {
      if (v.length > AUDIT_LIMITS.listLength || !v.every(scalar)) fail(`detail.${k} must be a short list of short scalars`);
    } else if (!scalar(v)) fail(`detail.${k} must be a short string, a safe integer, a boolean or null`);
  }
}

/** The hashed part of a record (drops prevHash and hash, and anything else a server added). */
export function auditEntryOf(r: AuditEntry): AuditEntry {
  return { v: r.v, seq: r.seq, at: r.at, actorId: r.actorId, action: r.action, subject: r.subject, detail: r.detail };
}

export function auditEntryHash(prevHash: string, entry: AuditEntry): string {
  return toBase64url(sha512(utf8(prevHash + canonicalJson(auditEntryOf(entry)))));
}

/** The record that follows `prev` (null for the first entry of an instance's log). */
export function chainAuditEntry(
  instanceId: string,
  prev: { seq: number; hash: string } | null,
  fields: { at: number; actorId: string | null; action: string; subject?: string | null; detail?: AuditDetail | null },
): AuditRecord {
  const entry: AuditEntry = {
    v: AUDIT_VERSION,
    seq: prev ? prev.seq + 1 : 1,
    at: fields.at,
    actorId: fields.actorId,
    action: fields.action,
    subject: fields.subject ?? null,
    detail: fields.detail ?? null,
  };
  checkAuditEntry(entry);
  const prevHash = prev ? prev.hash : auditGenesis(instanceId);
  return { ...entry, prevHash, hash: auditEntryHash(prevHash, entry) };
}

export type AuditVerification =
  { ok: true; count: number; head: { seq: number; hash: string } | null } | { ok: false; seq: number; reason: string };

/**
 * Verifies a whole log, from the first entry, in order: positions 1..n without gaps, each
 * entry linked to the one before (the first to the instance's genesis), and each hash
 * recomputed from the entry. Returns the first break found.
 */
export function verifyAuditChain(records: readonly AuditRecord[], instanceId: string): AuditVerification {
  let prevHash = auditGenesis(instanceId);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const expectedSeq = i + 1;
    if (r.seq !== expectedSeq)
      return { ok: false, seq: expectedSeq, reason: `entry #${expectedSeq} is missing or out of order (found #${r.seq} in its place)` };
    if (r.prevHash !== prevHash) return { ok: false, seq: r.seq, reason: `entry #${r.seq} does not follow the entry before it` };
    try {
      checkAuditEntry(r);
    } catch (e) {
      return { ok: false, seq: r.seq, reason: `entry #${r.seq} is malformed: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (auditEntryHash(prevHash, r) !== r.hash)
      return { ok: false, seq: r.seq, reason: `entry #${r.seq} was changed after it was written` };
    prevHash = r.hash;
  }
  const last = records[records.length - 1];
  return { ok: true, count: records.length, head: last ? { seq: last.seq, hash: last.hash } : null };
}

/** A position and hash a verifier saw earlier (the admin's browser keeps the newest one). */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
}

/**
 * Whether a (verified) log still contains the checkpoint at its position: false when the
 * history up to it was rewritten, or the log is now shorter than it was.
 */
export function auditLogKeeps(records: readonly AuditRecord[], checkpoint: AuditCheckpoint): boolean {
  const r = records[checkpoint.seq - 1];
  return Boolean(r) && r.seq === checkpoint.seq && r.hash === checkpoint.hash;
}
