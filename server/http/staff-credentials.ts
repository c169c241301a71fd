/**
 * How the server keeps a staff member's login secrets: argon2id (OWASP parameters) of the
 * authKey that the browser derives from the password (the password itself never arrives),
 * SHA-256 of the high-entropy recovery codes, and the throttling policy for failed sign-ins.
 *
 * argon2 runs in libuv's thread pool, which SQLite's queries share. Unbounded, a flood of
 * sign-ins would fill every pool thread with argon2 and queue each database query behind
 * them, stalling every other request (bench/login.ts measured a p99 of 700 ms for a cheap
 * endpoint that way). So at most ARGON2_CONCURRENCY hashes run at once (one pool thread is
 * always left for the database, one CPU for the event loop) and the rest wait here, in
 * JavaScript, where a waiting hash costs nothing; beyond ARGON2_QUEUE_LIMIT waiting, a
 * sign-in is refused with 503 rather than queued without bound.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import argon2 from 'argon2';
import { fromBase64url } from '../../protocol';
import { HttpError } from './errors';
import { base32Encode } from './totp';

export const AUTH_HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

/** libuv's pool size: UV_THREADPOOL_SIZE (read by libuv when the pool starts), 4 by default */
export const THREADPOOL_SIZE = Math.max(1, Math.min(1024, Number(process.env.UV_THREADPOOL_SIZE) || 4));
/**
 * argon2 jobs at once: one pool thread stays free for SQLite, and one CPU for the event loop
 * (on a 2-CPU machine, one job at a time: bench/login.ts measured the cheap endpoint's p50 at
 * a third and its p99 at about half of what two jobs give, for half the logins per second).
 */
export const ARGON2_CONCURRENCY = Math.max(1, Math.min(THREADPOOL_SIZE - 1, os.availableParallelism() - 1));
export const ARGON2_QUEUE_LIMIT = 256;

const argon2Busy = () => new HttpError(503, 'busy', 'the server is busy with sign-ins; try again in a moment');

/** Whether an error is withArgon2Slot's refusal: the job never ran (nothing was verified). */
export function isArgon2Busy(e: unknown): boolean {
  return e instanceof HttpError && e.status === 503 && e.code === 'busy';
}

let running = 0;
const waiting: (() => void)[] = [];

/** Runs an argon2 job when a slot is free (see the header of this file). */
export async function withArgon2Slot<T>(job: () => Promise<T>): Promise<T> {
  if (running >= ARGON2_CONCURRENCY) {
    if (waiting.length >= ARGON2_QUEUE_LIMIT) throw argon2Busy();
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running++;
  }
  try {
    return await job();
  } finally {
    // Hand the slot straight to the next waiter (running stays the same), or free it.
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** How many argon2 jobs run and wait right now (for the benchmark's report). */
export function argon2Load(): { running: number; waiting: number } {
  return { running, waiting: waiting.length };
}

export function hashAuthKey(authKey: string): Promise<string> {
  return withArgon2Slot(() => argon2.hash(Buffer.from(fromBase64url(authKey)), AUTH_HASH_OPTIONS));
}

export function verifyAuthKey(hash: string, authKey: string): Promise<boolean> {
  return withArgon2Slot(() => argon2.verify(hash, Buffer.from(fromBase64url(authKey))));
}

// Recovery codes ------------------------------------------------------------------------------

export const RECOVERY_CODE_COUNT = 10;

/** A new recovery code: 100 random bits as 20 base32 characters, shown as XXXXX-XXXXX-XXXXX-XXXXX. */
export function newRecoveryCode(): string {
  const text = base32Encode(crypto.randomBytes(13)).slice(0, 20);
  return text.replace(/(.{5})(?=.)/g, '$1-');
}

/** The stored form: SHA-256 of the code without dashes or spaces, upper case (100 bits need no slow hash). */
export function recoveryCodeHash(code: string): string {
  return crypto
    .createHash('sha256')
    .update(`awaaz/v1/recovery\n${code.replace(/[\s-]/g, '').toUpperCase()}`)
    .digest('base64url');
}

// Throttling failed sign-ins per account -------------------------------------------------------

export const LOGIN_LOCK = {
  /** consecutive failures before the account locks */
  threshold: 5,
  /** the first lock; each further failure doubles it */
  firstMs: 30_000,
  maxMs: 15 * 60_000,
  /** failures older than this are forgotten (the count starts again) */
  forgetAfterMs: 24 * 3_600_000,
} as const;

/** How long the account locks after this many consecutive failures (0: not locked). */
export function lockDelayMs(failures: number): number {
  if (failures < LOGIN_LOCK.threshold) return 0;
  return Math.min(LOGIN_LOCK.maxMs, LOGIN_LOCK.firstMs * 2 ** Math.min(20, failures - LOGIN_LOCK.threshold));
}

/**
 * lockDelayMs as a table, for the statement that counts a failure and sets the lock at once
 * (server/db/staff-security-repo.ts `reserveLoginAttempt`): entry n - 1 is the lock after n
 * failures, and the last entry (the longest lock) holds for every count beyond.
 */
export const LOGIN_LOCK_SCHEDULE: readonly number[] = (() => {
  const schedule = [lockDelayMs(1)];
  while (schedule[schedule.length - 1] < LOGIN_LOCK.maxMs) schedule.push(lockDelayMs(schedule.length + 1));
  return schedule;
})();
