/**
 * Bad input on every API route (DESIGN.md "Bad input"): malformed JSON, other content types,
 * bad base64, wrong types, missing and unknown fields, oversized bodies; forged signatures,
 * replays, wrong recipients and wrong roles. Every rejection answers 4xx with exactly
 * {error: {code, message}}, names the problem, never echoes the submitted value and writes
 * nothing (the harness snapshot of every table but the rate-limit counters is unchanged).
 */
import request from 'supertest';
import nacl from 'tweetnacl';
import {
  checkPow,
  keysetHash,
  randomId,
  RECORD_BYTES,
  RECORD_OVERHEAD,
  readersOf,
  sealEnvelope,
  signedPart,
  signKeyset,
  signLogin,
  STAFF_KDF,
  toBase64url,
  utcDay,
  type Envelope,
  type Keyset,
  type KeysetMember,
  type SignedKeyset,
} from '../../protocol';
import { DB_INT_MAX } from '../../protocol/api';
import { MATCH_ENTRY_ALG, MATCH_ENTRY_VERSION } from '../../protocol/matching';
import { hashToken, issueSurvivorToken, randomToken } from '../../server/http/tokens';
import {
  addStaff,
  asSurvivor,
  currentKeyset,
  enrolTotp,
  makeTestServer,
  pow,
  registerSurvivor,
  setupAdmin,
  snapshot,
  staffMaterial,
  submitTestimony,
  testimonyEnvelope,
  uploadFile,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
  type UploadedFile,
  unchanged as unchangedIn,
} from '../support/harness';
import { namePhoneOverApi } from '../support/matching';
import { expectError, findEnvelope, MARKER } from './expect-error';

let t: TestServer;
let admin: StaffActor;
let moderator: StaffActor;
let advocate: StaffActor;
/** enrolled through an invite but not yet in the keyset */
let pending: {
  agent: ReturnType<typeof request.agent>;
  id: string;
  material: Awaited<ReturnType<typeof staffMaterial>>['material'];
  inviteToken: string;
};
let survivor: SurvivorActor;
let survivorId: string;
let firstCase: Envelope;
/** an open invite that no test consumes */
let openInvite: string;
/** the id of an open invite that no test revokes */
let openInviteId: string;
/** the first keyset, as the admin signed it at setup */
let keysetV1: SignedKeyset;
/** a case open to advocates, with one proposed draft */
let openCase: Envelope;
let draftId: string;
/** an upload of the survivor with one of its two records in (open), and one closed and attached to a testimony */
let openUpload: UploadedFile;
let sentUpload: UploadedFile;
/** a member signed in who has not set up two-factor sign-in yet (the TOTP enrolment routes) */
let enrolling: ReturnType<typeof request.agent>;
/** the survivor's matching entry for firstCase */
let matchEntryId: string;

beforeAll(async () => {
  t = await makeTestServer();
  admin = await setupAdmin(t);
  moderator = await addStaff(t, admin, 'mod.one');
  // Also the matching counselor, so that a survivor can keep a matching entry.
  advocate = await addStaff(t, admin, 'adv.one', ['advocate', 'matching_counselor']);

  const invite = await admin.agent.post('/api/staff/invites').send({ roles: ['moderator'] });
  const inviteToken = String(invite.body.url).split('#')[1];
  const { material } = await staffMaterial('pending.one', 'pending password for tests');
  const agent = request.agent(t.app);
  const enrol = await agent.post('/api/staff/enrol').send({ inviteToken, ...material });
  if (enrol.status !== 201) throw new Error(`enrol failed: ${enrol.status} ${enrol.text}`);
  await enrolTotp(t, agent, 'pending.one'); // two-factor sign-in is set up; only the keyset is missing
  pending = { agent, id: enrol.body.id, material, inviteToken };
  openInvite = String((await admin.agent.post('/api/staff/invites').send({ roles: ['moderator'] })).body.url).split('#')[1];
  openInviteId = (
    await t
      .db('staff_invites')
      .where({ token_hash: hashToken(openInvite) })
      .first()
  ).id;

  survivor = await registerSurvivor(t);
  survivorId = (await t.db('survivors').where({ handle: survivor.handle }).first()).id;
  const first = await submitTestimony(t, survivor, 'the first testimony');
  if (first.res.status !== 201) throw new Error(`submit failed: ${first.res.status} ${first.res.text}`);
  firstCase = first.envelope;
  keysetV1 = JSON.parse((await t.db('keysets').where({ version: 1 }).first()).signed);

  const ks = await currentKeyset(t);
  openCase = sealEnvelope({
    kind: 'testimony',
    caseId: randomId(),
    body: { testimony: { what: 'open to advocates', when: '', context: 'workplace', wantsReplies: true } },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset), ...readersOf(ks.keyset, 'advocate')],
    signer: survivor.keys.sign,
  });
  const open = await request(t.app)
    .post('/api/survivor/cases')
    .set('Authorization', `Bearer ${survivor.token}`)
    .send({
      envelope: openCase,
      keysetVersion: ks.keyset.version,
      pow: await pow(t),
      sharing: { advocatesMayRead: true, statistics: null },
    });
  if (open.status !== 201) throw new Error(`submit failed: ${open.status} ${open.text}`);
  draftId = randomId();
  const draft = sealEnvelope({
    kind: 'draft',
    caseId: openCase.caseId,
    body: { draft: { draftId, title: 't', text: 'x', context: 'workplace' } },
    recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset), ...readersOf(ks.keyset, 'advocate')],
    signer: moderator.sign,
  });
  const proposed = await moderator.agent
    .post(`/api/staff/cases/${openCase.caseId}/drafts`)
    .send({ draftId, envelope: draft, keysetVersion: ks.keyset.version });
  if (proposed.status !== 201) throw new Error(`draft failed: ${proposed.status} ${proposed.text}`);
  openUpload = await uploadFile(t, survivor, nacl.randomBytes(RECORD_BYTES + 1), { upTo: 1 });
  sentUpload = await uploadFile(t, survivor, nacl.randomBytes(100));
  const sent = await submitTestimony(t, survivor, 'with a file', [sentUpload.manifest]);
  if (sent.res.status !== 201) throw new Error(`submit with a file failed: ${sent.res.status} ${sent.res.text}`);
  matchEntryId = await namePhoneOverApi(t.app, survivor, firstCase.caseId, '0300-1234567');

  const third = String((await admin.agent.post('/api/staff/invites').send({ roles: ['moderator'] })).body.url).split('#')[1];
  enrolling = request.agent(t.app);
  const enrolled = await enrolling
    .post('/api/staff/enrol')
    .send({ inviteToken: third, ...(await staffMaterial('enrolling.one', 'enrolling password for tests')).material });
  if (enrolled.status !== 201) throw new Error(`enrol failed: ${enrolled.status} ${enrolled.text}`);
});
afterAll(async () => {
  // A successful staff request records its session's last-seen time after the response; let it land.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await t.close();
});

/** Runs fn and asserts that no table (but the rate-limit counters) changed meanwhile. */
const unchanged = <T>(fn: () => Promise<T>): Promise<T> => unchangedIn(t, fn);

const b64 = (bytes: number) => toBase64url(nacl.randomBytes(bytes));
const b64Len = (bytes: number) => Math.ceil((bytes * 4) / 3);
const OVERSIZED = `{"x":"${MARKER}${'a'.repeat(300 * 1024)}"}`;

type Body = Record<string, unknown>;
type Path = (string | number)[];

function parsePath(dotted: string): Path {
  return dotted.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}
