/**
 * A third party's client, written from docs/api.md alone, publishes a story with consent end
 * to end: sharing with a grant (2.11, `POST …/sharing`), a draft envelope (2.9, 2.10), the
 * story hash and the consent and revocation statements (2.14), publication and revocation
 * (3, 4.9). Everything under test is built here from the documented byte layouts with
 * tweetnacl and node:crypto: canonical JSON, base64url, padding, sealing, opening, digests,
 * hashes and signatures. protocol/ is not imported; the harness (which uses it) only sets up
 * staff and a survivor with a testimony, the parts a client from the document already
 * interoperated for. The same code also reproduces the publishing-v1.json vectors (2.12).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- a third-party client reads the server's JSON untyped, as docs/api.md describes it: typing it with protocol/ would defeat the test */
import { createHash } from 'node:crypto';
import request from 'supertest';
import nacl from 'tweetnacl';
import vectors from '../vectors/publishing-v1.json';
import {
  addStaff,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  submitTestimony,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';

// ---- The third party's library, from docs/api.md -------------------------------------------

/** 1.2: base64url without padding, decoded strictly (one spelling per byte string). */
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
function unb64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error(`not base64url: ${text}`);
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
  if (b64(bytes) !== text) throw new Error(`not canonical base64url: ${text}`);
  return bytes;
}
const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));
const sha512 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha512').update(bytes).digest());
const sha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest());
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const today = (): string => new Date().toISOString().slice(0, 10);

/** 2.2: keys sorted, no whitespace, undefined dropped, strings as JSON.stringify writes them. */
function canonical(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error('only safe integers');
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  throw new Error(`cannot sign ${typeof value}`);
}

/** 2.9 step 2: Padmé over the 4-byte length prefix and the plaintext. */
function padme(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const z = e - s;
  return Math.ceil(length / 2 ** z) * 2 ** z;
}
function pad(plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(padme(4 + plaintext.length));
  new DataView(out.buffer).setUint32(0, plaintext.length);
  out.set(plaintext, 4);
  return out;
}
function unpad(padded: Uint8Array): Uint8Array {
  const length = new DataView(padded.buffer, padded.byteOffset).getUint32(0);
  if (4 + length > padded.length || padded.length !== padme(4 + length) || padded.subarray(4 + length).some((b) => b !== 0))
    throw new Error('bad padding');
  return padded.subarray(4, 4 + length);
}

interface KeyEntry {
  kid: string;
  epk?: string;
  wrapped?: string;
  digest?: string;
}
interface Env {
  v: 1;
  alg: string;
  kind: string;
  caseId: string;
  prev?: string;
  ciphertext: string;
  keys: KeyEntry[];
  signer: string;
  sig: string;
}
interface Grant {
  v: 1;
  envelopeHash: string;
  kid: string;
  epk: string;
  wrapped: string;
  granter: string;
  sig: string;
}

const kidOf = (boxPk: Uint8Array): string => b64(sha512(boxPk).subarray(0, 16));
const digestOf = (k: KeyEntry): string =>
  k.epk === undefined || k.wrapped === undefined
    ? k.digest!
    : b64(sha512(utf8(canonical({ kid: k.kid, epk: k.epk, wrapped: k.wrapped }))).subarray(0, 32));
/** 2.9 step 5 */
const signedPartOf = (env: Omit<Env, 'alg' | 'signer' | 'sig'>): string =>
  canonical({
    v: env.v,
    kind: env.kind,
    caseId: env.caseId,
    prev: env.prev,
    ciphertextHash: b64(sha512(unb64(env.ciphertext))),
    keys: env.keys.map((k) => ({ kid: k.kid, digest: digestOf(k) })),
  });
const hashOf = (env: Env): string => b64(sha512(utf8(signedPartOf(env))));
const verifySig = (message: string, sig: string, pk: string): boolean => nacl.sign.detached.verify(utf8(message), unb64(sig), unb64(pk));

/** 2.9, sealing */
function seal(kind: string, caseId: string, body: Record<string, unknown>, recipients: Uint8Array[], signer: nacl.SignKeyPair): Env {
  const plaintext = utf8(JSON.stringify({ ...body, v: 1, kind, caseId }));
  const key = nacl.randomBytes(32);
  const nonce = nacl.randomBytes(24);
  const ciphertext = b64(concat(nonce, nacl.secretbox(pad(plaintext), nonce, key)));
  const ephemeral = nacl.box.keyPair();
  const keys = recipients.map((pk) => {
    const wrapNonce = nacl.randomBytes(24);
    return {
      kid: kidOf(pk),
      epk: b64(ephemeral.publicKey),
      wrapped: b64(concat(wrapNonce, nacl.box(key, wrapNonce, pk, ephemeral.secretKey))),
    };
  });
  const unsigned = { v: 1 as const, kind, caseId, ciphertext, keys };
  const sig = b64(nacl.sign.detached(utf8(signedPartOf(unsigned)), signer.secretKey));
  return { ...unsigned, alg: 'x25519-xsalsa20poly1305-ed25519-padme', signer: b64(signer.publicKey), sig };
}

