/**
 * Survivor routes. A survivor is known only by public keys and a random handle; their
 * browser proves possession of the codename-derived sign key and never sends a secret.
 */
import { Router } from 'express';
import nacl from 'tweetnacl';
import { checkPow, fromBase64url, keyId, readersOf, randomId, utcDay, verifyEnvelope, verifyLogin } from '../../protocol';
import { schemas, type SurvivorCase, type SurvivorSession } from '../../protocol/api';
import type { AppContext } from '../app';
import { nodeBackend } from '../crypto/node-backend';
import type { Db } from '../db/database';
import { requireSurvivor } from '../http/auth';
import { badRequest, conflict, HttpError, unauthorized } from '../http/errors';
import { issueSurvivorToken, randomToken } from '../http/tokens';
import { parseWith } from '../http/validate';
import { CHALLENGE_LIFETIME_MS } from './instance';

const HANDLE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'; // no 0/O or 1/I to misread

/** A random pseudonymous handle such as "S-7KQ2-M9XD": it says nothing about the survivor. */
export function newHandle(): string {
  const bytes = nacl.randomBytes(8);
  const chars = Array.from(bytes, (b) => HANDLE_ALPHABET[b & 31]).join('');
  return `S-${chars.slice(0, 4)}-${chars.slice(4)}`;
}

export function survivorRoutes(ctx: AppContext): Router {
  const router = Router();
  const { survivors, challenges, cases, keysets } = ctx.repos;
  const auth = requireSurvivor(ctx.serverSecret);

  async function session(survivorId: string, handle: string): Promise<SurvivorSession> {
    return { token: issueSurvivorToken(ctx.serverSecret, survivorId, ctx.config.survivorSessionMs), handle, expiresInSeconds: Math.floor(ctx.config.survivorSessionMs / 1000) };
  }

  /** Consumes a proof-of-work challenge inside the caller's transaction. */
  async function spendPow(trx: Db, pow: { challenge: string; nonce: number }): Promise<void> {
    const found = await challenges.consume(trx, pow.challenge, 'pow', Date.now());
    if (!found) throw badRequest('bad_pow', 'pow.challenge is unknown, expired or already used; ask for a new one');
    if (!checkPow(pow.challenge, pow.nonce, found.bits)) throw badRequest('bad_pow', 'pow.nonce does not solve the challenge');
  }

  router.post('/register', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.register, req.body);
    if (!verifyLogin(ctx.instanceId, body.pow.challenge, fromBase64url(body.sig), fromBase64url(body.signPk), nodeBackend)) {
      throw badRequest('bad_signature', 'sig is not a signature of the challenge by signPk');
    }
    if (await survivors.existsWithKeys(body.signPk, body.boxPk)) throw conflict('already_registered', 'this codename is already registered; log in instead');
    const survivor = { id: randomId(), handle: newHandle(), signPk: body.signPk, boxPk: body.boxPk };
    await ctx.db.transaction(async (trx) => {
      await spendPow(trx, body.pow);
      await survivors.insert(trx, survivor, utcDay());
    });
    res.status(201).json(await session(survivor.id, survivor.handle));
  });

  router.post('/challenge', ctx.limits.sensitive, async (req, res) => {
    parseWith(schemas.survivorChallenge, req.body);
    const challenge = randomToken(32);
    await challenges.create(challenge, 'login', 0, Date.now() + CHALLENGE_LIFETIME_MS);
    res.json({ challenge });
  });

  router.post('/session', ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.survivorSession, req.body);
    const survivor = await survivors.bySignPk(body.signPk);
    if (!(await challenges.peek(body.challenge, 'login', Date.now()))) throw unauthorized('the login challenge is unknown, expired or already used');
    if (!verifyLogin(ctx.instanceId, body.challenge, fromBase64url(body.sig), fromBase64url(body.signPk), nodeBackend)) throw unauthorized('the signature does not match');
    if (!survivor) throw unauthorized('no testimony was ever sent with this codename; check the words');
    // Spend the challenge only once everything else holds, so a rejected attempt writes nothing.
    const spent = await ctx.db.transaction((trx) => challenges.consume(trx, body.challenge, 'login', Date.now()));
    if (!spent) throw unauthorized('the login challenge is unknown, expired or already used');
    res.json(await session(survivor.id, survivor.handle));
  });

  router.get('/cases', auth, async (req, res) => {
    const list: SurvivorCase[] = await cases.listForSurvivor(req.survivorId!);
    res.json({ cases: list });
  });

  router.post('/cases', auth, ctx.limits.sensitive, async (req, res) => {
    const body = parseWith(schemas.submitCase, req.body);
    const survivor = await survivors.byId(req.survivorId!);
    if (!survivor) throw unauthorized('this survivor account no longer exists');
    const env = body.envelope;
    verifyEnvelope(env, [fromBase64url(survivor.signPk)], nodeBackend);

    const current = await keysets.current();
    if (!current) throw new HttpError(503, 'not_set_up', 'this instance has no staff keys yet');
    if (body.keysetVersion !== current.keyset.version) throw conflict('keyset_changed', `the keyset is now version ${current.keyset.version}; reload and encrypt again`);
    // The survivor's own key must be there (they read it back) and at least one moderator's;
    // any other recipient would be a reader the keyset does not name.
    const ownKid = keyId(fromBase64url(survivor.boxPk));
    const moderatorKids = new Set(readersOf(current.keyset).map(keyId));
    const kids = env.keys.map((k) => k.kid);
    if (new Set(kids).size !== kids.length) throw badRequest('invalid_request', 'envelope.keys lists a recipient twice');
    if (!kids.includes(ownKid)) throw badRequest('missing_recipient', "envelope.keys must include the survivor's own key");
    if (!kids.some((k) => moderatorKids.has(k))) throw badRequest('missing_recipient', 'envelope.keys must include at least one moderator');
    const stranger = kids.find((k) => k !== ownKid && !moderatorKids.has(k));
    if (stranger) throw badRequest('unknown_recipient', 'envelope.keys names a key that is not in the current keyset');
    if (await cases.exists(env.caseId)) throw conflict('case_exists', 'envelope.caseId is already used');

    const day = utcDay();
    await ctx.db.transaction(async (trx) => {
      await spendPow(trx, body.pow);
      await cases.insertWithEnvelope(trx, { id: env.caseId, survivorId: survivor.id, day }, env);
    });
    res.status(201).json({ caseId: env.caseId, status: 'new', createdDay: day });
  });

  return router;
}
