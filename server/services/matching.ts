/**
 * The matching escrow (DESIGN.md "Matching escrow", SECURITY.md "Matching escrow"). The
 * survivor's browser blinds a normalized identifier; the server evaluates the OPRF with its
 * key (a file, never in the database: server/config.ts loadMatchingKey) and stores only the
 * tag the browser derived, the entry it sealed to the matching counselors and herself, and
 * whose it is. A tag held under one key version by two distinct survivors is a match; the
 * counselors' browsers open the entries and check that the identifiers really are equal.
 *
 * Every evaluation lets its caller test one guessed identifier, so evaluations are counted per
 * survivor per UTC day and for everyone together, and refused beyond either limit.
 */
import type { z } from 'zod';
import { fromBase64url, keyId, randomId, readersOf, toBase64url } from '../../protocol';
import { MAX_MATCH_ENTRIES, type MatchEvaluation, type schemas, type StaffMatch, type SurvivorMatching } from '../../protocol/api';
import { oprfEvaluate } from '../../protocol/oprf';
import type { AppContext } from '../app';
import type { MatchEntryRecord } from '../db/matching-repo';
import type { StaffRecord } from '../db/staff-repo';
import type { SurvivorRecord } from '../db/survivor-repo';
import { badRequest, conflict, HttpError, notFound, unauthorized } from '../http/errors';
import { queueAlertIf } from './alerts';

type EntryBody = z.infer<typeof schemas.matchEntry>;

/** The OPRF key in use, and how an evaluation counter is named (set up once in createApp). */
export interface MatchingContext {
  keyVersion: number;
  secretKey: Uint8Array;
  /** a survivor's daily counter: her id hashed under the address key's daily salt (never her id) */
  survivorCounter(survivorId: string, day: string): string;
}

const OVERALL = 'all';

async function counselorKids(ctx: AppContext): Promise<Set<string>> {
  const current = await ctx.repos.keysets.current();
  return new Set(current ? readersOf(current.keyset, 'matching_counselor').map(keyId) : []);
}

/** Whether the entry is sealed to other matching counselors than those of the current keyset (one joined or left since). */
function sealedToOthers(sealed: MatchEntryRecord['sealed'], ownKid: string, counselors: Set<string>): boolean {
  const to = new Set(sealed.keys.map((k) => k.kid).filter((kid) => kid !== ownKid));
  return counselors.size > 0 && (to.size !== counselors.size || [...to].some((kid) => !counselors.has(kid)));
}

/**
 * The survivor a token names. Survivor tokens are stateless, so one still passes the guard after
 * "delete everything" erased its account: every matching route answers 401 then, as the
 * attachment routes do, rather than evaluating for nobody or failing on the missing keys.
 */
async function liveSurvivor(ctx: AppContext, survivorId: string): Promise<SurvivorRecord> {
  const survivor = await ctx.repos.survivors.byId(survivorId);
  if (!survivor) throw unauthorized('this survivor account no longer exists');
  return survivor;
}

export async function survivorMatching(ctx: AppContext, survivorId: string): Promise<SurvivorMatching> {
  const { matching } = ctx.repos;
  const survivor = await liveSurvivor(ctx, survivorId);
  const day = ctx.clock.today();
  const [entries, counselors, used] = await Promise.all([
    matching.ofSurvivor(survivorId),
    counselorKids(ctx),
    matching.evaluationsToday(ctx.matching.survivorCounter(survivorId, day), day),
  ]);
  const own = keyId(fromBase64url(survivor.boxPk));
  return {
    keyVersion: ctx.matching.keyVersion,
    counselors: counselors.size > 0,
    entries: entries.map((e) => ({
      id: e.id,
      tag: e.tag,
      keyVersion: e.keyVersion,
      createdDay: e.createdDay,
      sealed: e.sealed,
      reseal: sealedToOthers(e.sealed, own, counselors),
    })),
    evaluationsLeftToday: Math.max(0, ctx.config.matchingEvaluationsPerSurvivorPerDay - used),
  };
}

/** Evaluates each blinded element; counts them against today's limits in the same transaction (a refusal counts nothing). */
export async function evaluateBlinded(ctx: AppContext, survivorId: string, blinded: string[]): Promise<MatchEvaluation> {
  await liveSurvivor(ctx, survivorId);
  const evaluated = blinded.map((b, i) => {
    try {
      return toBase64url(oprfEvaluate(ctx.matching.secretKey, fromBase64url(b)));
    } catch {
      throw badRequest('invalid_request', `blinded[${i}]: is not a ristretto255 element`);
    }
  });
  const day = ctx.clock.today();
  await ctx.db.transaction(async (trx) => {
    const [mine, all] = await ctx.repos.matching.countEvaluations(
      trx,
      [ctx.matching.survivorCounter(survivorId, day), OVERALL],
      day,
      blinded.length,
    );
    if (mine > ctx.config.matchingEvaluationsPerSurvivorPerDay)
      throw new HttpError(
        429,
        'matching_limit',
        `at most ${ctx.config.matchingEvaluationsPerSurvivorPerDay} identifiers can be checked per survivor per day; try again tomorrow`,
      );
    if (all > ctx.config.matchingEvaluationsPerDay)
      throw new HttpError(429, 'matching_busy', 'this server has checked as many identifiers as it may today; try again tomorrow');
  });
  return { keyVersion: ctx.matching.keyVersion, evaluated };
}

/**
 * An entry must be readable by every current matching counselor and by nobody else but the
 * survivor herself (so that she can re-derive it after a key rotation).
 */
