/**
 * What a survivor's browser does to name a phone number for one of her cases, over HTTP: blind
 * it, ask for the OPRF evaluation, finalize, derive the tag, seal the entry to the matching
 * counselors of the current keyset and herself, and keep it. `app` is the in-process app or a
 * running server's address. Shared by the matching tests that need many entries quickly.
 */
import request from 'supertest';
import { fromBase64url, readersOf, toBase64url } from '../../protocol';
import type { SignedKeyset } from '../../protocol/keyset';
import { matchTag, normalizeIdentifier, oprfInput, sealMatchEntry } from '../../protocol/matching';
import { oprfBlind, oprfFinalize } from '../../protocol/oprf';
import type { SurvivorActor } from './harness';

type App = Parameters<typeof request>[0];

/** Names the number for the case; returns the kept entry's id. */
export async function namePhoneOverApi(app: App, survivor: SurvivorActor, caseId: string, phone: string): Promise<string> {
  const identifier = normalizeIdentifier('phone', phone);
  const input = oprfInput(identifier);
  const { blind, blinded } = oprfBlind(input);
  const bearer = `Bearer ${survivor.token}`;
  const evaluated = await request(app)
    .post('/api/survivor/matching/evaluate')
    .set('Authorization', bearer)
    .send({ blinded: [toBase64url(blinded)] });
  if (evaluated.status !== 200) throw new Error(`evaluate: ${evaluated.status} ${evaluated.text}`);
  const tag = matchTag(oprfFinalize(input, blind, fromBase64url(evaluated.body.evaluated[0])));
  const keyVersion: number = evaluated.body.keyVersion;
  const keyset: SignedKeyset = (await request(app).get('/api/instance')).body.keyset;
  const counselors = readersOf(keyset.keyset, 'matching_counselor');
  const sealed = sealMatchEntry({ identifier, caseId, tag, keyVersion, recipients: [...counselors, survivor.keys.box.publicKey] });
  const kept = await request(app).post('/api/survivor/matching/entries').set('Authorization', bearer).send({ tag, keyVersion, sealed });
  if (kept.status !== 201) throw new Error(`keep: ${kept.status} ${kept.text}`);
  return kept.body.id;
}
