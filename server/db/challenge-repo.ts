/**
 * Single-use challenges for survivor login and proof of work. A row is deleted when used, so
 * a replay finds nothing; rows never name a survivor.
 */
import { rowsOf, type Db } from './database';

export type ChallengePurpose = 'login' | 'pow';

export interface StoredChallenge {
  challenge: string;
  purpose: ChallengePurpose;
  bits: number;
  expiresAt: number;
}

export function challengeRepo(db: Db) {
  return {
    async create(challenge: string, purpose: ChallengePurpose, bits: number, expiresAt: number): Promise<void> {
      await db('challenges').insert({ challenge, purpose, bits, expires_at: expiresAt });
    },
    /** Deletes and returns the challenge if it exists, is of this purpose and has not expired. */
    async consume(trx: Db, challenge: string, purpose: ChallengePurpose, now: number): Promise<{ bits: number } | undefined> {
      const [row] = rowsOf<{ bits: number | string; expires_at: number | string }>(
        await trx.raw('DELETE FROM challenges WHERE challenge = ? AND purpose = ? RETURNING bits, expires_at', [challenge, purpose]),
      );
      if (!row || Number(row.expires_at) <= now) return undefined;
      return { bits: Number(row.bits) };
    },
    /**
     * The batch form of consume (server/services/survivors.ts `openCases`): deletes these
     * challenges of this purpose and returns what each was (expired ones too: the caller tells
     * them apart, and puts back with `restore` what it refuses, so a refused request writes nothing).
     */
    async consumeMany(trx: Db, challenges: string[], purpose: ChallengePurpose): Promise<Map<string, StoredChallenge>> {
      if (challenges.length === 0) return new Map();
      const sorted = [...new Set(challenges)].sort();
      const rows = rowsOf<{ challenge: string; bits: number | string; expires_at: number | string }>(
        await trx.raw(
          `DELETE FROM challenges WHERE purpose = ? AND challenge IN (${sorted.map(() => '?').join(', ')}) RETURNING challenge, bits, expires_at`,
          [purpose, ...sorted],
        ),
      );
      return new Map(
        rows.map((r) => [r.challenge, { challenge: r.challenge, purpose, bits: Number(r.bits), expiresAt: Number(r.expires_at) }]),
      );
    },
    /** Puts back challenges that consumeMany took for requests that were then refused. */
    async restore(trx: Db, rows: StoredChallenge[]): Promise<void> {
      if (rows.length === 0) return;
      await trx('challenges').insert(
        rows.map((r) => ({ challenge: r.challenge, purpose: r.purpose, bits: r.bits, expires_at: r.expiresAt })),
      );
    },
    async peek(challenge: string, purpose: ChallengePurpose, now: number): Promise<{ bits: number } | undefined> {
      const row = await db('challenges').where({ challenge, purpose }).where('expires_at', '>', now).first();
      return row && { bits: Number(row.bits) };
    },
    /** Deletes the expired challenges (the sweeper runs it in an erasure, server/sweeper.ts). Returns how many. */
    async purgeExpired(trx: Db, now: number): Promise<number> {
      return Number(await trx('challenges').where('expires_at', '<=', now).delete());
    },
  };
}
export type ChallengeRepo = ReturnType<typeof challengeRepo>;