async function checkEntry(ctx: AppContext, survivor: SurvivorRecord, body: EntryBody): Promise<void> {
  if (body.keyVersion !== ctx.matching.keyVersion)
    throw conflict('stale_key', `keyVersion: the matching key is now version ${ctx.matching.keyVersion}; evaluate again`);
  const counselors = await counselorKids(ctx);
  if (counselors.size === 0) throw conflict('no_counselors', 'nobody holds the matching counselor role yet; no entry can be kept');
  const own = keyId(fromBase64url(survivor.boxPk));
  const kids = body.sealed.keys.map((k) => k.kid);
  if (new Set(kids).size !== kids.length) throw badRequest('bad_recipients', 'sealed.keys: a reader is listed twice');
  // Named by its place, not its value: an error message never repeats what the client sent.
  const stranger = kids.findIndex((kid) => kid !== own && !counselors.has(kid));
  if (stranger >= 0) throw badRequest('bad_recipients', `sealed.keys[${stranger}] is neither a matching counselor nor you`);
  const missing = [...counselors].filter((kid) => !kids.includes(kid));
  if (missing.length)
    throw badRequest('bad_recipients', `sealed.keys: the entry must be sealed to every matching counselor (missing ${missing.join(', ')})`);
}

export async function addEntry(ctx: AppContext, survivorId: string, body: EntryBody): Promise<{ id: string }> {
  const { matching } = ctx.repos;
  const survivor = await liveSurvivor(ctx, survivorId);
  await checkEntry(ctx, survivor, body);
  const record: MatchEntryRecord = {
    id: randomId(),
    survivorId,
    tag: body.tag,
    keyVersion: body.keyVersion,
    sealed: body.sealed,
    createdDay: ctx.clock.today(),
  };
  await ctx.db.transaction(async (trx) => {
    if ((await matching.countOfSurvivor(trx, survivorId)) >= MAX_MATCH_ENTRIES)
      throw conflict('too_many_identifiers', `at most ${MAX_MATCH_ENTRIES} identifiers can be kept per survivor; withdraw one first`);
    await matching.lockTag(trx, record.tag, record.keyVersion);
    await matching.insert(trx, record);
    // The counselors who chose alerts are told that a match waits (nothing more). One statement
    // that runs whether or not there is a match, so her request cannot tell whether there was.
    await queueAlertIf(ctx, trx, 'match', matching.heldByAnother(trx, record.tag, record.keyVersion, survivorId));
  });
  return { id: record.id };
}

export async function ownEntry(ctx: AppContext, survivorId: string, entryId: string): Promise<MatchEntryRecord> {
  await liveSurvivor(ctx, survivorId);
  const entry = await ctx.repos.matching.ownEntry(survivorId, entryId);
  if (!entry) throw notFound('no such identifier of yours');
  return entry;
}

/**
 * The same identifier sealed again: after a key rotation, evaluated again under the new key;
 * or, under the current key with the same tag, sealed to the matching counselors as they are
 * now (one was added or left since).
 */
export async function replaceEntry(ctx: AppContext, survivorId: string, entry: MatchEntryRecord, body: EntryBody): Promise<void> {
  const survivor = await liveSurvivor(ctx, survivorId);
  const reseal =
    entry.keyVersion === ctx.matching.keyVersion &&
    body.keyVersion === entry.keyVersion &&
    body.tag === entry.tag &&
    sealedToOthers(entry.sealed, keyId(fromBase64url(survivor.boxPk)), await counselorKids(ctx));
  if (entry.keyVersion >= ctx.matching.keyVersion && !reseal)
    throw conflict(
      'not_stale',
      'this identifier is already kept under the current key and sealed to the current matching counselors; withdraw it and add it again to change it',
    );
  await checkEntry(ctx, survivor, body);
  await ctx.erase(async (trx) => {
    await ctx.repos.matching.lockTag(trx, body.tag, body.keyVersion);
    await ctx.repos.matching.replace(trx, entry.id, { tag: body.tag, keyVersion: body.keyVersion, sealed: body.sealed });
    // Derived again under a new key, it may match now: as for a new entry, the alert's statement
    // runs whether or not it does. Sealing again changes who can open it, not whether it
    // matches (counselors were told already): her own entry and request say so, not the others'.
    if (!reseal) await queueAlertIf(ctx, trx, 'match', ctx.repos.matching.heldByAnother(trx, body.tag, body.keyVersion, survivorId));
  });
}

/** Withdrawing erases the entry (no copy left in the database files): the tag no longer matches. */
export async function withdrawEntry(ctx: AppContext, entry: MatchEntryRecord): Promise<void> {
  await ctx.erase((trx) => ctx.repos.matching.remove(trx, entry.id));
}

/**
 * Tags held by two or more distinct survivors, each with its entries, for the counselors'
 * browsers to open. Logged in the audit log: who looked, and how many matches there were.
 */
export async function listMatches(ctx: AppContext, me: StaffRecord): Promise<{ matches: StaffMatch[] }> {
  const matches: StaffMatch[] = [];
  for (const e of await ctx.repos.matching.matches()) {
    let last = matches[matches.length - 1];
    if (!last || last.tag !== e.tag || last.keyVersion !== e.keyVersion) {
      last = { tag: e.tag, keyVersion: e.keyVersion, entries: [] };
      matches.push(last);
    }
    last.entries.push({ id: e.id, handle: e.handle, createdDay: e.createdDay, sealed: e.sealed });
  }
  await ctx.repos.audit.record(ctx.db, { actorId: me.id, action: 'matching.listed', detail: { matches: matches.length } });
  return { matches };
}