/** 2.9 step 3: the content key, from one's own complete entry or from a grant (verified by the caller). */
function contentKey(env: Env, box: nacl.BoxKeyPair, grants: Grant[] = []): Uint8Array {
  const kid = kidOf(box.publicKey);
  const entry = env.keys.find((k) => k.kid === kid && k.wrapped !== undefined) ?? grants.find((g) => g.kid === kid);
  if (!entry) throw new Error('not a recipient');
  const wrapped = unb64(entry.wrapped!);
  const key = nacl.box.open(wrapped.subarray(24), wrapped.subarray(0, 24), unb64(entry.epk!), box.secretKey);
  if (!key) throw new Error('the wrapped key does not open');
  return key;
}

/** 2.9, opening: signer trusted, signature, kind and case, key, ciphertext, padding, plaintext. */
function open(
  env: Env,
  expect: { kind: string; caseId: string; signers: string[] },
  box: nacl.BoxKeyPair,
  grants: Grant[] = [],
): Record<string, any> {
  if (env.v !== 1 || env.alg !== 'x25519-xsalsa20poly1305-ed25519-padme') throw new Error('unsupported envelope');
  if (!expect.signers.includes(env.signer)) throw new Error('untrusted signer');
  if (!verifySig(signedPartOf(env), env.sig, env.signer)) throw new Error('bad envelope signature');
  if (env.kind !== expect.kind || env.caseId !== expect.caseId) throw new Error('wrong context');
  const ciphertext = unb64(env.ciphertext);
  const padded = nacl.secretbox.open(ciphertext.subarray(24), ciphertext.subarray(0, 24), contentKey(env, box, grants));
  if (!padded) throw new Error('does not decrypt');
  const body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(unpad(padded)));
  if (body.v !== 1 || body.kind !== env.kind || body.caseId !== env.caseId) throw new Error('plaintext names another context');
  return body;
}

/** 2.11: the envelope's key re-wrapped to `recipient`, signed by the granter. */
function grant(env: Env, box: nacl.BoxKeyPair, recipient: Uint8Array, granter: nacl.SignKeyPair): Grant {
  const key = contentKey(env, box);
  const ephemeral = nacl.box.keyPair();
  const nonce = nacl.randomBytes(24);
  const unsigned = {
    v: 1 as const,
    envelopeHash: hashOf(env),
    kid: kidOf(recipient),
    epk: b64(ephemeral.publicKey),
    wrapped: b64(concat(nonce, nacl.box(key, nonce, recipient, ephemeral.secretKey))),
  };
  const sig = b64(nacl.sign.detached(utf8('awaaz/v1/grant\n' + canonical(unsigned)), granter.secretKey));
  return { ...unsigned, granter: b64(granter.publicKey), sig };
}
function verifyGrant(g: Grant, env: Env, trusted: string[]): void {
  if (!trusted.includes(g.granter)) throw new Error('untrusted granter');
  if (g.envelopeHash !== hashOf(env)) throw new Error('grant for another envelope');
  if (
    !verifySig(
      'awaaz/v1/grant\n' + canonical({ v: g.v, envelopeHash: g.envelopeHash, kid: g.kid, epk: g.epk, wrapped: g.wrapped }),
      g.sig,
      g.granter,
    )
  )
    throw new Error('bad grant signature');
}

/** 2.14 */
interface Story {
  title: string;
  text: string;
  context: string;
}
const storyHashOf = (s: Story): string => b64(sha256(utf8(canonical({ v: 1, title: s.title, text: s.text, context: s.context }))));
function signStatement(statement: Record<string, unknown> & { type: string }, signer: nacl.SignKeyPair): string {
  return b64(nacl.sign.detached(utf8(`awaaz/v1/${statement.type}\n` + canonical(statement)), signer.secretKey));
}

// ---- The library against the published vectors (2.12) --------------------------------------

