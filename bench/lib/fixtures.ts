/**
 * Setup helpers for the benchmarks: they play the admin's, a moderator's and a survivor's
 * browsers over real HTTP with protocol/ (the same code the pages use), against an Awaaz
 * server that a benchmark started on 127.0.0.1. Nothing here imports from test/.
 *
 * Setup traffic goes through fetch; the measured traffic is sent by the benchmark itself.
 */
import nacl from 'tweetnacl';
import {
  generateCodename,
  keysetHash,
  normalizeCodename,
  randomId,
  readersOf,
  sealEnvelope,
  signKeyset,
  signLogin,
  solvePow,
  STAFF_KDF,
  staffSecrets,
  survivorKeyPairs,
  survivorMaster,
  toBase64url,
  utcDay,
  wrapPrivateKeys,
  type Envelope,
  type KeyPairs,
  type SignedKeyset,
  type StaffRole,
} from '../../protocol';
import type { InstanceInfo, PowChallenge, RecoveryCodes, SurvivorSession, TotpSetup } from '../../protocol/api';
import { base32Decode, totp } from '../../server/http/totp';

/** A tiny JSON client for one origin, with a one-cookie jar (enough for the staff session). */
export class JsonClient {
  private cookie: string | undefined;
  constructor(readonly base: string) {}

