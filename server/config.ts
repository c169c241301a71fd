/**
 * Configuration from the environment, checked once at start (like Firefox Send): a bad value
 * stops the server with a message naming the variable, instead of failing later.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** Where survivors' "Quick exit" goes by default: a neutral weather site (client/lib/exit-url.ts bakes in the same). */
export const DEFAULT_QUICK_EXIT_URL = 'https://weather.com/';
const httpUrl = z
  .string()
  .url()
  .refine((u) => {
    try {
      return /^https?:$/.test(new URL(u).protocol);
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// address');

/**
 * A whole number in decimal digits, from min to max, and nothing else. z.coerce.number read
 * an empty value as 0 (`POW_BITS=` turned the proof of work off, `PORT=` listened on a random
 * port) and `0xBC3D` as hexadecimal; those, and spaces, signs, fractions and exponents, are
 * refused, naming the variable.
 */
function wholeNumber(min: number, max: number) {
  const range = `a whole number from ${min} to ${max}, in decimal digits`;
  return z
    .string()
    .superRefine((text, ctx) => {
      if (text === '') ctx.addIssue({ code: 'custom', message: `is set but empty: give ${range}, or unset it for the default` });
      else if (!/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > max)
        ctx.addIssue({ code: 'custom', message: `must be ${range}` });
    })
    .transform(Number);
}

/**
 * PUBLIC_URL: an http(s) site address alone. Awaaz serves from the root of its site (setup,
 * invite and fingerprint links are this address followed by a path and a #fragment), so a
 * path, ?query, #fragment or user:password in it would come out mangled in every link; and a
 * non-http(s) address has the origin "null", which a cross-site page's `Origin: null` matches.
 */
const siteUrl = z.string().superRefine((text, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  if (!url || !/^https?:$/.test(url.protocol)) ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// address' });
  else if (url.pathname !== '/' || /[?#]/.test(text) || url.username || url.password)
    ctx.addIssue({
      code: 'custom',
      message:
        'must be the address of the site alone, such as https://awaaz.example.org (no path, ?query, #fragment or user:password: Awaaz is served from the root of its site)',
    });
});

const EnvSchema = z.object({
  PORT: wholeNumber(0, 65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** the URL people use to reach this instance, printed in setup and invite links */
  PUBLIC_URL: siteUrl.optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  /** the key that rate-limit counters are derived from (never in the database); DATA_DIR/address.key unless set */
  ADDRESS_KEY_FILE: z.string().min(1).optional(),
  /** the key survivor session tokens and staff sign-in tickets are signed with (never in the database); DATA_DIR/server.key unless set */
  SERVER_KEY_FILE: z.string().min(1).optional(),
  /** the matching escrow's OPRF key (never in the database); DATA_DIR/matching.key unless set */
  MATCHING_KEY_FILE: z.string().min(1).optional(),
  /** OPRF evaluations (each tests one guessed identifier) per survivor per UTC day, and for everyone together */
  MATCHING_EVALUATIONS_PER_SURVIVOR_PER_DAY: wholeNumber(1, 1000).default(20),
  MATCHING_EVALUATIONS_PER_DAY: wholeNumber(1, 1_000_000).default(2000),
  /** the key staff TOTP secrets are encrypted under (never in the database); DATA_DIR/totp.key unless set */
  TOTP_KEY_FILE: z.string().min(1).optional(),
  /** while rotating: the key TOTP secrets were encrypted under before; they are re-encrypted under TOTP_KEY_FILE at start */
  TOTP_PREVIOUS_KEY_FILE: z.string().min(1).optional(),
  /** postgres://… to use PostgreSQL (15 or newer) instead of the embedded SQLite file */
  DATABASE_URL: z
    .string()
    .refine((u) => {
      try {
        const url = new URL(u);
        return /^postgres(ql)?:$/.test(url.protocol) && url.hostname !== '';
      } catch {
        return false;
      }
    }, 'must be a PostgreSQL address, postgres://user:password@host:port/database (unset it to use the embedded SQLite file)')
    .optional(),
  /**
   * SQLite only: FULL (the default) syncs the write-ahead log at every commit, so an
   * acknowledged write survives a power cut; NORMAL syncs only at checkpoints (faster; the
   * last commits may be lost on power loss, though not when only the process is killed).
   */
  SQLITE_SYNCHRONOUS: z
    .enum(['FULL', 'NORMAL'], {
      message: 'must be FULL (every commit survives a power cut) or NORMAL (the last commits may be lost on power loss)',
    })
    .default('FULL'),
  /** set when a reverse proxy sets X-Forwarded-For: how many proxy hops to trust */
  TRUST_PROXY_HOPS: wholeNumber(0, 5).default(0),
  /** leading zero bits of the anonymous proof of work */
  POW_BITS: wholeNumber(0, 24).default(14),
  /** cookies get Secure when served over TLS; set false only for plain-HTTP onion or localhost */
  COOKIE_SECURE: boolean.optional(),
  STAFF_SESSION_IDLE_MINUTES: wholeNumber(1, 24 * 60).default(30),
  STAFF_SESSION_ABSOLUTE_HOURS: wholeNumber(1, 24 * 7).default(12),
  SURVIVOR_SESSION_MINUTES: wholeNumber(1, 240).default(30),
  INVITE_HOURS: wholeNumber(1, 24 * 30).default(72),
  /** requests per minute per hashed address for the whole API, and for the expensive routes */
  RATE_LIMIT_PER_MINUTE: wholeNumber(1, 1_000_000_000).default(300),
  RATE_LIMIT_SENSITIVE_PER_MINUTE: wholeNumber(1, 1_000_000_000).default(20),
  /** attachment record uploads and downloads per minute per survivor or staff member (not per address: see server/http/rate-limit.ts) */
  RATE_LIMIT_RECORDS_PER_MINUTE: wholeNumber(1, 1_000_000_000).default(1200),
  /** the largest evidence file, and the most a testimony's files (or one survivor's unsent uploads) may total, in MB (1 MB = 1024 * 1024 bytes) */
  ATTACHMENT_MAX_FILE_MB: wholeNumber(1, 1024).default(25),
  ATTACHMENT_MAX_TESTIMONY_MB: wholeNumber(1, 4096).default(100),
  /** the neutral site that survivor pages' quick exit replaces them with */
  QUICK_EXIT_URL: httpUrl.default(DEFAULT_QUICK_EXIT_URL),
  /** the organisation's own support contacts (helpline, counsellor), shown on the safety page under "If you are in danger now" */
  SUPPORT_CONTACTS: z
    .string()
    .trim()
    .max(300)
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'one line of text, no control characters')
    .default(''),
  /**
   * Staff alerts (issue 15) go through this SMTP server; with no SMTP_HOST the feature is off.
   * SMTP_TLS: starttls (the default: the connection must be upgraded, or nothing is sent),
   * implicit (TLS from the first byte, usually port 465), or none (only to a server on this machine).
   */
  SMTP_HOST: z.string().trim().min(1).optional(),
  SMTP_PORT: wholeNumber(1, 65535).optional(),
  SMTP_TLS: z
    .enum(['starttls', 'implicit', 'none'], { message: 'must be starttls, implicit or none (none only for a server on this machine)' })
    .default('starttls'),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  /** the sender of alerts: an address, or `Name <address>` */
  SMTP_FROM: z
    .string()
    .trim()
    .max(300)
    .regex(/^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, 'must be an email address, or Name <address>')
    .optional(),
  /** a PEM file of the certificate authority (or self-signed certificate) to trust for the SMTP server, when it is not a public one */
  SMTP_CA_FILE: z.string().min(1).optional(),
  /** the least time between two immediate alerts of one kind to one member; events meanwhile wait and are told in one alert */
  ALERT_PAUSE_MINUTES: wholeNumber(1, 1440).default(30),
  /** the UTC hour at which daily digests go out */
  ALERT_DIGEST_HOUR_UTC: wholeNumber(0, 23).default(7),
  /** how often the mailer looks at the queue: an immediate alert leaves within this many seconds */
  ALERT_CHECK_SECONDS: wholeNumber(5, 3600).default(60),
});

/** Where staff alerts are sent from (null: no SMTP server set, the feature is off). */
export interface SmtpConfig {
  host: string;
  port: number;
  tls: 'starttls' | 'implicit' | 'none';
  auth: { user: string; password: string } | null;
  from: string;
  /** PEM text of the certificate authority to trust, when SMTP_CA_FILE is set */
  ca: string | null;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);

function smtpConfig(e: z.infer<typeof EnvSchema>): SmtpConfig | null {
  const refuse = (message: string) => new ConfigError(`invalid configuration: ${message}`);
  if (!e.SMTP_HOST) {
    const stray = (['SMTP_PORT', 'SMTP_USER', 'SMTP_PASSWORD', 'SMTP_FROM', 'SMTP_CA_FILE'] as const).filter((k) => e[k] !== undefined);
    if (stray.length) throw refuse(`SMTP_HOST: must be set when ${stray.join(', ')} is (or unset those to turn alerts off)`);
    return null;
  }
  if (!e.SMTP_FROM) throw refuse('SMTP_FROM: must be set with SMTP_HOST (the address alerts are sent from)');
  if ((e.SMTP_USER === undefined) !== (e.SMTP_PASSWORD === undefined))
    throw refuse('SMTP_PASSWORD: SMTP_USER and SMTP_PASSWORD go together (set both, or neither for a server without AUTH)');
  if (e.SMTP_TLS === 'none' && !LOOPBACK_HOSTS.has(e.SMTP_HOST))
    throw refuse('SMTP_TLS: none is allowed only for an SMTP server on this machine (localhost); use starttls or implicit');
  let ca: string | null = null;
  if (e.SMTP_CA_FILE) {
    try {
      ca = fs.readFileSync(e.SMTP_CA_FILE, 'utf8');
    } catch (err) {
      throw refuse(`SMTP_CA_FILE: ${e.SMTP_CA_FILE} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw refuse(`SMTP_CA_FILE: ${e.SMTP_CA_FILE} is not a PEM certificate`);
  }
  return {
    host: e.SMTP_HOST,
    port: e.SMTP_PORT ?? (e.SMTP_TLS === 'implicit' ? 465 : 587),
    tls: e.SMTP_TLS,
    auth: e.SMTP_USER !== undefined && e.SMTP_PASSWORD !== undefined ? { user: e.SMTP_USER, password: e.SMTP_PASSWORD } : null,
    from: e.SMTP_FROM,
    ca,
  };
}

/** SQLite's `synchronous` pragma in write-ahead-log mode (server/db/database.ts). */
export type SqliteSynchronous = 'FULL' | 'NORMAL';

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  database: { client: 'sqlite'; filename: string; synchronous?: SqliteSynchronous } | { client: 'pg'; url: string };
  /** where the address key lives (see loadAddressKey) */
  addressKeyFile: string;
  /** where the server key lives (see loadServerKey) */
  serverKeyFile: string;
  /** where the matching escrow's OPRF key lives (see loadMatchingKey) */
  matchingKeyFile: string;
  matchingEvaluationsPerSurvivorPerDay: number;
  matchingEvaluationsPerDay: number;
  /** where the TOTP key lives, and the previous one while rotating (see loadTotpKeys) */
  totpKeyFile: string;
  totpPreviousKeyFile?: string;
  trustProxyHops: number;
  powBits: number;
  cookieSecure: boolean;
  staffSessionIdleMs: number;
  staffSessionAbsoluteMs: number;
  survivorSessionMs: number;
  inviteMs: number;
  rateLimitPerMinute: number;
  rateLimitSensitivePerMinute: number;
  rateLimitRecordsPerMinute: number;
  quickExitUrl: string;
  /** '' when the organisation names none */
  supportContacts: string;
  attachmentMaxFileBytes: number;
  attachmentMaxTestimonyBytes: number;
  /** the SMTP server for staff alerts; null when none is set (alerts are off) */
  smtp: SmtpConfig | null;
  alerts: { pauseMs: number; digestHourUtc: number; checkEveryMs: number };
}

const MB = 1024 * 1024;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.ATTACHMENT_MAX_TESTIMONY_MB < e.ATTACHMENT_MAX_FILE_MB) {
    throw new ConfigError(
      'invalid configuration: ATTACHMENT_MAX_TESTIMONY_MB: must be at least ATTACHMENT_MAX_FILE_MB, or no file of the largest size could be sent',
    );
  }
  const localHost = e.HOST === '0.0.0.0' || e.HOST === '127.0.0.1' || e.HOST === '::';
  // Its origin: the site address alone, as every link is built from it (siteUrl refused anything more).
  // An IPv6 HOST goes in brackets, or the default address would not be a URL at all.
  const hostInUrl = localHost ? 'localhost' : e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST;
  const publicUrl = e.PUBLIC_URL ? new URL(e.PUBLIC_URL).origin : `http://${hostInUrl}:${e.PORT}`;
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    database: e.DATABASE_URL
      ? { client: 'pg', url: e.DATABASE_URL }
      : { client: 'sqlite', filename: path.resolve(e.DATA_DIR, 'awaaz.sqlite3'), synchronous: e.SQLITE_SYNCHRONOUS },
    addressKeyFile: path.resolve(e.ADDRESS_KEY_FILE ?? path.join(e.DATA_DIR, 'address.key')),
    serverKeyFile: path.resolve(e.SERVER_KEY_FILE ?? path.join(e.DATA_DIR, 'server.key')),
    matchingKeyFile: path.resolve(e.MATCHING_KEY_FILE ?? path.join(e.DATA_DIR, 'matching.key')),
    matchingEvaluationsPerSurvivorPerDay: e.MATCHING_EVALUATIONS_PER_SURVIVOR_PER_DAY,
    matchingEvaluationsPerDay: e.MATCHING_EVALUATIONS_PER_DAY,
    totpKeyFile: path.resolve(e.TOTP_KEY_FILE ?? path.join(e.DATA_DIR, 'totp.key')),
    ...(e.TOTP_PREVIOUS_KEY_FILE ? { totpPreviousKeyFile: path.resolve(e.TOTP_PREVIOUS_KEY_FILE) } : {}),
    trustProxyHops: e.TRUST_PROXY_HOPS,
    powBits: e.POW_BITS,
    cookieSecure: e.COOKIE_SECURE ?? publicUrl.startsWith('https://'),
    staffSessionIdleMs: e.STAFF_SESSION_IDLE_MINUTES * 60_000,
    staffSessionAbsoluteMs: e.STAFF_SESSION_ABSOLUTE_HOURS * 3_600_000,
    survivorSessionMs: e.SURVIVOR_SESSION_MINUTES * 60_000,
    inviteMs: e.INVITE_HOURS * 3_600_000,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitSensitivePerMinute: e.RATE_LIMIT_SENSITIVE_PER_MINUTE,
    rateLimitRecordsPerMinute: e.RATE_LIMIT_RECORDS_PER_MINUTE,
    quickExitUrl: e.QUICK_EXIT_URL,
    supportContacts: e.SUPPORT_CONTACTS,
    attachmentMaxFileBytes: e.ATTACHMENT_MAX_FILE_MB * MB,
    attachmentMaxTestimonyBytes: e.ATTACHMENT_MAX_TESTIMONY_MB * MB,
    smtp: smtpConfig(e),
    alerts: { pauseMs: e.ALERT_PAUSE_MINUTES * 60_000, digestHourUtc: e.ALERT_DIGEST_HOUR_UTC, checkEveryMs: e.ALERT_CHECK_SECONDS * 1000 },
  };
}

/** 32 random bytes in base64url: the only content a key file may have (a final newline aside). */
const KEY_FILE_CONTENT = /^[A-Za-z0-9_-]{43}$/;

/**
 * The address key: rate-limit counters are keyed by HMACs of the client's address (or of a
 * survivor's or staff member's id) under a salt derived from it and the UTC day
 * (server/http/rate-limit.ts). It lives in a file and never in the database, so that a copy of
 * the database alone does not let anyone test guessed addresses against the counters.
 *
 * Made at first start (mode 0600, written under a temporary name and linked into place, so
 * that instances starting together all end up with the same key); refused, with a ConfigError
 * naming the file, when group or others may read or write it, or when it is not a key.
 * Several instances that share one database must share this file too.
 */
export function loadAddressKey(file: string): string {
  return readKeyFile(file, 'ADDRESS_KEY_FILE', KEY_FILE_CONTENT, `an address key (${KEY_FILE_WORDS})`, newKeyLine);
}

/**
 * The server key: it signs survivor session tokens and staff sign-in tickets
 * (server/http/tokens.ts) and keys the sign-in failure counters. A file, never the database:
 * with a copy of the database alone, nobody can make a token that the live server accepts
 * (and so act as a survivor: erase her testimonies, stop her sharing). Made at first start and
 * refused like the address key. Several instances that share one database must share this
 * file too, or a token one of them issued is refused by the others.
 */
export function loadServerKey(file: string): string {
  return readKeyFile(file, 'SERVER_KEY_FILE', KEY_FILE_CONTENT, `a server key (${KEY_FILE_WORDS})`, newKeyLine);
}

const KEY_FILE_WORDS = 'one line of 43 base64url characters: 32 random bytes';
const newKeyLine = () => crypto.randomBytes(32).toString('base64url');

/**
 * The TOTP keys: staff TOTP secrets are stored encrypted under `current`
 * (server/crypto/totp-sealing.ts), so a copy of the database alone does not give anyone the
 * codes. Made at first start like the address key, and refused the same way. `previous`
 * (TOTP_PREVIOUS_KEY_FILE, only while rotating) must exist: secrets under it are re-encrypted
 * under the current key at start. Several instances that share one database must share it.
 */
export function loadTotpKeys(config: Pick<Config, 'totpKeyFile' | 'totpPreviousKeyFile'>): { current: string; previous?: string } {
  const what = `a TOTP key (${KEY_FILE_WORDS})`;
  const current = readKeyFile(config.totpKeyFile, 'TOTP_KEY_FILE', KEY_FILE_CONTENT, what, newKeyLine);
  if (!config.totpPreviousKeyFile) return { current };
  return { current, previous: readKeyFile(config.totpPreviousKeyFile, 'TOTP_PREVIOUS_KEY_FILE', KEY_FILE_CONTENT, what) };
}

/** One line: the key's version, a space, and 32 random bytes in base64url (the OPRF key seed). */
const MATCHING_KEY = /^([1-9]\d{0,8}) ([A-Za-z0-9_-]{43})$/;

export interface MatchingKeyFile {
  version: number;
  /** 32 bytes: the OPRF key is derived from it (protocol/oprf.ts oprfKeyFromSeed) */
  seed: Uint8Array;
}

/**
 * The matching escrow's OPRF key (server/services/matching.ts): like the address key, a file
 * apart from the database, made at first start (version 1), refused when group or others may
 * read it. With the database alone nobody can test guessed identifiers against the stored
 * tags; with this file too they can (SECURITY.md "Matching escrow"). Rotation
 * (`npm run admin -- rotate-matching-key`) writes the next version: survivors' browsers
 * re-derive their tags under it on their next visit.
 */
export function loadMatchingKey(file: string): MatchingKeyFile {
  const line = readKeyFile(
    file,
    'MATCHING_KEY_FILE',
    MATCHING_KEY,
    'a matching key (one line: a version, a space, 43 base64url characters)',
    () => newMatchingKeyLine(1),
  );
  const [, version, seed] = MATCHING_KEY.exec(line)!;
  return { version: Number(version), seed: new Uint8Array(Buffer.from(seed, 'base64url')) };
}

function newMatchingKeyLine(version: number): string {
  return `${version} ${crypto.randomBytes(32).toString('base64url')}`;
}

/**
 * Replaces the matching key with a new random one of the next version (atomically: a new file
 * renamed over the old). Returns the new version. A missing file is refused, not made: a key
 * made here would be version 1 beside no server (the wrong DATA_DIR or MATCHING_KEY_FILE), and
 * "rotated" would be untrue.
 */
export function rotateMatchingKey(file: string): number {
  if (!fs.existsSync(file)) {
    throw new ConfigError(
      `invalid configuration: MATCHING_KEY_FILE: ${file} does not exist, so there is no key to rotate (nothing was written). Run the command with the DATA_DIR or MATCHING_KEY_FILE the server runs with; a server makes the key at its first start`,
    );
  }
  const next = loadMatchingKey(file).version + 1;
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(temporary, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${newMatchingKeyLine(next)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  return next;
}

/**
 * A key file's one line: made with `make()` when missing (refused when there is no `make`: a
 * previous key must exist), refused (naming the variable) when open to others or not of `pattern`.
 */
function readKeyFile(file: string, variable: string, pattern: RegExp, what: string, make?: () => string): string {
  const refuse = (why: string) => new ConfigError(`invalid configuration: ${variable}: ${file} ${why}`);
  if (!fs.existsSync(file)) {
    if (!make) throw refuse('does not exist');
    try {
      createKeyFile(file, make());
    } catch (e) {
      throw refuse(`does not exist and could not be made (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    throw refuse(`cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!stat.isFile()) throw refuse('is not a regular file');
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw refuse(`is open to group or others (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}); run \`chmod 600 ${file}\``);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw refuse(`cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const key = text.replace(/\r?\n$/, '');
  if (!pattern.test(key)) throw refuse(`is not ${what}${make ? '; delete it and a new one is made at start' : ''}`);
  return key;
}

/** Written under a temporary name and linked into place, so that instances starting together all end up with the same key. */
function createKeyFile(file: string, line: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(temporary, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${line}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(temporary, file); // fails if another instance made it first: theirs is kept
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.unlinkSync(temporary);
  }
}