describe("the third party's library reproduces the publishing vectors", () => {
  test('keysets, envelope signed parts, digests and hashes, the erased envelope, the grant', () => {
    for (const k of vectors.keysets) {
      expect(canonical(k.signed.keyset)).toBe(k.canonicalJson);
      expect(b64(sha512(utf8(canonical(k.signed.keyset))))).toBe(k.keysetHash);
      expect(verifySig('awaaz/v1/keyset\n' + canonical(k.signed.keyset), k.signed.sig, k.signed.instancePk)).toBe(true);
    }
    for (const v of [vectors.testimony, vectors.message, vectors.draft]) {
      const env = v.envelope as Env;
      expect(signedPartOf(env)).toBe(v.signedPart);
      expect(env.keys.map(digestOf)).toEqual(v.keyDigests);
      expect(hashOf(env)).toBe(v.envelopeHash);
      expect(verifySig(v.signedPart, env.sig, env.signer)).toBe(true);
    }
    expect(hashOf(vectors.testimony.erasedEnvelope as Env)).toBe(vectors.testimony.envelopeHash);
    verifyGrant(vectors.grant.grant as Grant, vectors.testimony.envelope as Env, [vectors.keys.survivor.signPk]);
    const advocateBox = nacl.box.keyPair.fromSecretKey(Buffer.from(vectors.keys.advocate.boxSecretKeyHex, 'hex'));
    const body = open(
      vectors.testimony.envelope as Env,
      { kind: 'testimony', caseId: vectors.ids.caseId, signers: [vectors.keys.survivor.signPk] },
      advocateBox,
      [vectors.grant.grant as Grant],
    );
    expect(body).toEqual(JSON.parse(vectors.testimony.plaintext));
  });

  test('the story hash and the consent and revocation signatures', () => {
    expect(storyHashOf(vectors.story.story)).toBe(vectors.story.textHash);
    const survivorSign = nacl.sign.keyPair.fromSeed(Buffer.from(vectors.keys.survivor.signSeedHex, 'hex'));
    expect(signStatement(vectors.consent.statement, survivorSign)).toBe(vectors.consent.sig);
    expect(signStatement(vectors.revocation.statement, survivorSign)).toBe(vectors.revocation.sig);
  });
});

// ---- The library against the server ---------------------------------------------------------

let t: TestServer;
let admin: StaffActor;
let advocate: StaffActor;
let survivor: SurvivorActor;
let caseId: string;
beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t, ['admin', 'moderator']);
  advocate = await addStaff(t, admin, 'adv.third', 'advocate');
  survivor = await registerSurvivor(t);
  const submitted = await submitTestimony(t, survivor, 'What happened, in my own words.');
  expect(submitted.res.status).toBe(201);
  caseId = submitted.res.body.caseId;
});
afterAll(() => t.close());

const bearer = () => `Bearer ${survivor.token}`;
const survivorGet = (path: string) => request(t.app).get(path).set('Authorization', bearer());
const survivorPost = (path: string, body: object) => request(t.app).post(path).set('Authorization', bearer()).send(body);

/** 2.7, 2.8: the newest keyset, its signature checked, and every signing key of the history. */
async function keysets(): Promise<{ version: number; members: { roles: string[]; boxPk: string; signPk: string }[]; signers: string[] }> {
  const { keysets: history } = (await request(t.app).get('/api/keysets')).body as {
    keysets: { keyset: any; instancePk: string; sig: string }[];
  };
  for (const [i, k] of history.entries()) {
    expect(verifySig('awaaz/v1/keyset\n' + canonical(k.keyset), k.sig, k.instancePk)).toBe(true);
    expect(k.instancePk).toBe(history[0].instancePk);
    if (i > 0) expect(k.keyset.prev).toBe(b64(sha512(utf8(canonical(history[i - 1].keyset)))));
  }
  const newest = history[history.length - 1].keyset;
  return {
    version: newest.version,
    members: newest.members,
    signers: history.flatMap((k) => k.keyset.members.map((m: { signPk: string }) => m.signPk)),
  };
}

