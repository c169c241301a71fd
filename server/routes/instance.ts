/** Public instance facts: id, signed keyset (pages compute the fingerprint from it); and proof-of-work challenges. */
import { Router } from 'express';
import { RECORD_BYTES } from '../../protocol';
import type { InstanceInfo, PowChallenge } from '../../protocol/api';
import type { AppContext } from '../app';
import { CHALLENGE_LIFETIME_MS } from '../services/challenges';
import { randomToken } from '../http/tokens';
import { EmptyBody, parseWith } from '../http/validate';


export function instanceRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/instance', async (_req, res) => {
    const instance = await ctx.repos.instance.ensure(ctx.clock.today());
    const keyset = (await ctx.repos.keysets.current()) ?? null;
    const info: InstanceInfo = {
      instanceId: instance.instance_id,
      setupComplete: Boolean(instance.instance_pk),
      powBits: ctx.config.powBits,
      keyset,
      quickExitUrl: ctx.config.quickExitUrl,
      supportContacts: ctx.config.supportContacts,
      attachmentLimits: { fileBytes: ctx.config.attachmentMaxFileBytes, testimonyBytes: ctx.config.attachmentMaxTestimonyBytes, recordBytes: RECORD_BYTES },
    };
    res.json(info);
  });

  /** All keysets, oldest first, so readers can verify the chain and trust past members' signatures. */
  router.get('/keysets', async (_req, res) => {
    res.json({ keysets: await ctx.repos.keysets.history() });
  });

  router.post('/pow', ctx.limits.sensitive, async (req, res) => {
    parseWith(EmptyBody, req.body);
    const challenge = randomToken(32);
    await ctx.repos.challenges.create(challenge, 'pow', ctx.config.powBits, ctx.clock.now() + CHALLENGE_LIFETIME_MS);
    const body: PowChallenge = { challenge, bits: ctx.config.powBits };
    res.json(body);
  });

  return router;
}