/** How the server names a field: envelope.keys[0].kid */
function display(dotted: string): string {
  return parsePath(dotted)
    .map((p) => (typeof p === 'number' ? `[${p}]` : p))
    .join('.')
    .replace(/\.\[/g, '[');
}
function setIn(body: Body, dotted: string, value: unknown): Body {
  const copy = structuredClone(body);
  const path = parsePath(dotted);
  let node: Record<string | number, unknown> = copy;
  for (const p of path.slice(0, -1)) node = node[p] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The same bytes as `canonical` (whose length leaves spare bits), spelled with a non-zero spare bit: a second spelling. */
function withTrailingBits(canonical: string): string {
  if (canonical.length % 4 === 0) throw new Error('this length has no spare bits');
  return canonical.slice(0, -1) + ALPHABET[ALPHABET.indexOf(canonical[canonical.length - 1]) | 1];
}
/** a 16-byte id spelled with a non-zero spare bit */
const idWithTrailingBits = () => withTrailingBits(randomId());

/** Bad spellings of `bytes` bytes of base64url, each carrying MARKER. */
function badBase64(bytes: number): [string, string, RegExp][] {
  const L = b64Len(bytes);
  const fill = (n: number) => (MARKER + 'A'.repeat(n)).slice(0, n);
  const cases: [string, string, RegExp][] = [
    ["'=' padding", fill(L) + '=', /base64url without padding/],
    ["'+' and '/' (standard alphabet)", (MARKER + '+/' + 'A'.repeat(L)).slice(0, L), /base64url without padding/],
    ['one character short', fill(L - 1), new RegExp(`${bytes} bytes`)],
    ['four characters long', fill(L + 4), new RegExp(`${bytes} bytes`)],
    ['empty', '', new RegExp(`${bytes} bytes`)],
  ];
  // Lengths that leave spare bits: a non-zero spare bit would give a second spelling of the same bytes.
  if (L * 6 > bytes * 8) cases.push(['non-zero trailing bits', fill(L - 1) + 'B', /canonical/]);
  return cases;
}

interface JsonRoute {
  name: string;
  open: () => request.Test;
  /** a body of the right shape (not necessarily one the route then accepts) */
  valid: () => Body;
  string?: string;
  number?: string;
  required?: string;
  nested?: string;
  b64?: [string, number][];
  extra?: [string, (b: Body) => Body, (string | RegExp)[]][];
}

const bearer = () => `Bearer ${survivor.token}`;
const jsonRoutes: JsonRoute[] = [
  { name: 'POST /api/pow', open: () => request(t.app).post('/api/pow'), valid: () => ({}) },
  {
    name: 'POST /api/survivor/register',
    open: () => request(t.app).post('/api/survivor/register'),
    valid: () => ({ signPk: b64(32), boxPk: b64(32), pow: { challenge: b64(32), nonce: 7 }, sig: b64(64) }),
    string: 'signPk',
    number: 'pow.nonce',
    required: 'sig',
    nested: 'pow',
    b64: [
      ['boxPk', 32],
      ['pow.challenge', 32],
      ['sig', 64],
    ],
    extra: [
      ['a negative nonce', (b) => setIn(b, 'pow.nonce', -1), ['pow.nonce']],
      ['a fractional nonce', (b) => setIn(b, 'pow.nonce', 1.5), ['pow.nonce']],
    ],
  },
  { name: 'POST /api/survivor/challenge', open: () => request(t.app).post('/api/survivor/challenge'), valid: () => ({}) },
  {
    name: 'POST /api/survivor/session',
    open: () => request(t.app).post('/api/survivor/session'),
    valid: () => ({ signPk: b64(32), challenge: b64(32), sig: b64(64) }),
    string: 'challenge',
    required: 'signPk',
    b64: [
      ['sig', 64],
      ['signPk', 32],
    ],
  },
  {
    name: 'POST /api/survivor/cases',
    open: () => request(t.app).post('/api/survivor/cases').set('Authorization', bearer()),
    valid: () => ({ envelope: structuredClone(firstCase), keysetVersion: 3, pow: { challenge: b64(32), nonce: 1 } }),
    string: 'envelope.caseId',
    number: 'keysetVersion',
    required: 'pow',
    nested: 'envelope',
    b64: [
      ['envelope.keys.0.kid', 16],
      ['envelope.sig', 64],
      ['envelope.signer', 32],
      ['envelope.keys.1.wrapped', 72],
    ],
    extra: [
      ['an unknown envelope kind', (b) => setIn(b, 'envelope.kind', MARKER), ['envelope.kind']],
      ['another envelope version', (b) => setIn(b, 'envelope.v', 2), ['envelope.v']],
      ['no recipients', (b) => setIn(b, 'envelope.keys', []), ['envelope.keys']],
      ['a caseId that is not an id', (b) => setIn(b, 'envelope.caseId', `${MARKER}/../x`), ['envelope.caseId']],
      ['keysetVersion 0', (b) => setIn(b, 'keysetVersion', 0), ['keysetVersion']],
      [
        'a ciphertext over the size limit',
        (b) => setIn(b, 'envelope.ciphertext', MARKER + 'A'.repeat(140 * 1024)),
        ['envelope.ciphertext'],
      ],
      ['an attachment id that is not an id', (b) => setIn(b, 'attachments', [randomId(), MARKER]), ['attachments[1]', '16-byte id']],
      ['attachments that are not a list', (b) => setIn(b, 'attachments', MARKER), ['attachments', 'expected array']],
      [
        '21 attachments',
        (b) =>
          setIn(
            b,
            'attachments',
            Array.from({ length: 21 }, () => randomId()),
          ),
        ['attachments', 'at most 20'],
      ],
      ['an attachment listed twice', (b) => setIn(b, 'attachments', [sentUpload.id, sentUpload.id]), ['attachments', 'twice']],
      [
        'an attachment id with non-zero trailing bits',
        (b) => setIn(b, 'attachments', [withTrailingBits(sentUpload.id)]),
        ['attachments[0]:', 'canonical'],
      ],
    ],
  },
  {
    name: 'POST /api/survivor/cases/:caseId/messages',
    open: () => request(t.app).post(`/api/survivor/cases/${firstCase.caseId}/messages`).set('Authorization', bearer()),
    valid: () => ({ envelope: { ...structuredClone(firstCase), kind: 'message', prev: b64(64) }, keysetVersion: 3 }),
    string: 'envelope.ciphertext',
    number: 'keysetVersion',
    required: 'envelope',
    nested: 'envelope',
    b64: [
      ['envelope.prev', 64],
      ['envelope.keys.0.epk', 32],
      ['envelope.sig', 64],
    ],
    extra: [
      ['an unknown envelope kind', (b) => setIn(b, 'envelope.kind', MARKER), ['envelope.kind']],
      ['an attachment id that is not an id', (b) => setIn(b, 'attachments', [`${MARKER}AAAAAAAA=`]), ['attachments[0]']],
      ['a number for an attachment id', (b) => setIn(b, 'attachments', [1234567]), ['attachments[0]', 'expected string']],
    ],
  },
  {
    name: 'POST /api/survivor/attachments',
    open: () => request(t.app).post('/api/survivor/attachments').set('Authorization', bearer()),
    valid: () => ({ size: 10, records: 1 }),
    number: 'size',
    required: 'records',
    extra: [
      ['a negative size', (b) => setIn(b, 'size', -1), ['size']],
      ['a fractional size', (b) => setIn(b, 'size', 1.5), ['size']],
      ['a size beyond 2^53', (b) => setIn(b, 'size', 2 ** 60), ['size']],
      ['a record count that does not match the size', (b) => setIn(b, 'records', 2), ['records', 'must be 1']],
      ['no records', (b) => setIn(b, 'records', 0), ['records']],
      ['a string for records', (b) => setIn(b, 'records', MARKER), ['records', 'expected number']],
    ],
  },
  {
    name: 'POST /api/survivor/attachments/:id/close',
    open: () => request(t.app).post(`/api/survivor/attachments/${openUpload.id}/close`).set('Authorization', bearer()),
    valid: () => ({}),
  },
  {
    name: 'POST /api/survivor/cases/:caseId/seen',
    open: () => request(t.app).post(`/api/survivor/cases/${firstCase.caseId}/seen`).set('Authorization', bearer()),
    valid: () => ({ seq: 0 }),
    number: 'seq',
    required: 'seq',
    extra: [['a negative seq', (b) => setIn(b, 'seq', -1), ['seq']]],
  },
  {
    name: 'POST /api/staff/cases/:caseId/messages',
    open: () => moderator.agent.post(`/api/staff/cases/${firstCase.caseId}/messages`),
    valid: () => ({ envelope: { ...structuredClone(firstCase), kind: 'message', prev: b64(64) }, keysetVersion: 3 }),
    string: 'envelope.signer',
    number: 'keysetVersion',
    required: 'keysetVersion',
    nested: 'envelope',
    b64: [
      ['envelope.prev', 64],
      ['envelope.keys.0.kid', 16],
    ],
    extra: [['attachments on a staff message', (b) => setIn(b, 'attachments', [sentUpload.id]), ['unknown field', 'attachments']]],
  },
  {
    name: 'POST /api/staff/cases/:caseId/notes',
    open: () => moderator.agent.post(`/api/staff/cases/${firstCase.caseId}/notes`),
    valid: () => ({ envelope: { ...structuredClone(firstCase), kind: 'note' }, keysetVersion: 3 }),
    string: 'envelope.sig',
    required: 'envelope',
    nested: 'envelope',
    b64: [['envelope.keys.0.wrapped', 72]],
    extra: [['attachments on a note', (b) => setIn(b, 'attachments', [sentUpload.id]), ['unknown field', 'attachments']]],
  },
  {
    name: 'POST /api/staff/cases/:caseId/status',
    open: () => moderator.agent.post(`/api/staff/cases/${firstCase.caseId}/status`),
    valid: () => ({ status: 'in_review' }),
    required: 'status',
    extra: [
      ['an unknown status', (b) => setIn(b, 'status', MARKER), ['status']],
      ['a number for the status', (b) => setIn(b, 'status', 3), ['status']],
    ],
  },
  {
    name: 'POST /api/staff/cases/:caseId/assignee',
    open: () => moderator.agent.post(`/api/staff/cases/${firstCase.caseId}/assignee`),
    valid: () => ({ staffId: randomId() }),
    string: 'staffId',
    // null is meaningful here (unassign), so only a missing staffId is refused.
    extra: [
      ['a staffId that is not an id', (b) => setIn(b, 'staffId', MARKER), ['staffId']],
      ['a staffId with non-zero trailing bits', (b) => setIn(b, 'staffId', idWithTrailingBits()), ['staffId:', 'canonical']],
      ['no staffId', (b) => setIn(b, 'staffId', undefined), ['staffId']],
    ],
  },
  {
    name: 'POST /api/staff/grants',
    open: () => moderator.agent.post('/api/staff/grants'),
    valid: () => ({
      staffId: randomId(),
      grants: [
        {
          envelopeId: 1,
          grant: { v: 1, envelopeHash: b64(64), kid: b64(16), epk: b64(32), wrapped: b64(72), granter: b64(32), sig: b64(64) },
        },
      ],
    }),
    string: 'staffId',
    number: 'grants.0.envelopeId',
    required: 'grants',
    nested: 'grants.0.grant',
    b64: [
      ['grants.0.grant.envelopeHash', 64],
      ['grants.0.grant.wrapped', 72],
      ['grants.0.grant.sig', 64],
    ],
    extra: [
      ['no grants', (b) => setIn(b, 'grants', []), ['grants']],
      ['101 grants', (b) => setIn(b, 'grants', new Array(101).fill((b.grants as unknown[])[0])), ['grants']],
    ],
  },
  {
    name: 'POST /api/staff/grants/batch',
    open: () => moderator.agent.post('/api/staff/grants/batch'),
    valid: () => ({ staffId: randomId(), sig: b64(64), grants: [{ envelopeId: 1, epk: b64(32), wrapped: b64(72) }] }),
    string: 'staffId',
    number: 'grants.0.envelopeId',
    required: 'grants',
    nested: 'grants.0',
    b64: [
      ['sig', 64],
      ['grants.0.epk', 32],
      ['grants.0.wrapped', 72],
    ],
    extra: [
      ['no grants', (b) => setIn(b, 'grants', []), ['grants']],
      ['1,001 grants', (b) => setIn(b, 'grants', new Array(1001).fill((b.grants as unknown[])[0])), ['grants']],
      ['a grant carrying its own hash', (b) => setIn(b, 'grants.0.envelopeHash', b64(64)), ['grants[0]', 'envelopeHash']],
      ['a path sent by the granter', (b) => setIn(b, 'grants.0.path', [b64(32)]), ['grants[0]', 'path']],
      ['an envelopeId of 0', (b) => setIn(b, 'grants.0.envelopeId', 0), ['grants[0].envelopeId']],
    ],
  },
  {
    name: 'POST /api/setup',
    open: () => request(t.app).post('/api/setup'),
    valid: () => structuredClone(admin.setupBody!),
    string: 'username',
    number: 'kdf.params.m',
    required: 'keyset',
    nested: 'kdf.params',
    b64: [
      ['setupToken', 32],
      ['keyset.sig', 64],
      ['kdf.salt', 16],
    ],
    extra: [
      ['an unknown role', (b) => setIn(b, 'roles', ['admin', MARKER]), ['roles[1]']],
      ['a weak KDF', (b) => setIn(b, 'kdf.params.m', 1024), ['kdf.params.m']],
      ['another KDF', (b) => setIn(b, 'kdf.params.alg', MARKER), ['kdf.params.alg']],
    ],
  },
  {
    name: 'POST /api/staff/login/params',
    open: () => request(t.app).post('/api/staff/login/params'),
    valid: () => ({ username: 'mod.one' }),
    string: 'username',
    required: 'username',
    extra: [
      ['a username with forbidden characters', (b) => setIn(b, 'username', `<${MARKER}>`), ['username']],
      ['a username too long', (b) => setIn(b, 'username', MARKER.toLowerCase().repeat(4)), ['username']],
    ],
  },
  {
    name: 'POST /api/staff/login',
    open: () => request(t.app).post('/api/staff/login'),
    valid: () => ({ username: 'mod.one', authKey: b64(32) }),
    string: 'username',
    required: 'authKey',
    b64: [
      ['authKey', 32],
      ['ticket', 40],
    ],
  },
  {
    // The admin's record already has the current parameters: a well-formed body would be 409, never written.
    name: 'POST /api/staff/kdf',
    open: () => admin.agent.post('/api/staff/kdf'),
    valid: () => ({ currentAuthKey: b64(32), kdf: { params: { ...STAFF_KDF }, salt: b64(16) }, authKey: b64(32), wrappedKeys: b64(200) }),
    string: 'wrappedKeys',
    number: 'kdf.params.t',
    required: 'currentAuthKey',
    nested: 'kdf.params',
    b64: [
      ['currentAuthKey', 32],
      ['authKey', 32],
      ['kdf.salt', 16],
    ],
    extra: [
      ['a KDF below the OWASP minimum', (b) => setIn(b, 'kdf.params.m', 16 * 1024), ['kdf.params.m']],
      ['one pass', (b) => setIn(b, 'kdf.params.t', 1), ['kdf.params.t']],
      ['another KDF', (b) => setIn(b, 'kdf.params.alg', MARKER), ['kdf.params.alg']],
      ['the same authKey as the current one', (b) => setIn(b, 'authKey', b.currentAuthKey), ['authKey', 'must differ']],
      ['wrapped keys over the limit', (b) => setIn(b, 'wrappedKeys', MARKER + 'A'.repeat(2000)), ['wrappedKeys']],
    ],
  },
  // A rejected logout must not end the session: the snapshot includes staff_sessions.
  { name: 'POST /api/staff/logout', open: () => admin.agent.post('/api/staff/logout'), valid: () => ({}) },
  {
    name: 'POST /api/staff/invites',
    open: () => admin.agent.post('/api/staff/invites'),
    valid: () => ({ roles: ['moderator'] }),
    required: 'roles',
    extra: [
      ['a number for a role', (b) => setIn(b, 'roles.0', 1234567), ['roles[0]']],
      ['a string for the roles list', (b) => setIn(b, 'roles', MARKER), ['roles', 'expected array']],
      ['an unknown role', (b) => setIn(b, 'roles', [MARKER]), ['roles[0]']],
      ['no role', (b) => setIn(b, 'roles', []), ['roles']],
    ],
  },
  {
    name: 'POST /api/staff/invites/check',
    open: () => request(t.app).post('/api/staff/invites/check'),
    valid: () => ({ inviteToken: openInvite }),
    string: 'inviteToken',
    required: 'inviteToken',
    b64: [['inviteToken', 32]],
  },
  {
    name: 'POST /api/staff/enrol',
    open: () => request(t.app).post('/api/staff/enrol'),
    valid: () => ({ inviteToken: openInvite, ...structuredClone(pending.material), username: 'new.one' }),
    string: 'username',
    number: 'kdf.params.t',
    required: 'authKey',
    nested: 'kdf',
    b64: [
      ['boxPk', 32],
      ['signPk', 32],
      ['kdf.salt', 16],
      ['inviteToken', 32],
    ],
    extra: [
      ['a weak KDF', (b) => setIn(b, 'kdf.params.t', 1), ['kdf.params.t']],
      ['wrapped keys over the limit', (b) => setIn(b, 'wrappedKeys', MARKER + 'A'.repeat(2000)), ['wrappedKeys']],
      ['wrapped keys with non-zero trailing bits', (b) => setIn(b, 'wrappedKeys', MARKER + 'AB'), ['wrappedKeys:', 'canonical']],
      ['wrapped keys in standard base64', (b) => setIn(b, 'wrappedKeys', MARKER + '+/AA'), ['wrappedKeys:', 'without padding']],
    ],
  },
  {
    name: 'POST /api/staff/keysets',
    open: () => admin.agent.post('/api/staff/keysets'),
    valid: () => ({ signed: structuredClone(keysetV1) }),
    string: 'signed.keyset.members.0.username',
    number: 'signed.keyset.version',
    required: 'signed.sig',
    nested: 'signed.keyset',
    b64: [
      ['signed.instancePk', 32],
      ['signed.keyset.members.0.boxPk', 32],
    ],
    extra: [
      ['an unknown role in a member', (b) => setIn(b, 'signed.keyset.members.0.roles', [MARKER]), ['signed.keyset.members[0].roles[0]']],
      ['a bad issuedDay', (b) => setIn(b, 'signed.keyset.issuedDay', `${MARKER}`), ['signed.keyset.issuedDay']],
      ['a member without keys', (b) => setIn(b, 'signed.keyset.members.0.signPk', undefined), ['signed.keyset.members[0].signPk']],
    ],
  },
  // Publishing with consent
  {
    name: 'POST /api/survivor/cases/:caseId/sharing',
    open: () => request(t.app).post(`/api/survivor/cases/${openCase.caseId}/sharing`).set('Authorization', bearer()),
    valid: () => ({
      sharing: { advocatesMayRead: true, statistics: { context: 'workplace', year: 2018, province: 'sindh' } },
      keysetVersion: 3,
      grants: [],
    }),
    number: 'sharing.statistics.year',
    required: 'sharing',
    nested: 'sharing.statistics',
    extra: [
      [
        'a string for advocatesMayRead',
        (b) => setIn(b, 'sharing.advocatesMayRead', MARKER),
        ['sharing.advocatesMayRead', 'expected boolean'],
      ],
      ['a year before the first one', (b) => setIn(b, 'sharing.statistics.year', 1900), ['sharing.statistics.year', '1980']],
      ['an unknown province', (b) => setIn(b, 'sharing.statistics.province', MARKER), ['sharing.statistics.province']],
      ['an unknown context', (b) => setIn(b, 'sharing.statistics.context', MARKER), ['sharing.statistics.context']],
      ['a grant of the wrong shape', (b) => setIn(b, 'grants', [{ v: 1, kid: MARKER }]), ['grants[0]']],
    ],
  },
  {
    name: 'POST /api/staff/cases/:caseId/drafts',
    open: () => moderator.agent.post(`/api/staff/cases/${openCase.caseId}/drafts`),
    valid: () => ({
      draftId: randomId(),
      envelope: { ...structuredClone(firstCase), kind: 'draft', caseId: openCase.caseId },
      keysetVersion: 3,
    }),
    string: 'draftId',
    number: 'keysetVersion',
    required: 'envelope',
    nested: 'envelope',
    b64: [
      ['envelope.sig', 64],
      ['envelope.keys.0.kid', 16],
    ],
    extra: [
      ['a draftId that is not an id', (b) => setIn(b, 'draftId', `${MARKER}/x`), ['draftId']],
      ['a draftId with non-zero trailing bits', (b) => setIn(b, 'draftId', idWithTrailingBits()), ['draftId:', 'canonical']],
      [
        'an envelope caseId with non-zero trailing bits',
        (b) => setIn(b, 'envelope.caseId', withTrailingBits(openCase.caseId)),
        ['envelope.caseId:', 'canonical'],
      ],
      [
        'a ciphertext with non-zero trailing bits',
        (b) => setIn(b, 'envelope.ciphertext', MARKER + 'AB'),
        ['envelope.ciphertext:', 'canonical'],
      ],
    ],
  },
  {
    name: 'POST /api/survivor/cases/:caseId/drafts/:draftId/consent',
    open: () => request(t.app).post(`/api/survivor/cases/${openCase.caseId}/drafts/${draftId}/consent`).set('Authorization', bearer()),
    valid: () => ({
      statement: { v: 1, type: 'publish', caseId: openCase.caseId, draftId, textHash: b64(32), issuedDay: utcDay() },
      sig: b64(64),
    }),
    string: 'statement.draftId',
    required: 'sig',
    nested: 'statement',
    b64: [
      ['statement.textHash', 32],
      ['sig', 64],
    ],
    extra: [
      ['a revocation where a consent is expected', (b) => setIn(b, 'statement.type', 'revoke'), ['statement.type']],
      ['a bad issuedDay', (b) => setIn(b, 'statement.issuedDay', MARKER), ['statement.issuedDay']],
      ['another version', (b) => setIn(b, 'statement.v', 2), ['statement.v']],
      [
        'a statement draftId with non-zero trailing bits',
        (b) => setIn(b, 'statement.draftId', withTrailingBits(draftId)),
        ['statement.draftId:', 'canonical'],
      ],
    ],
  },
  {
    name: 'POST /api/survivor/cases/:caseId/drafts/:draftId/revoke',
    open: () => request(t.app).post(`/api/survivor/cases/${openCase.caseId}/drafts/${draftId}/revoke`).set('Authorization', bearer()),
    valid: () => ({ statement: { v: 1, type: 'revoke', caseId: openCase.caseId, draftId, issuedDay: utcDay() }, sig: b64(64) }),
    string: 'statement.caseId',
    required: 'statement',
    nested: 'statement',
    b64: [['sig', 64]],
    extra: [['a consent where a revocation is expected', (b) => setIn(b, 'statement.type', 'publish'), ['statement.type']]],
  },
  {
    name: 'POST /api/survivor/cases/:caseId/drafts/:draftId/changes',
    open: () => request(t.app).post(`/api/survivor/cases/${openCase.caseId}/drafts/${draftId}/changes`).set('Authorization', bearer()),
    valid: () => ({ envelope: { ...structuredClone(openCase), kind: 'changes' }, keysetVersion: 3 }),
    string: 'envelope.ciphertext',
    number: 'keysetVersion',
    required: 'envelope',
    nested: 'envelope',
    b64: [
      ['envelope.keys.0.epk', 32],
      ['envelope.sig', 64],
    ],
    extra: [['an unknown envelope kind', (b) => setIn(b, 'envelope.kind', MARKER), ['envelope.kind']]],
  },
  {
    name: 'POST /api/staff/stories/:alias/takedown',
    open: () => advocate.agent.post('/api/staff/stories/abcdefghjk/takedown'),
    valid: () => ({ reason: 'On legal advice' }),
    string: 'reason',
    required: 'reason',
    extra: [
      ['a blank reason', (b) => setIn(b, 'reason', '   '), ['reason', 'empty']],
      ['a reason over the limit', (b) => setIn(b, 'reason', MARKER + 'a'.repeat(501)), ['reason', '500']],
      ['a control character in the reason', (b) => setIn(b, 'reason', `${MARKER}\u0007`), ['reason', 'U+0007']],
    ],
  },
  {
    name: 'POST /api/staff/recovery-codes',
    open: () => moderator.agent.post('/api/staff/recovery-codes'),
    valid: () => ({ currentAuthKey: b64(32), totp: '123456' }),
    string: 'totp',
    required: 'currentAuthKey',
    b64: [['currentAuthKey', 32]],
    extra: [['a code of 5 digits', (b) => setIn(b, 'totp', '12345'), ['totp', '6 digits']]],
  },
  {
    name: 'POST /api/staff/invites/:inviteId/revoke',
    open: () => admin.agent.post(`/api/staff/invites/${openInviteId}/revoke`),
    valid: () => ({}),
  },
  {
    name: 'POST /api/staff/members/:staffId/totp-reset',
    open: () => admin.agent.post(`/api/staff/members/${moderator.staffId}/totp-reset`),
    valid: () => ({}),
  },
  {
    name: 'POST /api/staff/drafts/:draftId/publish',
    open: () => advocate.agent.post(`/api/staff/drafts/${draftId}/publish`),
    valid: () => ({ story: { title: 'A title', text: 'The text', context: 'workplace' } }),
    string: 'story.title',
    required: 'story',
    nested: 'story',
    extra: [
      ['a blank title', (b) => setIn(b, 'story.title', '   '), ['story.title', 'empty']],
      ['an unknown context', (b) => setIn(b, 'story.context', MARKER), ['story.context']],
      ['a text over the limit', (b) => setIn(b, 'story.text', MARKER + 'a'.repeat(60_001)), ['story.text', '60000']],
      ['a NUL character in the title', (b) => setIn(b, 'story.title', `${MARKER}\u0000`), ['story.title', 'U+0000']],
    ],
  },
  {
    name: 'POST /api/survivor/delete-everything',
    open: () => request(t.app).post('/api/survivor/delete-everything').set('Authorization', bearer()),
    valid: () => ({ confirm: 'delete everything' }),
    required: 'confirm',
    extra: [
      ['other words', (b) => setIn(b, 'confirm', MARKER), ['confirm', 'delete everything']],
      ['true instead of the words', (b) => setIn(b, 'confirm', true), ['confirm', 'delete everything']],
    ],
  },
  // Alerts, settings and the staff account. Several of these change something when the body is
  // well-formed (a password, the settings, every session); the table only ever sends bad bodies.
  {
    // null for email is valid with both kinds off, so the required field tried is newCase.
    name: 'POST /api/staff/me/alerts',
    open: () => moderator.agent.post('/api/staff/me/alerts'),
    valid: () => ({ email: 'mod.one@example.org', newCase: 'immediate', answer: 'off' }),
    string: 'email',
    required: 'newCase',
    extra: [
      ['an unknown alert mode', (b) => setIn(b, 'answer', MARKER), ['answer']],
      ['an email that is not an address', (b) => setIn(b, 'email', `${MARKER} at example`), ['email', 'email address']],
      ['alerts without an email', (b) => setIn(b, 'email', null), ['email', 'give an email address']],
    ],
  },
  {
    name: 'POST /api/staff/me/alerts/key',
    open: () => moderator.agent.post('/api/staff/me/alerts/key'),
    valid: () => ({ publicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n' }),
    string: 'publicKey',
    required: 'publicKey',
    extra: [
      ['a blank key', (b) => setIn(b, 'publicKey', '  \n '), ['publicKey', 'must not be empty']],
      ['a key over the limit', (b) => setIn(b, 'publicKey', MARKER + 'A'.repeat(64 * 1024)), ['publicKey', 'at most']],
    ],
  },
  { name: 'POST /api/staff/me/alerts/key/remove', open: () => moderator.agent.post('/api/staff/me/alerts/key/remove'), valid: () => ({}) },
  {
    name: 'POST /api/staff/settings/retention',
    open: () => admin.agent.post('/api/staff/settings/retention'),
    valid: () => ({ closedCaseDays: 30, idleAccountDays: 90 }),
    number: 'closedCaseDays',
    required: 'idleAccountDays',
    extra: [
      // zod 4 would name the safe-integer bound first if .int() came before the real one.
      ['a day count of 1e308', (b) => setIn(b, 'closedCaseDays', 1e308), ['closedCaseDays', '3650']],
      ['a day count below the least', (b) => setIn(b, 'idleAccountDays', 6), ['idleAccountDays', '7']],
      ['a fractional day count', (b) => setIn(b, 'closedCaseDays', 30.5), ['closedCaseDays', 'int']],
    ],
  },
  {
    name: 'POST /api/staff/settings',
    open: () => admin.agent.post('/api/staff/settings'),
    valid: () => ({ sessionIdleMinutes: 30, sessionAbsoluteHours: 12 }),
    number: 'sessionAbsoluteHours',
    required: 'sessionIdleMinutes',
    extra: [
      ['hours of 1e308', (b) => setIn(b, 'sessionAbsoluteHours', 1e308), ['sessionAbsoluteHours', '168']],
      [
        'an idle timeout longer than the absolute one',
        (b) => ({ ...b, sessionIdleMinutes: 120, sessionAbsoluteHours: 1 }),
        ['sessionIdleMinutes', 'absolute'],
      ],
    ],
  },
  // A rejected request must not end any session: the snapshot includes staff_sessions.
  { name: 'POST /api/staff/logout/everywhere', open: () => pending.agent.post('/api/staff/logout/everywhere'), valid: () => ({}) },
  { name: 'POST /api/staff/session/key', open: () => moderator.agent.post('/api/staff/session/key'), valid: () => ({}) },
  { name: 'POST /api/staff/totp/setup', open: () => enrolling.post('/api/staff/totp/setup'), valid: () => ({}) },
  {
    name: 'POST /api/staff/totp/confirm',
    open: () => enrolling.post('/api/staff/totp/confirm'),
    valid: () => ({ code: '123456' }),
    string: 'code',
    required: 'code',
    extra: [['a code of 7 digits', (b) => setIn(b, 'code', '1234567'), ['code', '6 digits']]],
  },
  {
    name: 'POST /api/staff/password',
    open: () => moderator.agent.post('/api/staff/password'),
    valid: () => ({ currentAuthKey: b64(32), kdf: { params: { ...STAFF_KDF }, salt: b64(16) }, authKey: b64(32), wrappedKeys: b64(200) }),
    // The schema of POST /api/staff/kdf, whose entry tries every field.
    string: 'wrappedKeys',
    number: 'kdf.params.m',
    required: 'authKey',
    extra: [
      ['the same authKey as the current one', (b) => setIn(b, 'authKey', b.currentAuthKey), ['authKey', 'must differ']],
      ['a KDF of 1e308 KiB', (b) => setIn(b, 'kdf.params.m', 1e308), ['kdf.params.m', '1048576']],
    ],
  },
  // Cases
  {
    name: 'POST /api/staff/cases/:caseId/read',
    open: () => moderator.agent.post(`/api/staff/cases/${firstCase.caseId}/read`),
    valid: () => ({ seq: 0 }),
    number: 'seq',
    required: 'seq',
    extra: [
      ['a negative seq', (b) => setIn(b, 'seq', -1), ['seq']],
      ['a seq of 1e308', (b) => setIn(b, 'seq', 1e308), ['seq', '1000000']],
    ],
  },
  // Matching escrow
  {
    name: 'POST /api/survivor/matching/evaluate',
    open: () => request(t.app).post('/api/survivor/matching/evaluate').set('Authorization', bearer()),
    valid: () => ({ blinded: [b64(32)] }),
    string: 'blinded.0',
    required: 'blinded',
    b64: [['blinded.0', 32]],
    extra: [
      ['nothing to evaluate', (b) => setIn(b, 'blinded', []), ['blinded']],
      [
        'six values at once',
        (b) =>
          setIn(
            b,
            'blinded',
            Array.from({ length: 6 }, () => b64(32)),
          ),
        ['blinded', '5'],
      ],
    ],
  },
  {
    name: 'POST /api/survivor/matching/entries',
    open: () => request(t.app).post('/api/survivor/matching/entries').set('Authorization', bearer()),
    valid: () => matchEntryBody(),
    string: 'tag',
    number: 'keyVersion',
    required: 'sealed',
    nested: 'sealed',
    b64: [['tag', 32]],
    extra: [
      ['another sealing algorithm', (b) => setIn(b, 'sealed.alg', MARKER), ['sealed.alg']],
      ['a key version of 1e308', (b) => setIn(b, 'keyVersion', 1e308), ['keyVersion', '999999999']],
    ],
  },
  {
    name: 'POST /api/survivor/matching/entries/:entryId/replace',
    open: () => request(t.app).post(`/api/survivor/matching/entries/${matchEntryId}/replace`).set('Authorization', bearer()),
    valid: () => matchEntryBody(),
    // The body of POST /api/survivor/matching/entries, tried in full there.
    string: 'sealed.ciphertext',
    required: 'tag',
    nested: 'sealed.keys.0',
    extra: [['no readers', (b) => setIn(b, 'sealed.keys', []), ['sealed.keys']]],
  },
  {
    name: 'POST /api/survivor/matching/entries/:entryId/withdraw',
    open: () => request(t.app).post(`/api/survivor/matching/entries/${matchEntryId}/withdraw`).set('Authorization', bearer()),
    valid: () => ({}),
  },
];

/** A body of the shape POST /api/survivor/matching/entries takes (its tag evaluated by no one). */
function matchEntryBody(): Body {
  return {
    tag: b64(32),
    keyVersion: 1,
    sealed: {
      v: MATCH_ENTRY_VERSION,
      alg: MATCH_ENTRY_ALG,
      ciphertext: b64(300),
      keys: [{ kid: b64(16), epk: b64(32), wrapped: b64(72) }],
    },
  };
}

interface Case {
  label: string;
  send: (r: JsonRoute) => Promise<request.Response>;
  status: number;
  code?: string;
  mentions: (string | RegExp)[];
}

function casesFor(r: JsonRoute): Case[] {
  const json = (body: unknown) => (route: JsonRoute) => route.open().set('Content-Type', 'application/json').send(JSON.stringify(body));
  /** exactly these bytes as the body (superagent would otherwise serialize a Buffer as JSON) */
  const bytes = (route: JsonRoute, type: string, body: Buffer) =>
    route
      .open()
      .set('Content-Type', type)
      .serialize((b: Buffer) => b as unknown as string)
      .send(body);
  const out: Case[] = [
    {
      label: 'malformed JSON',
      send: (x) => x.open().set('Content-Type', 'application/json').send(`{"x": "${MARKER}",`),
      status: 400,
      code: 'malformed_json',
      mentions: ['not valid JSON'],
    },
    {
      label: 'truncated JSON',
      send: (x) =>
        x
          .open()
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ ...x.valid(), z: MARKER }).slice(0, -2)),
      status: 400,
      code: 'malformed_json',
      mentions: ['JSON'],
    },
    {
      label: 'a bare JSON string',
      send: (x) => x.open().set('Content-Type', 'application/json').send(JSON.stringify(MARKER)),
      status: 400,
      code: 'malformed_json',
      mentions: ['JSON'],
    },
    { label: 'a JSON array', send: json([MARKER]), status: 400, code: 'invalid_request', mentions: ['body', 'expected object'] },
    {
      label: 'text/plain',
      send: (x) =>
        x
          .open()
          .set('Content-Type', 'text/plain')
          .send(JSON.stringify({ ...x.valid(), z: MARKER })),
      status: 415,
      code: 'unsupported_media_type',
      mentions: ['Content-Type: application/json'],
    },
    {
      label: 'a form post',
      send: (x) => x.open().type('form').send({ x: MARKER }),
      status: 415,
      code: 'unsupported_media_type',
      mentions: ['JSON'],
    },
    {
      label: 'JSON in another charset',
      send: (x) =>
        x
          .open()
          .set('Content-Type', 'application/json; charset=iso-8859-1')
          .send(JSON.stringify({ x: MARKER })),
      status: 415,
      code: 'unsupported_encoding',
      mentions: ['UTF-8'],
    },
    { label: 'no body at all', send: (x) => x.open(), status: 415, code: 'unsupported_media_type', mentions: ['JSON'] },
    {
      label: 'an empty JSON body',
      send: (x) => x.open().set('Content-Type', 'application/json').send(''),
      status: 400,
      code: 'invalid_request',
      mentions: ['empty', '{}'],
    },
    {
      label: 'JSON in UTF-16',
      send: (x) => bytes(x, 'application/json; charset=utf-16le', Buffer.from(JSON.stringify({ ...x.valid(), z: MARKER }), 'utf16le')),
      status: 415,
      code: 'unsupported_encoding',
      mentions: ['UTF-8'],
    },
    {
      label: 'JSON in UTF-16 with its byte order mark',
      send: (x) =>
        bytes(
          x,
          'application/json; charset=utf-16',
          Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify({ ...x.valid(), z: MARKER }), 'utf16le')]),
        ),
      status: 415,
      code: 'unsupported_encoding',
      mentions: ['UTF-8'],
    },
    {
      label: 'UTF-16 bytes declared as UTF-8',
      send: (x) =>
        bytes(
          x,
          'application/json',
          Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify({ ...x.valid(), z: MARKER }), 'utf16le')]),
        ),
      status: 415,
      code: 'unsupported_encoding',
      mentions: ['UTF-8'],
    },
    {
      label: 'UTF-8 JSON after a byte order mark',
      send: (x) =>
        bytes(
          x,
          'application/json; charset=utf-8',
          Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(x.valid()))]),
        ),
      status: 415,
      code: 'unsupported_encoding',
      mentions: ['byte order mark'],
    },
    {
      label: 'bytes that are not UTF-8 in a string',
      send: (x) =>
        bytes(x, 'application/json', Buffer.concat([Buffer.from(`{"z":"${MARKER}`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])),
      status: 415,
      code: 'unsupported_encoding',
      mentions: ['not valid UTF-8'],
    },
    {
      label: 'an unknown field',
      send: (x) => json({ ...x.valid(), extraField: MARKER })(x),
      status: 400,
      code: 'invalid_request',
      mentions: ['unknown field', 'extraField'],
    },
    {
      label: 'an unknown field whose name is not a field name',
      send: (x) => json({ ...x.valid(), [`<img src=x onerror=${MARKER}>`]: 1 })(x),
      status: 400,
      code: 'invalid_request',
      mentions: ['unknown field'],
    },
    {
      label: 'a body over 256 KiB',
      send: (x) => x.open().set('Content-Type', 'application/json').send(OVERSIZED),
      status: 413,
      code: 'body_too_large',
      mentions: ['larger'],
    },
  ];
  if (r.nested)
    out.push({
      label: `an unknown field inside ${r.nested}`,
      send: (x) => json(setIn(x.valid(), `${r.nested}.extraField`, MARKER))(x),
      status: 400,
      code: 'invalid_request',
      mentions: [`${display(r.nested)} has unknown field`, 'extraField'],
    });
  if (r.string)
    out.push({
      label: `a number for the string ${r.string}`,
      send: (x) => json(setIn(x.valid(), r.string!, 1234567))(x),
      status: 400,
      code: 'invalid_request',
      mentions: [display(r.string), 'expected string'],
    });
  if (r.string)
    out.push({
      label: `an object for the string ${r.string}`,
      send: (x) => json(setIn(x.valid(), r.string!, { x: MARKER }))(x),
      status: 400,
      code: 'invalid_request',
      mentions: [display(r.string), 'expected string'],
    });
  if (r.number)
    out.push({
      label: `a string for the number ${r.number}`,
      send: (x) => json(setIn(x.valid(), r.number!, MARKER))(x),
      status: 400,
      code: 'invalid_request',
      mentions: [display(r.number), 'expected number'],
    });
  // Beyond the database's 32-bit integers (PostgreSQL would fail on it); the proof-of-work
  // nonce is never stored, and may be larger.
  if (r.number && r.number !== 'pow.nonce')
    out.push({
      label: `a ${r.number} beyond the database's integers`,
      send: (x) => json(setIn(x.valid(), r.number!, DB_INT_MAX + 1))(x),
      status: 400,
      code: 'invalid_request',
      mentions: [display(r.number)],
    });
  if (r.required)
    out.push({
      label: `no ${r.required}`,
      send: (x) => json(setIn(x.valid(), r.required!, undefined))(x),
      status: 400,
      code: 'invalid_request',
      mentions: [display(r.required)],
    });
  if (r.required)
    out.push({
      label: `null for ${r.required}`,
      send: (x) => json(setIn(x.valid(), r.required!, null))(x),
      status: 400,
      code: 'invalid_request',
      mentions: [display(r.required)],
    });
  for (const [field, bytes] of r.b64 ?? []) {
    for (const [what, value, why] of badBase64(bytes)) {
      out.push({
        label: `${field} in bad base64: ${what}`,
        send: (x) => json(setIn(x.valid(), field, value))(x),
        status: 400,
        code: 'invalid_request',
        mentions: [`${display(field)}:`, why],
      });
    }
  }
  for (const [what, mutate, mentions] of r.extra ?? []) {
    out.push({ label: what, send: (x) => json(mutate(x.valid()))(x), status: 400, code: 'invalid_request', mentions });
  }
  return out;
}

