/** Public instance facts: id, signed keyset (pages compute the fingerprint from it), limits; and proof-of-work challenges. */
import { RECORD_BYTES, type SignedKeyset } from '../../protocol';
import type { InstanceInfo, PowChallenge } from '../../protocol/api';
import type { AppContext } from '../app';
import { issueChallenge } from './challenges';

export async function instanceInfo(ctx: AppContext): Promise<InstanceInfo> {
  const instance = await ctx.repos.instance.ensure(ctx.clock.today());
  const keyset = (await ctx.repos.keysets.current()) ?? null;
  return {
    instanceId: instance.instance_id,
    setupComplete: Boolean(instance.instance_pk),
    powBits: ctx.config.powBits,
    keyset,
    quickExitUrl: ctx.config.quickExitUrl,
    supportContacts: ctx.config.supportContacts,
    attachmentLimits: {
      fileBytes: ctx.config.attachmentMaxFileBytes,
      testimonyBytes: ctx.config.attachmentMaxTestimonyBytes,
      recordBytes: RECORD_BYTES,
    },
    retention: await ctx.repos.retention.periods(),
  };
}

/** All keysets, oldest first, so readers can verify the chain and trust past members' signatures. */
export async function keysetHistory(ctx: AppContext): Promise<{ keysets: SignedKeyset[] }> {
  return { keysets: await ctx.repos.keysets.history() };
}

export async function newPowChallenge(ctx: AppContext): Promise<PowChallenge> {
  const challenge = await issueChallenge(ctx, 'pow', ctx.config.powBits);
  return { challenge, bits: ctx.config.powBits };
}
