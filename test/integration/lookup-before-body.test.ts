/**
 * A case, draft or upload that is not the caller's answers 404 whatever the body says: the
 * routes look it up (server/services) before they read the body. The same bad body sent to
 * the caller's own case is a 400, so this fails if a route ever parses the body first.
 */
import { randomId } from '../../protocol';
import {
  addStaff,
  asSurvivor,
  makeTestServer,
  registerSurvivor,
  setupAdmin,
  submitTestimony,
  unchanged,
  uploadFile,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
} from '../support/harness';
import { expectError } from './expect-error';

let t: TestServer;
let mod: StaffActor;
let owner: SurvivorActor;
let stranger: SurvivorActor;
let caseId: string;

const badBody = { typo: 1 };

beforeAll(async () => {
  t = await makeTestServer();
  const admin = await setupAdmin(t, ['admin']);
  mod = await addStaff(t, admin, 'mod.one');
  owner = await registerSurvivor(t);
  stranger = await registerSurvivor(t);
  const { res, envelope } = await submitTestimony(t, owner, 'the testimony');
  expect(res.status).toBe(201);
  caseId = envelope.caseId;
});
afterAll(() => t.close());

describe.each([
  ['messages', () => `/api/survivor/cases/${caseId}/messages`],
  ['seen', () => `/api/survivor/cases/${caseId}/seen`],
  ['sharing', () => `/api/survivor/cases/${caseId}/sharing`],
])('POST /api/survivor/cases/:caseId/%s', (_name, path) => {
  test("with a bad body is 404 for another survivor's case and 400 for one's own, and writes nothing", async () => {
    await unchanged(t, async () => {
      expectError(await asSurvivor(t, stranger).post(path(), badBody), 404, 'not_found', 'no case with this id');
      expectError(await asSurvivor(t, owner).post(path(), badBody), 400, 'invalid_request');
    });
  });
});

test.each(['changes', 'consent', 'revoke'])(
  "POST a draft %s with a bad body is 404 until the case and the draft are the caller's",
  async (action) => {
    await unchanged(t, async () => {
      const path = `/api/survivor/cases/${caseId}/drafts/${randomId()}/${action}`;
      expectError(await asSurvivor(t, stranger).post(path, badBody), 404, 'not_found', 'no case with this id');
      expectError(await asSurvivor(t, owner).post(path, badBody), 404, 'not_found', 'no draft with this id');
    });
  },
);

test('a moderator proposing a draft with a bad body for a case closed to advocates is 404', async () => {
  await unchanged(t, async () => {
    expectError(await mod.agent.post(`/api/staff/cases/${caseId}/drafts`).send(badBody), 404, 'not_found', 'open to advocates');
  });
});

test("closing another survivor's upload with a bad body is 404; one's own is 400", async () => {
  const upload = await uploadFile(t, owner, new Uint8Array(100), { close: false });
  await unchanged(t, async () => {
    const path = `/api/survivor/attachments/${upload.id}/close`;
    expectError(await asSurvivor(t, stranger).post(path, badBody), 404, 'not_found', 'no upload of yours');
    expectError(await asSurvivor(t, owner).post(path, badBody), 400, 'invalid_request');
  });
});

test("a record of the wrong length is 404 for another survivor's upload and 400 for one's own", async () => {
  const upload = await uploadFile(t, owner, new Uint8Array(100), { upTo: 0 });
  await unchanged(t, async () => {
    expectError(await asSurvivor(t, stranger).putRecord(upload.id, 0, new Uint8Array(3)), 404, 'not_found', 'no upload of yours');
    expectError(await asSurvivor(t, owner).putRecord(upload.id, 0, new Uint8Array(3)), 400, 'bad_length', 'record 0');
  });
});