test('a client written from docs/api.md alone publishes a story with consent, and revokes it', async () => {
  const survivorSignPk = b64(survivor.keys.sign.publicKey);
  const ks = await keysets();
  const moderators = ks.members.filter((m) => m.roles.includes('moderator'));
  const advocates = ks.members.filter((m) => m.roles.includes('advocate') && !m.roles.includes('moderator'));
  expect(advocates.map((m) => m.signPk)).toEqual([b64(advocate.sign.publicKey)]);

  // The survivor opens the case to advocates: the testimony's key granted to each (4.9 step 1).
  const cases = (await survivorGet('/api/survivor/cases')).body.cases;
  const testimony = cases[0].thread[0].envelope as Env;
  expect(open(testimony, { kind: 'testimony', caseId, signers: [survivorSignPk] }, survivor.keys.box).testimony.what).toBe(
    'What happened, in my own words.',
  );
  const grants = advocates.map((a) => grant(testimony, survivor.keys.box, unb64(a.boxPk), survivor.keys.sign));
  const sharing = { advocatesMayRead: true, statistics: { context: 'workplace' } };
  const shared = await survivorPost(`/api/survivor/cases/${caseId}/sharing`, { sharing, keysetVersion: ks.version, grants });
  expect([shared.status, shared.body]).toEqual([200, { sharing }]);

  // The advocate reads the testimony through the grant and proposes a draft (steps 2-4).
  const detail = await advocate.agent.get(`/api/staff/publishing/${caseId}`);
  expect(detail.status).toBe(200);
  expect(detail.body.survivorSignPk).toBe(survivorSignPk);
  const got = detail.body.testimony as { envelope: Env; grants: Grant[] };
  for (const g of got.grants) verifyGrant(g, got.envelope, [detail.body.survivorSignPk]);
  const read = open(got.envelope, { kind: 'testimony', caseId, signers: [detail.body.survivorSignPk] }, advocate.box, got.grants);
  expect(read.testimony.what).toBe('What happened, in my own words.');
  expect(got.envelope.keys.map((k) => k.kid)).toContain(kidOf(unb64(detail.body.survivorBoxPk)));

  const story: Story = {
    title: 'Words I chose',
    text: `${read.testimony.what}\nاردو میں بھی۔ "Quoted" and \\ kept.`,
    context: 'workplace',
  };
  const draftId = b64(nacl.randomBytes(16));
  const readers = [detail.body.survivorBoxPk, ...moderators.map((m) => m.boxPk), ...advocates.map((m) => m.boxPk)].map(unb64);
  const draft = seal('draft', caseId, { draft: { draftId, ...story } }, readers, advocate.sign);
  const proposed = await advocate.agent
    .post(`/api/staff/cases/${caseId}/drafts`)
    .send({ draftId, envelope: draft, keysetVersion: ks.version });
  expect([proposed.status, proposed.body]).toEqual([201, { draftId, version: 1, status: 'proposed' }]);

  // The survivor reads the draft and signs a consent to its exact words (steps 5, 7).
  const mine = (await survivorGet('/api/survivor/cases')).body.cases[0];
  expect(mine.sharing).toEqual(sharing);
  expect(mine.drafts).toHaveLength(1);
  const listed = mine.drafts[0];
  expect(listed).toMatchObject({ draftId, version: 1, status: 'proposed', publication: null });
  const opened = open(listed.item.envelope as Env, { kind: 'draft', caseId, signers: ks.signers }, survivor.keys.box);
  expect(opened.draft.draftId).toBe(listed.draftId);
  const seen: Story = { title: opened.draft.title, text: opened.draft.text, context: opened.draft.context };
  expect(seen).toEqual(story);
  const consent = { v: 1, type: 'publish', caseId, draftId, textHash: storyHashOf(seen), issuedDay: today() };
  const approved = await survivorPost(`/api/survivor/cases/${caseId}/drafts/${draftId}/consent`, {
    statement: consent,
    sig: signStatement(consent, survivor.keys.sign),
  });
  expect([approved.status, approved.body]).toEqual([201, { status: 'approved' }]);

  // The advocate publishes: a changed story is refused, the exact one goes on the wall (step 8).
  const altered = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: { ...story, text: story.text + ' ' } });
  expect([altered.status, altered.body.error?.code]).toEqual([400, 'text_mismatch']);
  const published = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story });
  expect(published.status).toBe(201);
  expect(published.body.alias).toMatch(/^[abcdefghjkmnpqrstuvwxyz23456789]{10}$/);
  expect(published.body.url).toMatch(new RegExp(`/stories/${published.body.alias}$`));
  const page = await request(t.app).get(`/stories/${published.body.alias}`);
  expect(page.status).toBe(200);
  expect(page.text).toContain('Words I chose');
  const after = (await survivorGet('/api/survivor/cases')).body.cases[0].drafts[0];
  expect(after).toMatchObject({
    status: 'published',
    publication: { alias: published.body.alias, publishedDay: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) },
  });

  // The survivor revokes: the story's address answers 410 (step 9).
  const revocation = { v: 1, type: 'revoke', caseId, draftId, issuedDay: today() };
  const revoked = await survivorPost(`/api/survivor/cases/${caseId}/drafts/${draftId}/revoke`, {
    statement: revocation,
    sig: signStatement(revocation, survivor.keys.sign),
  });
  expect([revoked.status, revoked.body]).toEqual([200, { status: 'revoked' }]);
  expect((await request(t.app).get(`/stories/${published.body.alias}`)).status).toBe(410);
  const replayed = await survivorPost(`/api/survivor/cases/${caseId}/drafts/${draftId}/consent`, {
    statement: consent,
    sig: signStatement(consent, survivor.keys.sign),
  });
  expect([replayed.status, replayed.body.error?.code]).toEqual([409, 'consent_revoked']);
});