describe.each(jsonRoutes.map((r) => [r.name, r] as const))('%s', (_name, route) => {
  // Every case is refused, so the tables stay as they were before the first one: one snapshot
  // per case instead of two (the snapshots are most of this file's time).
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    before = await snapshot(t.db);
  });
  test.each(casesFor(route).map((c) => [c.label, c] as const))('rejects %s and writes nothing', async (_label, c) => {
    expectError(await c.send(route), c.status, c.code, ...c.mentions);
    expect(await snapshot(t.db)).toEqual(before);
  });
});

/** Runs each route's check in turn inside one snapshot, saying which route failed. */
async function eachRoute<R extends { name: string }>(routes: R[], check: (route: R) => Promise<unknown>): Promise<void> {
  await unchanged(async () => {
    for (const route of routes) {
      try {
        await check(route);
      } catch (e) {
        throw new Error(`${route.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
  });
}

// JSON.parse would keep the last value; another parser, the first: one request, two readings.
// The body parser refuses it before any route runs; each route is tried once, in one snapshot.
test('every JSON route refuses a body whose object gives a key twice, and writes nothing', async () => {
  await eachRoute(jsonRoutes, async (route) => {
    const body = route.valid();
    const key = Object.keys(body)[0] ?? 'extraField';
    const rest = JSON.stringify(body).slice(1);
    const text = `{"${key}":"${MARKER}",${rest === '}' ? `"${key}":1}` : rest}`;
    expectError(await route.open().set('Content-Type', 'application/json').send(text), 400, 'invalid_request', `the key ${key} twice`);
  });
});

describe('a key given twice in one object', () => {
  const retention = (text: string) => admin.agent.post('/api/staff/settings/retention').set('Content-Type', 'application/json').send(text);
  test.each<[string, string, string[]]>([
    // The last value alone would pass: it must not be what the server reads.
    [
      'a bad value, then a good one',
      '{"closedCaseDays":"x","closedCaseDays":30,"idleAccountDays":90}',
      ['body has the key closedCaseDays twice'],
    ],
    ['the same value twice', '{"closedCaseDays":30,"idleAccountDays":90,"closedCaseDays":30}', ['body has the key closedCaseDays twice']],
    [
      'one spelled with an escape',
      '{"closedCaseDays":30,"idleAccountDays":90,"\\u0063losedCaseDays":40}',
      ['body has the key closedCaseDays twice'],
    ],
    ['a key that is not a field name, not echoed', `{"<${MARKER}>":1,"<${MARKER}>":2}`, ['body has a key twice']],
  ])('POST /api/staff/settings/retention refuses %s and writes nothing', async (_label, text, mentions) => {
    await unchanged(async () => expectError(await retention(text), 400, 'invalid_request', ...mentions));
  });

  test('a repeated key deep inside is named by its path', async () => {
    const body = JSON.stringify(matchEntryBody()).replace('"epk":', `"epk":"${MARKER}","epk":`);
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/survivor/matching/entries')
          .set('Authorization', bearer())
          .set('Content-Type', 'application/json')
          .send(body),
        400,
        'invalid_request',
        'sealed.keys[0] has the key epk twice',
      ),
    );
  });
  // Objects side by side with the same keys (an envelope's recipient keys, a sealed entry's) are
  // accepted: every submission in beforeAll has them.
});

describe('GET routes', () => {
  const getRoutes: [string, () => request.Test][] = [
    ['GET /api/instance', () => request(t.app).get('/api/instance')],
    ['GET /api/survivor/cases', () => request(t.app).get('/api/survivor/cases').set('Authorization', bearer())],
    ['GET /api/staff/me', () => admin.agent.get('/api/staff/me')],
    ['GET /api/staff/members', () => admin.agent.get('/api/staff/members')],
    ['GET /api/staff/invites', () => admin.agent.get('/api/staff/invites')],
    ['GET /api/staff/cases', () => moderator.agent.get('/api/staff/cases')],
    ['GET /api/staff/cases/:caseId', () => moderator.agent.get(`/api/staff/cases/${firstCase.caseId}`)],
    ['GET /api/keysets', () => request(t.app).get('/api/keysets')],
    ['GET /api/staff/grants/pending', () => moderator.agent.get(`/api/staff/grants/pending?staffId=${moderator.staffId}`)],
    ['GET /api/staff/publishing', () => advocate.agent.get('/api/staff/publishing')],
    ['GET /api/staff/publishing/:caseId', () => advocate.agent.get(`/api/staff/publishing/${openCase.caseId}`)],
    [
      'GET /api/survivor/attachments/:id',
      () => request(t.app).get(`/api/survivor/attachments/${openUpload.id}`).set('Authorization', bearer()),
    ],
    [
      'GET /api/survivor/attachments/:id/records/:index',
      () => request(t.app).get(`/api/survivor/attachments/${sentUpload.id}/records/0`).set('Authorization', bearer()),
    ],
    ['GET /api/staff/attachments/:id', () => moderator.agent.get(`/api/staff/attachments/${sentUpload.id}`)],
    ['GET /api/staff/attachments/:id/records/:index', () => moderator.agent.get(`/api/staff/attachments/${sentUpload.id}/records/0`)],
    ['GET /api/staff/me/alerts', () => moderator.agent.get('/api/staff/me/alerts')],
    ['GET /api/staff/settings/retention', () => admin.agent.get('/api/staff/settings/retention')],
    ['GET /api/staff/settings', () => admin.agent.get('/api/staff/settings')],
    ['GET /api/staff/activity', () => admin.agent.get('/api/staff/activity')],
    ['GET /api/staff/inbox/unread', () => moderator.agent.get('/api/staff/inbox/unread')],
    ['GET /api/survivor/matching', () => request(t.app).get('/api/survivor/matching').set('Authorization', bearer())],
    ['GET /api/staff/matches', () => advocate.agent.get('/api/staff/matches')],
  ];
  test.each(getRoutes)('%s rejects a malformed JSON body and an oversized one, and writes nothing', async (_name, open) => {
    await unchanged(async () => {
      expectError(await open().set('Content-Type', 'application/json').send(`{"x": "${MARKER}"`), 400, 'malformed_json');
      expectError(await open().set('Content-Type', 'application/json').send(OVERSIZED), 413, 'body_too_large');
    });
    // GET routes take no body: the same route without one answers.
    expect((await open()).status).toBe(200);
  });

  const badQueries: [string, string, string[]][] = [
    ['an unknown status', `status=${MARKER}`, ['status']],
    // The inbox pages by cursor: any page number is refused with a message saying so.
    ['a page number', 'page=2', ['page:', 'cursor']],
    ['page 1', 'page=1', ['page:', 'cursor']],
    ['a page that is not a number', `page=${MARKER}`, ['page:', 'cursor']],
    ['an empty cursor', 'cursor=', ['cursor:']],
    ['a cursor given twice', 'cursor=abc&cursor=def', ['cursor:']],
    ['a cursor longer than any the server makes', `cursor=${'A'.repeat(513)}`, ['cursor:']],
    ['an unknown parameter', `extraField=${MARKER}`, ['query has unknown field', 'extraField']],
    ['an unknown parameter whose name is not a field name', `%3Cb%3E${MARKER}=1`, ['query has unknown field']],
  ];
  // Every route refuses a query parameter it does not take, the ones that take none included
  // (writes take none: their input is the body).
  const queryFree: [string, (query: string) => request.Test][] = [
    ...getRoutes.map(([name, open]): [string, (query: string) => request.Test] => [name, (query) => open().query(query)]),
    ['GET /api/staff/invites (admin)', (query) => admin.agent.get(`/api/staff/invites?${query}`)],
    ['GET /api/staff/audit', (query) => admin.agent.get(`/api/staff/audit?after=0&${query}`)],
    ['GET /api/staff/grants/pending', (query) => moderator.agent.get(`/api/staff/grants/pending?staffId=${moderator.staffId}&${query}`)],
    [
      'POST /api/staff/settings/retention',
      (query) => admin.agent.post(`/api/staff/settings/retention?${query}`).send({ closedCaseDays: 30 }),
    ],
    [
      'POST /api/survivor/matching/evaluate',
      (query) =>
        request(t.app)
          .post(`/api/survivor/matching/evaluate?${query}`)
          .set('Authorization', bearer())
          .send({ blinded: [b64(32)] }),
    ],
  ];
  test('every route refuses an unknown query parameter, naming it, and writes nothing', async () => {
    await eachRoute(
      queryFree.map(([name, send]) => ({ name, send })),
      async ({ send }) => expectError(await send(`extraField=${MARKER}`), 400, 'invalid_request', 'query has unknown field', 'extraField'),
    );
  });

  test.each(badQueries)('GET /api/staff/cases rejects %s', async (_label, query, mentions) => {
    await unchanged(async () => expectError(await moderator.agent.get(`/api/staff/cases?${query}`), 400, 'invalid_request', ...mentions));
  });

  const badStoryQueries: [string, string, string[]][] = [
    ['an unknown context', `context=${MARKER}`, ['context']],
    ['page 0', 'page=0', ['page']],
    ['a page that is not a number', `page=${MARKER}`, ['page:', 'whole number']],
    ['an empty page', 'page=', ['page:', 'plain digits']],
    ['a page in hex', 'page=0x2', ['page:', 'plain digits']],
    ['a page in exponent form', 'page=2e0', ['page:', 'plain digits']],
  ];
  // Shared links to the public pages pick up parameters on the way (social networks add
  // fbclid, newsletters utm_*): the pages ignore those rather than answer a visitor with JSON.
  test('the public pages ignore the parameters a shared link picks up, and still check their own', async () => {
    const tracking = `fbclid=${MARKER}&utm_source=newsletter`;
    await unchanged(async () => {
      for (const url of ['/stories', '/stories/feed.atom', '/stats'])
        expect((await request(t.app).get(`${url}?${tracking}`)).status).toBe(200);
      expect((await request(t.app).get(`/stories/abcdefghjk?${tracking}`)).status).toBe(404);
      const page = await request(t.app).get(`/stories?${tracking}`);
      expect(page.text).not.toContain(MARKER);
      expectError(await request(t.app).get(`/stories?context=${MARKER}&${tracking}`), 400, 'invalid_request', 'context');
    });
  });

  test.each(badStoryQueries)('GET /stories rejects %s', async (_label, query, mentions) => {
    await unchanged(async () => expectError(await request(t.app).get(`/stories?${query}`), 400, 'invalid_request', ...mentions));
  });

  test.each<[string, () => request.Test, string]>([
    [
      'GET /api/staff/grants/pending: an empty after',
      () => moderator.agent.get(`/api/staff/grants/pending?staffId=${moderator.staffId}&after=`),
      'after:',
    ],
    [
      'GET /api/staff/grants/pending: after in hex',
      () => moderator.agent.get(`/api/staff/grants/pending?staffId=${moderator.staffId}&after=0x1`),
      'after:',
    ],
    [
      'GET /api/staff/grants/pending: a staffId with non-zero trailing bits',
      () => moderator.agent.get(`/api/staff/grants/pending?staffId=${withTrailingBits(moderator.staffId)}`),
      'staffId:',
    ],
    [
      "GET /api/staff/grants/pending: an after beyond the database's integers",
      () => moderator.agent.get(`/api/staff/grants/pending?staffId=${moderator.staffId}&after=${DB_INT_MAX + 1}`),
      'after:',
    ],
    [
      "GET /api/staff/audit: an after beyond the database's integers",
      () => admin.agent.get(`/api/staff/audit?after=${DB_INT_MAX + 1}`),
      'after:',
    ],
    ['GET /api/staff/audit: an empty after', () => admin.agent.get('/api/staff/audit?after='), 'after:'],
    ['GET /api/staff/audit: a limit in exponent form', () => admin.agent.get('/api/staff/audit?limit=1e2'), 'limit:'],
    ['GET /api/staff/audit: a limit with a sign', () => admin.agent.get('/api/staff/audit?limit=%2B10'), 'limit:'],
  ])('%s is refused', async (_label, send, field) => {
    await unchanged(async () => expectError(await send(), 400, 'invalid_request', field));
  });

  test('plain-digit query numbers still work', async () => {
    expect((await moderator.agent.get('/api/staff/cases?status=new&sort=oldest')).status).toBe(200);
    expect((await moderator.agent.get(`/api/staff/grants/pending?staffId=${moderator.staffId}&after=0`)).status).toBe(200);
    expect((await admin.agent.get('/api/staff/audit?after=0&limit=500')).status).toBe(200);
    expect((await admin.agent.get(`/api/staff/audit?after=${DB_INT_MAX}`)).status).toBe(200);
    expect((await moderator.agent.get(`/api/staff/grants/pending?staffId=${moderator.staffId}&after=${DB_INT_MAX}`)).status).toBe(200);
    expect((await request(t.app).get('/stories?page=1')).status).toBe(200);
  });

  test.each([
    ['an alias of the wrong shape', `${MARKER}`],
    ['an alias that names nothing', 'abcdefghjk'],
  ])('GET /stories/:alias answers 404 for %s', async (_label, alias) => {
    await unchanged(async () => {
      const res = await request(t.app).get(`/stories/${encodeURIComponent(alias)}`);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain(MARKER);
    });
  });

  test.each([
    ['a caseId that is not an id', MARKER],
    ['a caseId too long', `${MARKER}${'A'.repeat(22)}`],
    ['a caseId with base64 padding', `${MARKER}AAAAAAAA=`],
    ['a caseId with non-zero trailing bits', 'AAAAAAAAAAAAAAAAAAAAAB'],
  ])('GET /api/staff/cases/:caseId rejects %s', async (_label, caseId) => {
    await unchanged(async () =>
      expectError(await moderator.agent.get(`/api/staff/cases/${encodeURIComponent(caseId)}`), 400, 'invalid_request', 'caseId'),
    );
  });

  const pathIdRoutes: [string, string, (id: string) => request.Test][] = [
    ['POST /api/staff/cases/:caseId/read', 'caseId', (id) => moderator.agent.post(`/api/staff/cases/${id}/read`).send({ seq: 0 })],
    [
      'POST /api/survivor/matching/entries/:entryId/replace',
      'entryId',
      (id) => request(t.app).post(`/api/survivor/matching/entries/${id}/replace`).set('Authorization', bearer()).send(matchEntryBody()),
    ],
    [
      'POST /api/survivor/matching/entries/:entryId/withdraw',
      'entryId',
      (id) => request(t.app).post(`/api/survivor/matching/entries/${id}/withdraw`).set('Authorization', bearer()).send({}),
    ],
  ];
  test.each(pathIdRoutes)(
    '%s refuses a path id that is not an id, and answers 404 for one that names nothing',
    async (_name, field, send) => {
      await unchanged(async () => {
        expectError(await send(encodeURIComponent(`${MARKER}/x`)), 400, 'invalid_request', `${field}:`);
        expectError(await send(withTrailingBits(randomId())), 400, 'invalid_request', `${field}:`, 'canonical');
        expectError(await send(randomId()), 404, 'not_found');
      });
    },
  );

  test.each<[string, () => request.Test]>([
    ['POST /api/staff/invites/:inviteId/revoke', () => admin.agent.post('/api/staff/invites/%ZZ/revoke').send({})],
    ['GET /stories/:alias', () => request(t.app).get('/stories/%ZZ')],
    ['GET /api/staff/cases/:caseId', () => moderator.agent.get(`/api/staff/cases/${MARKER}%E0%A4`)],
  ])('%s names a malformed %%-escape in the path', async (_name, send) => {
    await unchanged(async () => expectError(await send(), 400, 'malformed_path', 'malformed %-escape'));
  });

  test('GET /api/staff/cases/:caseId answers 404 for an id that names no case', async () => {
    await unchanged(async () => expectError(await moderator.agent.get(`/api/staff/cases/${randomId()}`), 404, 'not_found', 'no case'));
  });

  const badIds: [string, string][] = [
    ['an id that is not an id', MARKER],
    ['an id too long', `${MARKER}${'A'.repeat(22)}`],
    ['an id with base64 padding', `${MARKER}AAAAAAAA=`],
    ['an id with non-zero trailing bits', 'AAAAAAAAAAAAAAAAAAAAAB'],
  ];
  const attachmentGets: [string, (id: string) => request.Test][] = [
    [
      'GET /api/survivor/attachments/:id',
      (id) =>
        request(t.app)
          .get(`/api/survivor/attachments/${encodeURIComponent(id)}`)
          .set('Authorization', bearer()),
    ],
    [
      'GET /api/survivor/attachments/:id/records/0',
      (id) =>
        request(t.app)
          .get(`/api/survivor/attachments/${encodeURIComponent(id)}/records/0`)
          .set('Authorization', bearer()),
    ],
    [
      'POST /api/survivor/attachments/:id/close',
      (id) =>
        request(t.app)
          .post(`/api/survivor/attachments/${encodeURIComponent(id)}/close`)
          .set('Authorization', bearer())
          .send({}),
    ],
    ['GET /api/staff/attachments/:id', (id) => moderator.agent.get(`/api/staff/attachments/${encodeURIComponent(id)}`)],
    ['GET /api/staff/attachments/:id/records/0', (id) => moderator.agent.get(`/api/staff/attachments/${encodeURIComponent(id)}/records/0`)],
  ];
  test.each(attachmentGets.flatMap(([route, open]) => badIds.map(([label, id]) => [route, label, open, id] as const)))(
    '%s rejects %s',
    async (_route, _label, open, id) => {
      await unchanged(async () => expectError(await open(id), 400, 'invalid_request', 'id:'));
    },
  );
  test.each(attachmentGets.map(([route, open]) => [route, open] as const))(
    '%s answers 404 for an id that names no upload',
    async (_route, open) => {
      await unchanged(async () => expectError(await open(randomId()), 404, 'not_found'));
    },
  );
  test.each([['-1'], ['1.5'], ['01'], ['1e0'], ['0x1'], [' 1'], [MARKER], ['9999999999']])(
    'GET record routes reject the index %j',
    async (index) => {
      await unchanged(async () => {
        expectError(
          await request(t.app)
            .get(`/api/survivor/attachments/${sentUpload.id}/records/${encodeURIComponent(index)}`)
            .set('Authorization', bearer()),
          400,
          'invalid_request',
          'index:',
        );
        expectError(
          await moderator.agent.get(`/api/staff/attachments/${sentUpload.id}/records/${encodeURIComponent(index)}`),
          400,
          'invalid_request',
          'index:',
        );
      });
    },
  );
});

describe('PUT /api/survivor/attachments/:id/records/:index (raw bytes)', () => {
  const put = (index: number | string = 1, id: string = openUpload.id) =>
    request(t.app)
      .put(`/api/survivor/attachments/${encodeURIComponent(id)}/records/${encodeURIComponent(index)}`)
      .set('Authorization', bearer());
  const record = () => Buffer.from(openUpload.records[1]);
  const octets = 'application/octet-stream';

  test.each<[string, () => request.Test, number, string, (string | RegExp)[]]>([
    [
      'JSON',
      () =>
        put()
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ x: MARKER })),
      415,
      'unsupported_media_type',
      ['application/octet-stream'],
    ],
    [
      'malformed JSON',
      () => put().set('Content-Type', 'application/json').send(`{"x": "${MARKER}",`),
      415,
      'unsupported_media_type',
      ['application/octet-stream'],
    ],
    ['text/plain', () => put().set('Content-Type', 'text/plain').send(MARKER), 415, 'unsupported_media_type', ['application/octet-stream']],
    ['a form post', () => put().type('form').send({ x: MARKER }), 415, 'unsupported_media_type', []],
    ['no body at all', () => put(), 415, 'unsupported_media_type', []],
    [
      'a gzip-encoded record',
      () => put().set('Content-Type', octets).set('Content-Encoding', 'gzip').send(record()),
      415,
      'unsupported_encoding',
      ['Content-Encoding'],
    ],
    [
      'a body one byte over a record',
      () =>
        put()
          .set('Content-Type', octets)
          .send(Buffer.alloc(RECORD_BYTES + RECORD_OVERHEAD + 1)),
      413,
      'body_too_large',
      [`${RECORD_BYTES + RECORD_OVERHEAD} bytes`],
    ],
    ['a body over 256 KiB', () => put().set('Content-Type', octets).send(Buffer.from(OVERSIZED)), 413, 'body_too_large', []],
    ['a record one byte short', () => put().set('Content-Type', octets).send(record().subarray(1)), 400, 'bad_length', ['exactly']],
    [
      'a record of JSON text with the right type',
      () =>
        put()
          .set('Content-Type', octets)
          .send(Buffer.from(JSON.stringify({ x: MARKER }))),
      400,
      'bad_length',
      ['exactly'],
    ],
    ['an id that is not an id', () => put(1, MARKER).set('Content-Type', octets).send(record()), 400, 'invalid_request', ['id:']],
    ['an index that is not a number', () => put(MARKER).set('Content-Type', octets).send(record()), 400, 'invalid_request', ['index:']],
    ['an index with a sign', () => put('+1').set('Content-Type', octets).send(record()), 400, 'invalid_request', ['index:']],
    ['an index with a leading zero', () => put('01').set('Content-Type', octets).send(record()), 400, 'invalid_request', ['index:']],
    ['an index past the file', () => put(2).set('Content-Type', octets).send(record()), 400, 'bad_index', ['index']],
    [
      'the record already stored',
      () => put(0).set('Content-Type', octets).send(Buffer.from(openUpload.records[0])),
      409,
      'duplicate_record',
      ['next record is 1'],
    ],
    ['an id that names no upload', () => put(1, randomId()).set('Content-Type', octets).send(record()), 404, 'not_found', []],
    [
      'a closed upload',
      () => put(0, sentUpload.id).set('Content-Type', octets).send(Buffer.from(sentUpload.records[0])),
      409,
      'closed',
      [],
    ],
  ])('rejects %s and writes nothing', async (_label, send, status, code, mentions) => {
    await unchanged(async () => expectError(await send(), status, code, ...mentions));
  });

  test('the right record still goes in afterwards', async () => {
    expect((await asSurvivor(t, survivor).putRecord(openUpload.id, 1, openUpload.records[1])).body).toEqual({ received: 2 });
  });
});

describe('forged signatures', () => {
  function submit(envelope: unknown, keysetVersion: number, p: { challenge: string; nonce: number }) {
    return request(t.app).post('/api/survivor/cases').set('Authorization', bearer()).send({ envelope, keysetVersion, pow: p });
  }

  test('an envelope signed by another key is refused, and its proof of work stays unspent', async () => {
    const ks = await currentKeyset(t);
    const env = testimonyEnvelope(survivor, ks, MARKER);
    const other = nacl.sign.keyPair();
    const p = await pow(t);
    // Right signer named, wrong key signing.
    const forged = { ...env, sig: toBase64url(nacl.sign.detached(signedPart(env), other.secretKey)) };
    await unchanged(async () => expectError(await submit(forged, ks.keyset.version, p), 400, 'bad_signature', 'signature'));
    // Another signer named, consistently signed: not the survivor's key.
    const impostor = { ...env, signer: toBase64url(other.publicKey), sig: forged.sig };
    await unchanged(async () => expectError(await submit(impostor, ks.keyset.version, p), 400, 'untrusted_signer'));
    // Altered after signing: another ciphertext, or a recipient dropped.
    const flipped = env.ciphertext.slice(0, 40) + (env.ciphertext[40] === 'A' ? 'B' : 'A') + env.ciphertext.slice(41);
    await unchanged(async () => expectError(await submit({ ...env, ciphertext: flipped }, ks.keyset.version, p), 400, 'bad_signature'));
    await unchanged(async () =>
      expectError(await submit({ ...env, keys: env.keys.slice(0, -1) }, ks.keyset.version, p), 400, 'bad_signature'),
    );
    // The rejections spent nothing: the same proof of work still carries the genuine envelope.
    const ok = await submit(env, ks.keyset.version, p);
    expect(ok.status).toBe(201);
  });

  test('a registration whose signature signs another challenge is refused', async () => {
    const sign = nacl.sign.keyPair();
    const box = nacl.box.keyPair();
    const p = await pow(t);
    const body = (sig: Uint8Array) => ({
      signPk: toBase64url(sign.publicKey),
      boxPk: toBase64url(box.publicKey),
      pow: p,
      sig: toBase64url(sig),
    });
    const otherChallenge = randomToken(32);
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/survivor/register')
          .send(body(signLogin(t.ctx.instanceId, otherChallenge, sign.secretKey))),
        400,
        'bad_signature',
        'sig',
      ),
    );
    // A signature of this challenge for another instance does not carry over either.
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/survivor/register')
          .send(body(signLogin(randomId(), p.challenge, sign.secretKey))),
        400,
        'bad_signature',
      ),
    );
    // Nor one by a key other than signPk.
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/survivor/register')
          .send(body(signLogin(t.ctx.instanceId, p.challenge, nacl.sign.keyPair().secretKey))),
        400,
        'bad_signature',
      ),
    );
    const ok = await request(t.app)
      .post('/api/survivor/register')
      .send(body(signLogin(t.ctx.instanceId, p.challenge, sign.secretKey)));
    expect(ok.status).toBe(201);
  });

  test('a survivor login signed by another key, or for another challenge, is refused', async () => {
    const { challenge } = (await request(t.app).post('/api/survivor/challenge').send({})).body;
    const signPk = toBase64url(survivor.keys.sign.publicKey);
    await unchanged(async () => {
      expectError(
        await request(t.app)
          .post('/api/survivor/session')
          .send({ signPk, challenge, sig: toBase64url(signLogin(t.ctx.instanceId, challenge, nacl.sign.keyPair().secretKey)) }),
        401,
        'unauthorized',
      );
      expectError(
        await request(t.app)
          .post('/api/survivor/session')
          .send({ signPk, challenge, sig: toBase64url(signLogin(t.ctx.instanceId, randomToken(32), survivor.keys.sign.secretKey)) }),
        401,
        'unauthorized',
      );
      // A challenge the server never issued.
      const made = randomToken(32);
      expectError(
        await request(t.app)
          .post('/api/survivor/session')
          .send({ signPk, challenge: made, sig: toBase64url(signLogin(t.ctx.instanceId, made, survivor.keys.sign.secretKey)) }),
        401,
        'unauthorized',
      );
      // A correct signature by a key that never registered.
      const stranger = nacl.sign.keyPair();
      expectError(
        await request(t.app)
          .post('/api/survivor/session')
          .send({
            signPk: toBase64url(stranger.publicKey),
            challenge,
            sig: toBase64url(signLogin(t.ctx.instanceId, challenge, stranger.secretKey)),
          }),
        401,
        'unauthorized',
      );
    });
    // The failed attempts did not spend the challenge.
    const ok = await request(t.app)
      .post('/api/survivor/session')
      .send({ signPk, challenge, sig: toBase64url(signLogin(t.ctx.instanceId, challenge, survivor.keys.sign.secretKey)) });
    expect(ok.status).toBe(200);
  });

  describe('keysets', () => {
    async function next(over: Partial<Keyset> = {}, signer: nacl.SignKeyPair = admin.instance!): Promise<SignedKeyset> {
      const current = await currentKeyset(t);
      const k = current.keyset;
      return signKeyset({ ...k, version: k.version + 1, prev: keysetHash(k), issuedDay: utcDay(), ...over }, signer);
    }
    const publish = (signed: unknown) => admin.agent.post('/api/staff/keysets').send({ signed });
    const pendingMember = (over: Partial<KeysetMember> = {}): KeysetMember => ({
      staffId: pending.id,
      username: 'pending.one',
      roles: ['moderator'],
      boxPk: pending.material.boxPk,
      signPk: pending.material.signPk,
      ...over,
    });

    test.each<[string, () => Promise<unknown>, string, (string | RegExp)[]]>([
      ['signed by another instance key', async () => next({}, nacl.sign.keyPair()), 'fingerprint_changed', ['fingerprint']],
      [
        'with a forged signature under the right key name',
        async () => ({ ...(await next()), sig: toBase64url(nacl.randomBytes(64)) }),
        'bad_signature',
        [],
      ],
      [
        'altered after signing',
        async () => {
          const s = await next();
          return { ...s, keyset: { ...s.keyset, members: [...s.keyset.members, pendingMember()] } };
        },
        'bad_signature',
        [],
      ],
      ['that skips a version', async () => next({ version: (await currentKeyset(t)).keyset.version + 2 }), 'bad_keyset', ['version']],
      ['that repeats the current version', async () => currentKeyset(t), 'bad_keyset', ['version']],
      ['with a wrong prev hash', async () => next({ prev: keysetHash(keysetV1.keyset) }), 'bad_keyset', ['chain']],
      ['for another instance', async () => next({ instanceId: randomId() }), 'wrong_instance', []],
      [
        'adding a member whose box key is not the one in their staff row',
        async () =>
          next({
            members: [...(await currentKeyset(t)).keyset.members, pendingMember({ boxPk: toBase64url(nacl.box.keyPair().publicKey) })],
          }),
        'bad_keyset',
        ['own keys'],
      ],
      [
        'adding a member whose sign key is not the one in their staff row',
        async () =>
          next({
            members: [...(await currentKeyset(t)).keyset.members, pendingMember({ signPk: toBase64url(nacl.sign.keyPair().publicKey) })],
          }),
        'bad_keyset',
        ['own keys'],
      ],
      [
        'giving a member other roles than their invite',
        async () => next({ members: [...(await currentKeyset(t)).keyset.members, pendingMember({ roles: ['admin', 'moderator'] })] }),
        'bad_keyset',
        ['roles'],
      ],
      [
        'naming somebody who is not staff',
        async () =>
          next({
            members: [
              ...(await currentKeyset(t)).keyset.members,
              pendingMember({ staffId: randomId(), username: 'ghost.one', boxPk: toBase64url(nacl.box.keyPair().publicKey) }),
            ],
          }),
        'bad_keyset',
        ['not a staff member'],
      ],
      [
        'leaving out the admin who signs it',
        async () => next({ members: (await currentKeyset(t)).keyset.members.filter((m) => m.staffId !== admin.staffId) }),
        'bad_keyset',
        ['admin'],
      ],
      [
        'listing a member twice',
        async () => {
          const members = (await currentKeyset(t)).keyset.members;
          return next({ members: [...members, members[1]] });
        },
        'bad_keyset',
        ['twice'],
      ],
    ])('a keyset %s is refused and nothing changes', async (_label, make, code, mentions) => {
      const signed = await make();
      await unchanged(async () => expectError(await publish(signed), 400, code, ...mentions));
      const members = await admin.agent.get('/api/staff/members');
      expect(members.body.members.find((m: { id: string }) => m.id === pending.id).status).toBe('pending');
    });
  });
});

describe('replays', () => {
  test('a login challenge works once; the second use is 401', async () => {
    const { challenge } = (await request(t.app).post('/api/survivor/challenge').send({})).body;
    const body = {
      signPk: toBase64url(survivor.keys.sign.publicKey),
      challenge,
      sig: toBase64url(signLogin(t.ctx.instanceId, challenge, survivor.keys.sign.secretKey)),
    };
    expect((await request(t.app).post('/api/survivor/session').send(body)).status).toBe(200);
    await unchanged(async () =>
      expectError(await request(t.app).post('/api/survivor/session').send(body), 401, 'unauthorized', 'challenge'),
    );
  });

  test('a proof of work works once; the second use is 400 bad_pow', async () => {
    const p = await pow(t);
    const register = (sign: nacl.SignKeyPair) =>
      request(t.app)
        .post('/api/survivor/register')
        .send({
          signPk: toBase64url(sign.publicKey),
          boxPk: toBase64url(nacl.box.keyPair().publicKey),
          pow: p,
          sig: toBase64url(signLogin(t.ctx.instanceId, p.challenge, sign.secretKey)),
        });
    expect((await register(nacl.sign.keyPair())).status).toBe(201);
    await unchanged(async () => expectError(await register(nacl.sign.keyPair()), 400, 'bad_pow', 'pow.challenge'));
    // Spent on a registration, it cannot pay for a submission either.
    const ks = await currentKeyset(t);
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/survivor/cases')
          .set('Authorization', bearer())
          .send({ envelope: testimonyEnvelope(survivor, ks, MARKER), keysetVersion: ks.keyset.version, pow: p }),
        400,
        'bad_pow',
      ),
    );
  });

  test('a proof of work with a wrong nonce is refused and stays spendable', async () => {
    const p = await pow(t);
    let wrong = p.nonce + 1;
    while (checkPow(p.challenge, wrong, t.ctx.config.powBits)) wrong++;
    const ks = await currentKeyset(t);
    const env = testimonyEnvelope(survivor, ks, MARKER);
    const send = (nonce: number) =>
      request(t.app)
        .post('/api/survivor/cases')
        .set('Authorization', bearer())
        .send({ envelope: env, keysetVersion: ks.keyset.version, pow: { challenge: p.challenge, nonce } });
    await unchanged(async () => expectError(await send(wrong), 400, 'bad_pow', 'pow.nonce'));
    expect((await send(p.nonce)).status).toBe(201);
  });

  test('the same envelope, or the same caseId, submitted twice is 409', async () => {
    const ks = await currentKeyset(t);
    const env = testimonyEnvelope(survivor, ks, MARKER);
    const send = async (e: Envelope) =>
      request(t.app)
        .post('/api/survivor/cases')
        .set('Authorization', bearer())
        .send({ envelope: e, keysetVersion: ks.keyset.version, pow: await pow(t) });
    expect((await send(env)).status).toBe(201);
    const again = await pow(t);
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/survivor/cases')
          .set('Authorization', bearer())
          .send({ envelope: env, keysetVersion: ks.keyset.version, pow: again }),
        409,
        'case_exists',
        'caseId',
      ),
    );
    const sameId = testimonyEnvelope(survivor, ks, 'another text', env.caseId);
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/survivor/cases')
          .set('Authorization', bearer())
          .send({ envelope: sameId, keysetVersion: ks.keyset.version, pow: again }),
        409,
        'case_exists',
      ),
    );
  });

  test('the same envelope submitted twice at once: one 201, one 409, nothing logged', async () => {
    const ks = await currentKeyset(t);
    const env = testimonyEnvelope(survivor, ks, MARKER);
    const [p1, p2] = [await pow(t), await pow(t)];
    const logged = t.logs.length;
    const both = await Promise.all(
      [p1, p2].map((p) =>
        request(t.app)
          .post('/api/survivor/cases')
          .set('Authorization', bearer())
          .send({ envelope: env, keysetVersion: ks.keyset.version, pow: p }),
      ),
    );
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
    expectError(
      both.find((r) => r.status === 409)!,
      409,
    );
    expect(t.logs.slice(logged)).toEqual([]);
    expect(await t.db('envelopes').where({ case_id: env.caseId }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  test('a used invite is 410', async () => {
    await unchanged(async () => {
      expectError(
        await request(t.app).post('/api/staff/invites/check').send({ inviteToken: pending.inviteToken }),
        410,
        'invite_invalid',
        'already used',
      );
      expectError(
        await request(t.app)
          .post('/api/staff/enrol')
          .send({ inviteToken: pending.inviteToken, ...pending.material, username: 'second.use' }),
        410,
        'invite_invalid',
      );
    });
  });

  test('an expired invite is 410', async () => {
    const created = await admin.agent.post('/api/staff/invites').send({ roles: ['advocate'] });
    expect(created.status).toBe(201);
    const inviteToken = String(created.body.url).split('#')[1];
    expect((await request(t.app).post('/api/staff/invites/check').send({ inviteToken })).status).toBe(200);
    const n = await t
      .db('staff_invites')
      .where({ token_hash: hashToken(inviteToken) })
      .update({ expires_at: Date.now() - 1000 });
    expect(n).toBe(1);
    await unchanged(async () => {
      expectError(await request(t.app).post('/api/staff/invites/check').send({ inviteToken }), 410, 'invite_invalid', 'expired');
      expectError(
        await request(t.app)
          .post('/api/staff/enrol')
          .send({ inviteToken, ...pending.material, username: 'late.one' }),
        410,
        'invite_invalid',
      );
    });
  });

  test('an invite token nobody issued is 410', async () => {
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/staff/invites/check')
          .send({ inviteToken: randomToken(32) }),
        410,
        'invite_invalid',
      ),
    );
  });

  test('the setup request replayed after setup is 409', async () => {
    await unchanged(async () => expectError(await request(t.app).post('/api/setup').send(admin.setupBody), 409, 'already_set_up'));
    // With a fresh setup link too: the instance has its admin.
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/setup')
          .send({ ...admin.setupBody, setupToken: randomToken(32) }),
        409,
        'already_set_up',
      ),
    );
  });
});

describe('recipients of a testimony', () => {
  async function submitTo(recipients: Uint8Array[], keysetVersion?: number) {
    const ks = await currentKeyset(t);
    const envelope = sealEnvelope({
      kind: 'testimony',
      caseId: randomId(),
      body: { testimony: { what: MARKER } },
      recipients,
      signer: survivor.keys.sign,
    });
    const p = await pow(t);
    return unchanged(async () =>
      request(t.app)
        .post('/api/survivor/cases')
        .set('Authorization', bearer())
        .send({ envelope, keysetVersion: keysetVersion ?? ks.keyset.version, pow: p }),
    );
  }
  const own = () => survivor.keys.box.publicKey;
  const moderators = async () => readersOf((await currentKeyset(t)).keyset);

  test('a box key not in the signed keyset is 400 unknown_recipient', async () => {
    expectError(
      await submitTo([own(), ...(await moderators()), nacl.box.keyPair().publicKey]),
      400,
      'unknown_recipient',
      'not in the current keyset',
    );
  });
  test('a pending member, not yet in the keyset, is an unknown recipient', async () => {
    const pendingBox = Buffer.from(pending.material.boxPk, 'base64url');
    expectError(await submitTo([own(), ...(await moderators()), new Uint8Array(pendingBox)]), 400, 'unknown_recipient');
  });
  test("without the survivor's own key it is 400 missing_recipient", async () => {
    expectError(await submitTo(await moderators()), 400, 'missing_recipient', "survivor's own key");
  });
  test("another survivor's key in place of one's own is 400 missing_recipient", async () => {
    expectError(await submitTo([nacl.box.keyPair().publicKey, ...(await moderators())]), 400, 'missing_recipient');
  });
  test('without any moderator it is 400 missing_recipient', async () => {
    expectError(await submitTo([own()]), 400, 'missing_recipient', 'moderator');
  });
  test('a recipient listed twice is 400', async () => {
    const ks = await currentKeyset(t);
    const base = testimonyEnvelope(survivor, ks, MARKER);
    const twice = { ...base, keys: [...base.keys, base.keys[0]] };
    const signed = { ...twice, sig: toBase64url(nacl.sign.detached(signedPart(twice), survivor.keys.sign.secretKey)) };
    const p = await pow(t);
    await unchanged(async () =>
      expectError(
        await request(t.app)
          .post('/api/survivor/cases')
          .set('Authorization', bearer())
          .send({ envelope: signed, keysetVersion: ks.keyset.version, pow: p }),
        400,
        'invalid_request',
        'twice',
      ),
    );
  });
  test('a keysetVersion that is not the current one is 409 keyset_changed', async () => {
    const v = (await currentKeyset(t)).keyset.version;
    const recipients = [own(), ...(await moderators())];
    expectError(await submitTo(recipients, v - 1), 409, 'keyset_changed', `version ${v}`);
    expectError(await submitTo(recipients, v + 1), 409, 'keyset_changed', `version ${v}`);
  });
});

describe('authorization', () => {
  const staffRoutes: [string, (r: ReturnType<typeof request>) => request.Test][] = [
    ['GET /api/staff/me', (r) => r.get('/api/staff/me')],
    ['POST /api/staff/invites', (r) => r.post('/api/staff/invites').send({ roles: ['moderator'] })],
    ['GET /api/staff/members', (r) => r.get('/api/staff/members')],
    ['GET /api/staff/invites', (r) => r.get('/api/staff/invites')],
    ['POST /api/staff/invites/:inviteId/revoke', (r) => r.post(`/api/staff/invites/${openInviteId}/revoke`).send({})],
    ['POST /api/staff/keysets', (r) => r.post('/api/staff/keysets').send({ signed: keysetV1 })],
    ['GET /api/staff/cases', (r) => r.get('/api/staff/cases')],
    ['GET /api/staff/cases/:caseId', (r) => r.get(`/api/staff/cases/${firstCase.caseId}`)],
    ['GET /api/staff/publishing', (r) => r.get('/api/staff/publishing')],
    [
      'POST /api/staff/drafts/:draftId/publish',
      (r) => r.post(`/api/staff/drafts/${draftId}/publish`).send({ story: { title: 't', text: 'x', context: 'workplace' } }),
    ],
    ['GET /api/staff/attachments/:id', (r) => r.get(`/api/staff/attachments/${sentUpload.id}`)],
    ['GET /api/staff/attachments/:id/records/:index', (r) => r.get(`/api/staff/attachments/${sentUpload.id}/records/0`)],
  ];

  test.each(staffRoutes)('%s without a session cookie is 401', async (_name, call) => {
    await unchanged(async () => expectError(await call(request(t.app)), 401, 'unauthorized'));
  });

  test.each(staffRoutes)('%s with a forged session cookie is 401', async (_name, call) => {
    await unchanged(async () => {
      expectError(await call(request(t.app)).set('Cookie', `awaaz_staff=${MARKER}`), 401, 'unauthorized');
      expectError(await call(request(t.app)).set('Cookie', `awaaz_staff=${randomToken(32)}`), 401, 'unauthorized');
    });
  });

  test('a logged-out session cookie is 401', async () => {
    const token = randomToken(32);
    await t.db('staff_sessions').insert({
      token_hash: hashToken(token),
      staff_id: moderator.staffId,
      created_at: Date.now(),
      last_seen_at: Date.now(),
      live_until: Date.now() + 60_000,
    });
    const cookie = `awaaz_staff=${token}`;
    expect((await request(t.app).get('/api/staff/me').set('Cookie', cookie)).status).toBe(200);
    expect((await request(t.app).post('/api/staff/logout').set('Cookie', cookie).send({})).status).toBe(204);
    await unchanged(async () => expectError(await request(t.app).get('/api/staff/cases').set('Cookie', cookie), 401, 'unauthorized'));
  });

  test.each([
    ['idle', { created_at: Date.now() - 60_000 * 60, last_seen_at: Date.now() - 60_000 * 31 }],
    ['past its absolute lifetime', { created_at: Date.now() - 3_600_000 * 13, last_seen_at: Date.now() }],
  ])('a session %s is 401, and its row is deleted', async (_label, times) => {
    const token = randomToken(32);
    // Its own end lies ahead: the timeouts in force now are what end it.
    await t
      .db('staff_sessions')
      .insert({ token_hash: hashToken(token), staff_id: moderator.staffId, live_until: Date.now() + 86_400_000, ...times });
    expectError(await request(t.app).get('/api/staff/cases').set('Cookie', `awaaz_staff=${token}`), 401, 'unauthorized', 'ended');
    expect(
      await t
        .db('staff_sessions')
        .where({ token_hash: hashToken(token) })
        .first(),
    ).toBeUndefined();
  });

  test('a pending member (not yet in the keyset) sees themselves but no case: 403', async () => {
    const me = await pending.agent.get('/api/staff/me');
    expect(me.status).toBe(200);
    expect(me.body.status).toBe('pending');
    await unchanged(async () => {
      expectError(await pending.agent.get('/api/staff/cases'), 403, 'forbidden', 'keyset');
      expectError(await pending.agent.get(`/api/staff/cases/${firstCase.caseId}`), 403, 'forbidden');
    });
  });

  test('an advocate cannot list or open cases: 403', async () => {
    await unchanged(async () => {
      expectError(await advocate.agent.get('/api/staff/cases'), 403, 'forbidden', 'moderator');
      expectError(await advocate.agent.get(`/api/staff/cases/${firstCase.caseId}`), 403, 'forbidden', 'moderator');
      expectError(await advocate.agent.post('/api/staff/invites').send({ roles: ['advocate'] }), 403, 'forbidden', 'admin');
    });
  });

  test('a moderator cannot invite, list staff or publish a keyset: 403', async () => {
    await unchanged(async () => {
      expectError(await moderator.agent.post('/api/staff/invites').send({ roles: ['moderator'] }), 403, 'forbidden', 'admin');
      expectError(await moderator.agent.get('/api/staff/members'), 403, 'forbidden', 'admin');
      expectError(await moderator.agent.post('/api/staff/keysets').send({ signed: keysetV1 }), 403, 'forbidden', 'admin');
    });
    // ... while the same moderator does read cases.
    expect((await moderator.agent.get('/api/staff/cases')).status).toBe(200);
  });

  describe('survivor bearer tokens', () => {
    const tamperedSid = () => {
      const [, mac] = survivor.token.split('.');
      const payload = toBase64url(Buffer.from(JSON.stringify({ sid: randomId(), exp: Date.now() + 600_000 })));
      return `${payload}.${mac}`;
    };
    const tamperedExp = () => {
      const [, mac] = survivor.token.split('.');
      const payload = toBase64url(Buffer.from(JSON.stringify({ sid: survivorId, exp: Date.now() + 86_400_000 * 365 })));
      return `${payload}.${mac}`;
    };
    const tokens: [string, () => string | undefined][] = [
      ['no Authorization header', () => undefined],
      ['another scheme', () => `Basic ${survivor.token}`],
      ['a forged token', () => `Bearer ${MARKER}.${MARKER}`],
      ['a token with a third part', () => `Bearer ${survivor.token}.${MARKER}`],
      ['a token for another survivor id (payload swapped)', () => `Bearer ${tamperedSid()}`],
      ['a token whose expiry was pushed back', () => `Bearer ${tamperedExp()}`],
      [
        'a token signed by another server secret',
        () => `Bearer ${issueSurvivorToken(toBase64url(nacl.randomBytes(32)), survivorId, 600_000, t.ctx.clock.now())}`,
      ],
      ['an expired token', () => `Bearer ${issueSurvivorToken(t.ctx.serverSecret, survivorId, 60_000, Date.now() - 120_000)}`],
      ['a bad MAC encoding', () => `Bearer ${survivor.token.split('.')[0]}.${MARKER}+/`],
    ];
    test.each(tokens)('%s is 401 on GET and POST /api/survivor/cases', async (_label, header) => {
      const h = header();
      const get = request(t.app).get('/api/survivor/cases');
      const ks = await currentKeyset(t);
      const post = request(t.app).post('/api/survivor/cases');
      const p = await pow(t);
      await unchanged(async () => {
        expectError(await (h ? get.set('Authorization', h) : get), 401, 'unauthorized');
        const body = { envelope: testimonyEnvelope(survivor, ks, MARKER), keysetVersion: ks.keyset.version, pow: p };
        expectError(await (h ? post.set('Authorization', h) : post).send(body), 401, 'unauthorized');
      });
    });
    test.each(tokens)('%s is 401 on the attachment routes', async (_label, header) => {
      const h = header();
      const withToken = (r: request.Test) => (h ? r.set('Authorization', h) : r);
      await unchanged(async () => {
        expectError(await withToken(request(t.app).post('/api/survivor/attachments')).send({ size: 1, records: 1 }), 401, 'unauthorized');
        expectError(await withToken(request(t.app).get(`/api/survivor/attachments/${openUpload.id}`)), 401, 'unauthorized');
        expectError(
          await withToken(request(t.app).put(`/api/survivor/attachments/${openUpload.id}/records/1`))
            .set('Content-Type', 'application/octet-stream')
            .send(Buffer.from(openUpload.records[1])),
          401,
          'unauthorized',
        );
        expectError(await withToken(request(t.app).get(`/api/survivor/attachments/${sentUpload.id}/records/0`)), 401, 'unauthorized');
      });
    });
    test('a valid token for a survivor id that does not exist cannot submit', async () => {
      const ks = await currentKeyset(t);
      const p = await pow(t);
      const token = issueSurvivorToken(t.ctx.serverSecret, randomId(), 600_000, t.ctx.clock.now());
      await unchanged(async () =>
        expectError(
          await request(t.app)
            .post('/api/survivor/cases')
            .set('Authorization', `Bearer ${token}`)
            .send({ envelope: testimonyEnvelope(survivor, ks, MARKER), keysetVersion: ks.keyset.version, pow: p }),
          401,
          'unauthorized',
        ),
      );
    });
    test("a survivor's genuine token still works", async () => {
      const mine = await request(t.app).get('/api/survivor/cases').set('Authorization', bearer());
      expect(mine.status).toBe(200);
      expect(mine.body.cases.map((c: { caseId: string }) => c.caseId)).toContain(firstCase.caseId);
    });
  });
});

describe('cross-site requests', () => {
  const invite = () => admin.agent.post('/api/staff/invites');
  const ownOrigin = () => new URL(t.ctx.config.publicUrl).origin;

  test.each<[string, Record<string, string>]>([
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'Sec-Fetch-Site': 'same-site' }],
    ['Sec-Fetch-Site: cross-site even with our own Origin', { 'Sec-Fetch-Site': 'cross-site', Origin: 'http://localhost:8080' }],
    ['another Origin and no Sec-Fetch-Site', { Origin: `https://${MARKER}.example` }],
    ['Origin: null (a sandboxed frame, a file)', { Origin: 'null' }],
    ['our host name on another port', { Origin: 'http://localhost:9999' }],
  ])('a staff write with %s is 403 and writes nothing, before its body is read', async (_label, headers) => {
    await unchanged(async () => {
      expectError(
        await invite()
          .set(headers)
          .send({ roles: ['moderator'] }),
        403,
        'cross_site_request',
        'another site',
      );
      // Refused before parsing: a broken body gets the same answer.
      expectError(await invite().set(headers).set('Content-Type', 'application/json').send(`{"x": "${MARKER}"`), 403, 'cross_site_request');
    });
  });

  test('survivor and anonymous writes are held to the same rule', async () => {
    await unchanged(async () => {
      expectError(
        await request(t.app).post('/api/survivor/challenge').set('Sec-Fetch-Site', 'cross-site').send({}),
        403,
        'cross_site_request',
      );
      expectError(
        await request(t.app)
          .post(`/api/survivor/cases/${firstCase.caseId}/seen`)
          .set('Authorization', bearer())
          .set('Origin', 'https://elsewhere.example')
          .send({ seq: 0 }),
        403,
        'cross_site_request',
      );
      expectError(
        await request(t.app)
          .put(`/api/survivor/attachments/${openUpload.id}/records/1`)
          .set('Authorization', bearer())
          .set('Sec-Fetch-Site', 'cross-site')
          .set('Content-Type', 'application/octet-stream')
          .send(Buffer.from(openUpload.records[1])),
        403,
        'cross_site_request',
      );
    });
  });

  test('reads are not affected: a cross-site GET answers as usual', async () => {
    expect((await admin.agent.get('/api/staff/me').set('Sec-Fetch-Site', 'cross-site')).status).toBe(200);
    expect((await request(t.app).get('/api/instance').set('Origin', 'https://elsewhere.example')).status).toBe(200);
  });

  test('our own pages get through: same-origin, our Origin, the Host asked for, or no such header at all', async () => {
    for (const headers of [{ 'Sec-Fetch-Site': 'same-origin' }, { 'Sec-Fetch-Site': 'none' }, { Origin: ownOrigin() }, {}] as Record<
      string,
      string
    >[]) {
      expect(
        (
          await invite()
            .set(headers)
            .send({ roles: ['advocate'] })
        ).status,
      ).toBe(201);
    }
    // Reached under another name than PUBLIC_URL (an onion address, 127.0.0.1): the Origin matches the Host.
    const res = await request(t.app).post('/api/pow').set('Host', 'example.onion').set('Origin', 'http://example.onion').send({});
    expect(res.status).toBe(200);
    expectError(
      await request(t.app).post('/api/pow').set('Host', 'example.onion').set('Origin', 'http://elsewhere.onion').send({}),
      403,
      'cross_site_request',
    );
  });
});

describe('unknown routes', () => {
  test.each([
    ['GET', '/api/nope'],
    ['POST', '/api/nope'],
    ['GET', '/api/survivor/nope'],
    ['GET', '/api/staff/nope'],
    ['POST', '/api/instance'],
    ['GET', '/api/pow'],
    ['PUT', '/api/staff/me'],
    ['DELETE', `/api/staff/cases/${MARKER}`],
    ['DELETE', `/api/survivor/attachments/${MARKER}`],
    ['PUT', `/api/staff/attachments/${MARKER}/records/0`],
    ['POST', `/api/survivor/attachments/${MARKER}/records/0`],
    ['GET', `/api/${MARKER}`],
  ])('%s %s is 404 with the error shape', async (method, path) => {
    const r = request(t.app)[method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](path);
    await unchanged(async () => expectError(await (method === 'GET' ? r : r.send({})), 404, 'not_found'));
  });

  test.each([['/assets/nope.js'], [`/assets/${MARKER}.css`], ['/assets/'], [`/${MARKER}`], ['/share/extra']])(
    'GET %s is 404 with the error shape',
    async (path) => {
      expectError(await request(t.app).get(path), 404, 'not_found');
    },
  );

  test.each([['/assets/..%2f..%2fpackage.json'], ['/assets/%2e%2e/%2e%2e/package.json'], ['/assets/..%5c..%5cpackage.json']])(
    'GET %s (a path out of assets/) is refused with the error shape',
    async (path) => {
      const res = await request(t.app).get(path);
      expect([400, 404]).toContain(res.status);
      expectError(res, res.status);
      expect(res.text).not.toContain('"dependencies"');
    },
  );
});

describe('after all of that', () => {
  test('the server keeps serving: a full valid round trip succeeds', async () => {
    expect((await request(t.app).get('/api/instance')).status).toBe(200);
    const { res, envelope } = await submitTestimony(t, survivor, 'still here');
    expect(res.status).toBe(201);
    const detail = await moderator.agent.get(`/api/staff/cases/${envelope.caseId}`);
    expect(detail.status).toBe(200);
    expect(findEnvelope(detail.body, envelope.caseId)).toEqual(envelope);
    // The admin's rejected logouts left the session alive.
    expect((await admin.agent.get('/api/staff/me')).status).toBe(200);
    // And the keyset that every forged variant above was derived from is accepted as is.
    const current = await currentKeyset(t);
    const next = signKeyset(
      {
        ...current.keyset,
        version: current.keyset.version + 1,
        prev: keysetHash(current.keyset),
        members: [
          ...current.keyset.members,
          {
            staffId: pending.id,
            username: 'pending.one',
            roles: ['moderator'],
            boxPk: pending.material.boxPk,
            signPk: pending.material.signPk,
          },
        ],
      },
      admin.instance!,
    );
    const published = await admin.agent.post('/api/staff/keysets').send({ signed: next });
    expect(published.status).toBe(201);
    expect(published.body).toEqual({ version: current.keyset.version + 1, added: 1, removed: 0 });
    expect((await pending.agent.get('/api/staff/cases')).status).toBe(200);
    expect(t.logs).toEqual([]);
  });
});