  async call<T = unknown>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed as T };
  }

  /** Like call, but throws unless the answer has the expected status. */
  async expect<T = unknown>(
    status: number,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T> {
    const res = await this.call<T>(method, path, body, headers);
    if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

export interface Staff {
  client: JsonClient;
  staffId: string;
  username: string;
  roles: StaffRole[];
  box: nacl.BoxKeyPair;
  sign: nacl.SignKeyPair;
  /** only the admin holds the instance signing key */
  instance?: nacl.SignKeyPair;
  /** the TOTP secret enrolled right after the password step (two-factor sign-in is mandatory) */
  totpSecret: Uint8Array;
}

/**
 * Two-factor enrolment in a session that waits for it (right after setup or enrolment): takes
 * the secret the server made and confirms the current code, as the authenticator app would.
 */
export async function enrolTotp(client: JsonClient): Promise<Uint8Array> {
  const setup = await client.expect<TotpSetup>(200, 'POST', '/api/staff/totp/setup', {});
  const secret = base32Decode(setup.secret);
  await client.expect<RecoveryCodes>(201, 'POST', '/api/staff/totp/confirm', { code: totp(secret, Date.now()) });
  return secret;
}

/** What a new staff member's browser makes: key pairs, argon2id-derived secrets, wrapped keys. */
async function staffMaterial(username: string, instance?: nacl.SignKeyPair) {
  const box = nacl.box.keyPair();
  const sign = nacl.sign.keyPair();
  const salt = nacl.randomBytes(16);
  const { wrapKey, authKey } = await staffSecrets(`${username} password for the benchmark`, salt, STAFF_KDF);
  const wrappedKeys = wrapPrivateKeys(
    { boxSecretKey: box.secretKey, signSecretKey: sign.secretKey, instanceSecretKey: instance?.secretKey },
    wrapKey,
  );
  return {
    box,
    sign,
    material: {
      username,
      kdf: { params: STAFF_KDF, salt: toBase64url(salt) },
      authKey: toBase64url(authKey),
      boxPk: toBase64url(box.publicKey),
      signPk: toBase64url(sign.publicKey),
      wrappedKeys,
    },
  };
}

/** The first admin, from the one-time setup token (the part after '#' of the setup link). */
export async function setupAdmin(
  base: string,
  instanceId: string,
  setupToken: string,
  roles: StaffRole[] = ['admin', 'moderator'],
): Promise<Staff> {
  const instance = nacl.sign.keyPair();
  const staffId = randomId();
  const { box, sign, material } = await staffMaterial('admin', instance);
  const keyset = signKeyset(
    {
      v: 1,
      instanceId,
      version: 1,
      prev: null,
      issuedDay: utcDay(),
      members: [{ staffId, username: 'admin', roles, boxPk: material.boxPk, signPk: material.signPk }],
    },
    instance,
  );
  const client = new JsonClient(base);
  await client.expect(201, 'POST', '/api/setup', { setupToken, staffId, roles, keyset, ...material });
  const totpSecret = await enrolTotp(client);
  return { client, staffId, username: 'admin', roles, box, sign, instance, totpSecret };
}

export async function currentKeyset(base: string): Promise<SignedKeyset> {
  const info = await new JsonClient(base).expect<InstanceInfo>(200, 'GET', '/api/instance');
  if (!info.keyset) throw new Error('the instance has no keyset yet');
  return info.keyset;
}

/** The admin invites, the new member enrols, the admin's browser signs the next keyset. */
export async function addStaff(
  base: string,
  instanceId: string,
  admin: Staff,
  username: string,
  role: StaffRole = 'moderator',
): Promise<Staff> {
  const invite = await admin.client.expect<{ url: string }>(201, 'POST', '/api/staff/invites', { roles: [role] });
  const inviteToken = invite.url.split('#')[1];
  const { box, sign, material } = await staffMaterial(username);
  const client = new JsonClient(base);
  const enrolled = await client.expect<{ id: string }>(201, 'POST', '/api/staff/enrol', { inviteToken, ...material });
  const totpSecret = await enrolTotp(client);
  const current = await currentKeyset(base);
  const next = signKeyset(
    {
      v: 1,
      instanceId,
      version: current.keyset.version + 1,
      prev: keysetHash(current.keyset),
      issuedDay: utcDay(),
      members: [
        ...current.keyset.members,
        { staffId: enrolled.id, username, roles: [role], boxPk: material.boxPk, signPk: material.signPk },
      ],
    },
    admin.instance!,
  );
  await admin.client.expect(201, 'POST', '/api/staff/keysets', { signed: next });
  return { client, staffId: enrolled.id, username, roles: [role], box, sign, totpSecret };
}

export interface Survivor {
  keys: KeyPairs;
  token: string;
  handle: string;
}

/** A fresh single-use proof-of-work challenge, solved (instantly when POW_BITS=0). */
export async function pow(base: string): Promise<{ challenge: string; nonce: number }> {
  const c = await new JsonClient(base).expect<PowChallenge>(200, 'POST', '/api/pow', {});
  return { challenge: c.challenge, nonce: solvePow(c.challenge, c.bits) };
}

/** Many challenges, fetched with a few requests in flight. */
export async function pows(base: string, count: number, inFlight = 8): Promise<{ challenge: string; nonce: number }[]> {
  const out = new Array<{ challenge: string; nonce: number }>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await pow(base);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return out;
}

/** A new survivor: codename → argon2id → key pairs, registered with a proof of work. */
export async function registerSurvivor(base: string, instanceId: string): Promise<Survivor> {
  const keys = survivorKeyPairs(await survivorMaster(normalizeCodename(generateCodename()), instanceId));
  const p = await pow(base);
  const session = await new JsonClient(base).expect<SurvivorSession>(201, 'POST', '/api/survivor/register', {
    signPk: toBase64url(keys.sign.publicKey),
    boxPk: toBase64url(keys.box.publicKey),
    pow: p,
    sig: toBase64url(signLogin(instanceId, p.challenge, keys.sign.secretKey)),
  });
  return { keys, token: session.token, handle: session.handle };
}

/** About `bytes` characters of plain ASCII prose, different each time. */
export function testimonyText(bytes: number): string {
  const words = [
    'he',
    'said',
    'the',
    'office',
    'after',
    'meeting',
    'again',
    'when',
    'nobody',
    'was',
    'there',
    'and',
    'I',
    'told',
    'my',
    'manager',
    'who',
    'laughed',
    'it',
    'off',
  ];
  const rnd = nacl.randomBytes(bytes);
  let out = '';
  for (let i = 0; out.length < bytes; i++) out += words[rnd[i % rnd.length] % words.length] + (i % 17 === 16 ? '. ' : ' ');
  return out.slice(0, bytes);
}

/** A testimony envelope as the share page seals it: to the survivor and every moderator. */
export function testimonyEnvelope(
  signer: nacl.SignKeyPair,
  ownBoxPk: Uint8Array,
  keyset: SignedKeyset,
  what: string,
  caseId = randomId(),
): Envelope {
  return sealEnvelope({
    kind: 'testimony',
    caseId,
    body: { testimony: { what, when: '2018', context: 'workplace', wantsReplies: true } },
    recipients: [ownBoxPk, ...readersOf(keyset.keyset)],
    signer,
  });
}
