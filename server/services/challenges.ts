/**
 * Single-use challenges: proof of work (answered when a survivor registers or sends a
 * testimony) and survivor login (signed by the codename's sign key).
 */
import { checkPow } from '../../protocol';
import type { AppContext } from '../app';
import type { ChallengePurpose } from '../db/challenge-repo';
import type { Db } from '../db/database';
import { badRequest } from '../http/errors';
import { randomToken } from '../http/tokens';

/** How long a proof-of-work or login challenge may be answered. */
export const CHALLENGE_LIFETIME_MS = 5 * 60_000;

/** A fresh random challenge, stored until it is answered or expires. */
export async function issueChallenge(ctx: AppContext, purpose: ChallengePurpose, bits: number): Promise<string> {
  const challenge = randomToken(32);
  await ctx.repos.challenges.create(challenge, purpose, bits, ctx.clock.now() + CHALLENGE_LIFETIME_MS);
  return challenge;
}

/** Consumes a proof-of-work challenge inside the caller's transaction. */
export async function spendPow(ctx: AppContext, trx: Db, pow: { challenge: string; nonce: number }): Promise<void> {
  const found = await ctx.repos.challenges.consume(trx, pow.challenge, 'pow', ctx.clock.now());
  if (!found) throw badRequest('bad_pow', 'pow.challenge is unknown, expired or already used; ask for a new one');
  if (!checkPow(pow.challenge, pow.nonce, found.bits)) throw badRequest('bad_pow', 'pow.nonce does not solve the challenge');
}
