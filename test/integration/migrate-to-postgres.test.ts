/**
 * Moving an instance from SQLite to PostgreSQL (`npm run admin -- migrate-to-postgres`,
 * server/db/sqlite-to-postgres.ts): a SQLite instance populated through the API (staff with
 * TOTP, a survivor's testimony with an evidence file, a reply, a published story, an erased
 * survivor, the audit log) is copied, and the app started on the copy lets the same people do
 * what they could. A copy that differs is caught and rolled back; an occupied target, or a
 * SQLite file a server still has open, is refused. Runs on PostgreSQL whatever engine the
 * suite runs on (test/support/postgres-server.ts).
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import {
  DELETE_EVERYTHING_CONFIRMATION,
  envelopeHash,
  openEnvelope,
  randomId,
  readersOf,
  sealEnvelope,
  signLogin,
  signStatement,
  storyHash,
  toBase64url,
  utcDay,
  verifyAuditChain,
  type AuditRecord,
  type ConsentStatement,
  type PublicStory,
} from '../../protocol';
import type { EnvelopeItem } from '../../protocol/api';
import { openDatabase, openSqliteReadOnly, rowsOf } from '../../server/db/database';
import { MAX_ENVELOPE_ID, randomEnvelopeId } from '../../server/db/envelope-repo';
import { copySqliteToPostgres, CopyRefused, type CopyReport } from '../../server/db/sqlite-to-postgres';
import {
  addStaff,
  currentKeyset,
  makeTestServer,
  pow,
  registerSurvivor,
  ROOT,
  setupAdmin,
  signIn,
  submitTestimony,
  survivorKeys,
  uploadFile,
  type StaffActor,
  type SurvivorActor,
  type TestServer,
  type UploadedFile,
} from '../support/harness';
import { freshPostgresDatabase } from '../support/postgres';
import { describeWithPostgres, testPostgresServer } from '../support/postgres-server';

const STORY: PublicStory = {
  title: 'At the depot',
  text: 'The supervisor followed me home twice.\n\nI told the union.',
  context: 'workplace',
};

let server: { url: string; release(): void };
let src: TestServer;
/** Ids the source server's next envelopes get, before its random draws take over again. */
const plannedIds: number[] = [];
const ERASED_ENVELOPE_ID = MAX_ENVELOPE_ID - 1;
let admin: StaffActor;
let mod: StaffActor;
let advocate: StaffActor;
let survivor: SurvivorActor;
let caseId: string;
let file: UploadedFile;
let alias: string;
let sourceSha256: string;
/** the source's tables as SQLite lists them (the copy must cover every one) */
let sourceTables: string[];
const dropLater: { drop(): Promise<void> }[] = [];

async function newTarget(): Promise<string> {
  const db = await freshPostgresDatabase(server.url);
  dropLater.push(db);
  return db.url;
}

const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

describeWithPostgres('moving a SQLite instance to PostgreSQL', () => {
  beforeAll(async () => {
    server = testPostgresServer();
    src = await makeTestServer({}, { engine: 'sqlite', drawEnvelopeId: () => plannedIds.shift() ?? randomEnvelopeId() });
    admin = await setupAdmin(src, ['admin']);
    mod = await addStaff(src, admin, 'mod.one');
    advocate = await addStaff(src, admin, 'adv.one', 'advocate');

    // A testimony open to advocates, with an evidence file of two sealed records.
    survivor = await registerSurvivor(src);
    file = await uploadFile(src, survivor, crypto.randomBytes(70_000));
    const ks = await currentKeyset(src);
    caseId = randomId();
    const testimony = sealEnvelope({
      kind: 'testimony',
      caseId,
      body: {
        testimony: { what: 'what happened at the depot', when: '2021', context: 'workplace', wantsReplies: true },
        attachments: [file.manifest],
      },
      recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset), ...readersOf(ks.keyset, 'advocate')],
      signer: survivor.keys.sign,
    });
    const submitted = await request(src.app)
      .post('/api/survivor/cases')
      .set('Authorization', `Bearer ${survivor.token}`)
      .send({
        envelope: testimony,
        keysetVersion: ks.keyset.version,
        pow: await pow(src),
        attachments: [file.id],
        sharing: { advocatesMayRead: true, statistics: { context: 'workplace', province: 'sindh' } },
      });
    expect(submitted.status).toBe(201);

    // The moderator replies.
    const reply = sealEnvelope({
      kind: 'message',
      caseId,
      prev: envelopeHash(testimony),
      body: { text: 'we have read it' },
      recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset)],
      signer: mod.sign,
    });
    expect(
      (await mod.agent.post(`/api/staff/cases/${caseId}/messages`).send({ envelope: reply, keysetVersion: ks.keyset.version })).status,
    ).toBe(201);

    // An advocate drafts a story, the survivor consents, the advocate publishes it.
    const draftId = randomId();
    const draft = sealEnvelope({
      kind: 'draft',
      caseId,
      body: { draft: { draftId, ...STORY } },
      recipients: [survivor.keys.box.publicKey, ...readersOf(ks.keyset), ...readersOf(ks.keyset, 'advocate')],
      signer: advocate.sign,
    });
    expect(
      (await advocate.agent.post(`/api/staff/cases/${caseId}/drafts`).send({ draftId, envelope: draft, keysetVersion: ks.keyset.version }))
        .status,
    ).toBe(201);
    const statement: ConsentStatement = { v: 1, type: 'publish', caseId, draftId, textHash: await storyHash(STORY), issuedDay: utcDay() };
    const consent = await request(src.app)
      .post(`/api/survivor/cases/${caseId}/drafts/${draftId}/consent`)
      .set('Authorization', `Bearer ${survivor.token}`)
      .send({ statement, sig: signStatement(statement, survivor.keys.sign.secretKey) });
    expect(consent.status).toBe(201);
    const published = await advocate.agent.post(`/api/staff/drafts/${draftId}/publish`).send({ story: STORY });
    expect(published.status).toBe(201);
    alias = published.body.alias;

    // A second survivor testifies and then deletes everything: SQLite remembers the erased
    // envelope's id (sqlite_sequence), so the highest id left is below the sequence's next one.
    // Envelope ids are random: this one is made the highest ever drawn.
    const erased = await registerSurvivor(src);
    plannedIds.push(ERASED_ENVELOPE_ID);
    expect((await submitTestimony(src, erased, 'to be erased')).res.status).toBe(201);
    expect(
      (
        await request(src.app)
          .post('/api/survivor/delete-everything')
          .set('Authorization', `Bearer ${erased.token}`)
          .send({ confirm: DELETE_EVERYTHING_CONFIRMATION })
      ).status,
    ).toBe(204);

    // The server stops: its connection closes, folding the WAL into the file.
    await src.db.destroy();
    expect(fs.existsSync(`${src.dbFile}-wal`)).toBe(false);
    const reader = openSqliteReadOnly(src.dbFile);
    sourceTables = rowsOf<{ name: string }>(await reader.raw("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map(
      (r) => r.name,
    );
    await reader.destroy();
    sourceSha256 = sha256(fs.readFileSync(src.dbFile));
  });

  afterAll(async () => {
    await src?.close();
    for (const db of dropLater) await db.drop();
    server?.release();
  });

  /** The source file is as it was, and no companion file appeared beside it. */
  function expectSourceUntouched() {
    expect(sha256(fs.readFileSync(src.dbFile))).toBe(sourceSha256);
    expect(fs.existsSync(`${src.dbFile}-wal`)).toBe(false);
    expect(fs.existsSync(`${src.dbFile}-shm`)).toBe(false);
  }

  let report: CopyReport;

  test('the copy covers every table, in batches, and every count, hash and sequence matches', async () => {
    const url = await newTarget();
    report = await copySqliteToPostgres({ sqliteFile: src.dbFile, postgresUrl: url, batchRows: 2 });
    expect(report.ok).toBe(true);
    // Every table SQLite has but its own bookkeeping (sqlite_sequence) and knex's.
    expect(report.tables.map((t) => t.table).sort()).toEqual(sourceTables.filter((n) => !/^(sqlite_|knex_)/.test(n)));
    for (const t of report.tables) {
      expect(t).toMatchObject({ ok: true, targetRows: t.sourceRows, targetSha256: t.sourceSha256 });
      expect(t.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const rows = Object.fromEntries(report.tables.map((t) => [t.table, t.sourceRows]));
    expect(rows).toMatchObject({ instance: 1, staff: 3, cases: 1, attachment_records: 2, publications: 1, consents: 1 });
    expect(rows.audit_log).toBeGreaterThan(5);
    // Parents come before children.
    const order = report.tables.map((t) => t.table);
    expect(order.indexOf('survivors')).toBeLessThan(order.indexOf('cases'));
    expect(order.indexOf('envelopes')).toBeLessThan(order.indexOf('attachments'));
    expect(order.indexOf('attachments')).toBeLessThan(order.indexOf('attachment_records'));
    // The erased survivor's envelope ids are not handed out again.
    const envelopes = report.sequences.find((s) => s.table === 'envelopes')!;
    const target = openDatabase({ client: 'pg', url });
    try {
      const [{ highest }] = await target('envelopes').max({ highest: 'id' });
      expect(envelopes).toMatchObject({ column: 'id', ok: true, targetNext: envelopes.sourceNext });
      expect(envelopes.sourceNext).toBe(ERASED_ENVELOPE_ID + 1);
      expect(Number(highest)).toBeLessThan(ERASED_ENVELOPE_ID);
      // knex_migrations holds the target's own records of the same migrations.
      expect((await target('knex_migrations').orderBy('id').select('name')).map((r: { name: string }) => r.name)).toEqual(
        report.migrations,
      );
    } finally {
      await target.destroy();
    }
    expectSourceUntouched();

    // The app on the copy: the same instance, people and data. The TOTP key file goes with it
    // (staff TOTP secrets are sealed under it; a start with another key stops, naming it).
    const pgApp = await makeTestServer({ DATABASE_URL: url, TOTP_KEY_FILE: src.ctx.config.totpKeyFile });
    try {
      expect(pgApp.ctx.instanceId).toBe(src.ctx.instanceId);

      // The survivor comes back with the codename and reads the thread and the file.
      const keys = await survivorKeys(survivor.codename, pgApp.ctx.instanceId);
      const { challenge } = (await request(pgApp.app).post('/api/survivor/challenge').send({})).body;
      const session = await request(pgApp.app)
        .post('/api/survivor/session')
        .send({
          signPk: toBase64url(keys.sign.publicKey),
          challenge,
          sig: toBase64url(signLogin(pgApp.ctx.instanceId, challenge, keys.sign.secretKey)),
        });
      expect(session.status).toBe(200);
      expect(session.body.handle).toBe(survivor.handle);
      const bearer = `Bearer ${session.body.token}`;
      const mine = await request(pgApp.app).get('/api/survivor/cases').set('Authorization', bearer);
      expect(mine.status).toBe(200);
      const thread: EnvelopeItem[] = mine.body.cases[0].thread;
      expect(thread.map((i) => i.seq)).toEqual([0, 1]);
      expect(
        openEnvelope<{ testimony: { what: string } }>(thread[0].envelope, {
          box: keys.box,
          expectedKind: 'testimony',
          expectedCaseId: caseId,
          trustedSigners: [keys.sign.publicKey],
        }).body.testimony.what,
      ).toBe('what happened at the depot');
      expect(
        openEnvelope<{ text: string }>(thread[1].envelope, {
          box: keys.box,
          expectedKind: 'message',
          expectedCaseId: caseId,
          trustedSigners: [mod.sign.publicKey],
        }).body.text,
      ).toBe('we have read it');
      for (const [index, record] of file.records.entries()) {
        const got = await request(pgApp.app)
          .get(`/api/survivor/attachments/${file.id}/records/${index}`)
          .set('Authorization', bearer)
          .buffer(true)
          .parse((res, cb) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () => cb(null, Buffer.concat(parts)));
          });
        expect(got.status).toBe(200);
        expect(Buffer.compare(got.body as Buffer, Buffer.from(record))).toBe(0);
      }

      // Staff sign in with the same password and TOTP; the moderator reads and answers the case.
      const modAgent = await signIn(pgApp, mod);
      const detail = await modAgent.get(`/api/staff/cases/${caseId}`);
      expect(detail.status).toBe(200);
      expect(detail.body.thread).toHaveLength(2);
      const ks = await currentKeyset(pgApp);
      const next = sealEnvelope({
        kind: 'message',
        caseId,
        prev: envelopeHash(thread[1].envelope),
        body: { text: 'still here' },
        recipients: [keys.box.publicKey, ...readersOf(ks.keyset)],
        signer: mod.sign,
      });
      const sent = await modAgent.post(`/api/staff/cases/${caseId}/messages`).send({ envelope: next, keysetVersion: ks.keyset.version });
      expect(sent.status).toBe(201);
      expect(sent.body.seq).toBe(2);
      // New envelopes get random ids here too: not the copied sequence's next one.
      const [{ id: newId }] = await pgApp.db('envelopes').where({ case_id: caseId, seq: 2 }).select('id');
      expect(newId).not.toBe(envelopes.sourceNext);
      expect(newId >= 1 && newId <= MAX_ENVELOPE_ID).toBe(true);

      // The audit chain, copied entry by entry, still verifies from the first entry.
      const adminAgent = await signIn(pgApp, admin);
      const audit = await adminAgent.get('/api/staff/audit?limit=500');
      expect(audit.status).toBe(200);
      const entries: AuditRecord[] = audit.body.entries;
      expect(entries.length).toBeGreaterThanOrEqual(rows.audit_log);
      expect(
        verifyAuditChain(
          [...entries].sort((a, b) => a.seq - b.seq),
          pgApp.ctx.instanceId,
        ),
      ).toMatchObject({ ok: true });

      // The published story is served at its address.
      const story = await request(pgApp.app).get(`/stories/${alias}`);
      expect(story.status).toBe(200);
      expect(story.text).toContain(STORY.title);
    } finally {
      await pgApp.close();
    }
  });

  test('the command line copies, prints every table with its count and hash, and refuses to copy over an instance', async () => {
    const cli = path.join(ROOT, 'dist/server/admin-cli.js');
    if (!fs.existsSync(cli)) throw new Error('dist/server/admin-cli.js is missing: run `npm run build` first');
    const url = await newTarget();
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH, DATA_DIR: src.dir } }, (error, out, err) =>
          resolve({ code: error ? Number(error.code) : 0, out, err }),
        );
      });
    const first = await run(['migrate-to-postgres', url]);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    // The same hashes as the copy made in the test above: computed the same way, from the same file.
    for (const t of report.tables)
      expect(first.out).toMatch(new RegExp(`^${t.table} +${t.sourceRows} +${t.sourceRows} +${t.sourceSha256} +same$`, 'm'));
    expect(first.out).toMatch(/Every table was copied and matches/);
    for (const key of ['totp.key', 'matching.key', 'server.key', 'address.key']) expect(first.out).toContain(path.join(src.dir, key));
    expectSourceUntouched();

    const again = await run(['migrate-to-postgres', url]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(
      /Stopped: nothing was copied into PostgreSQL\. The PostgreSQL database already holds Awaaz data: .*instance \(1\)/,
    );
    expect(again.err).toMatch(/new, empty database/);

    const usage = await run(['migrate-to-postgres']);
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/Name the PostgreSQL database/);
  });

  test('a copy that differs from the source is reported table by table and rolled back; a second try succeeds', async () => {
    const url = await newTarget();
    const tampered = await copySqliteToPostgres({
      sqliteFile: src.dbFile,
      postgresUrl: url,
      async beforeVerify(trx) {
        // One byte of one evidence record, and one audit entry gone.
        const [record] = await trx('attachment_records').orderBy(['attachment_id', 'idx']).limit(1).select();
        const data = Buffer.from(record.data);
        data[100] ^= 1;
        await trx('attachment_records').where({ attachment_id: record.attachment_id, idx: record.idx }).update({ data });
        await trx('audit_log').where({ seq: 2 }).delete();
      },
    });
    expect(tampered.ok).toBe(false);
    const bad = tampered.tables.filter((t) => !t.ok);
    expect(bad.map((t) => t.table).sort()).toEqual(['attachment_records', 'audit_log']);
    expect(bad.find((t) => t.table === 'attachment_records')).toMatchObject({ sourceRows: 2, targetRows: 2 });
    expect(bad.find((t) => t.table === 'attachment_records')!.targetSha256).not.toBe(
      bad.find((t) => t.table === 'attachment_records')!.sourceSha256,
    );
    expect(bad.find((t) => t.table === 'audit_log')!.targetRows).toBe(bad.find((t) => t.table === 'audit_log')!.sourceRows - 1);

    const target = openDatabase({ client: 'pg', url });
    try {
      for (const t of tampered.tables) expect([t.table, Number((await target(t.table).count({ n: '*' }))[0].n)]).toEqual([t.table, 0]);
    } finally {
      await target.destroy();
    }
    // The migrated, empty tables are taken as they are by the next try.
    const retried = await copySqliteToPostgres({ sqliteFile: src.dbFile, postgresUrl: url });
    expect(retried.ok).toBe(true);
    expect(retried.tables.map((t) => t.sourceSha256)).toEqual(report.tables.map((t) => t.sourceSha256));
    expectSourceUntouched();
  });

  test('text keys are hashed in byte order on both sides, even in a database whose collation sorts otherwise', async () => {
    // A copy of the source with keys that ICU's en-US collation orders differently from bytes.
    const dir = fs.mkdtempSync(path.join(src.dir, 'keys-'));
    const file = path.join(dir, 'awaaz.sqlite3');
    fs.copyFileSync(src.dbFile, file);
    const writer = openDatabase({ client: 'sqlite', filename: file });
    await writer('settings').insert(['a', 'B', '_', '-', '1'].map((key) => ({ key: `k${key}`, value: key })));
    await writer.destroy();

    const name = `awaaz_icu_${crypto.randomBytes(6).toString('hex')}`;
    const admin = openDatabase({ client: 'pg', url: server.url });
    try {
      await admin.raw(`CREATE DATABASE ?? TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`, [name]);
    } finally {
      await admin.destroy();
    }
    const url = new URL(server.url);
    url.pathname = `/${name}`;
    dropLater.push({
      async drop() {
        const again = openDatabase({ client: 'pg', url: server.url });
        await again.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
        await again.destroy();
      },
    });
    const copied = await copySqliteToPostgres({ sqliteFile: file, postgresUrl: url.toString(), batchRows: 2 });
    expect(copied.tables.filter((t) => !t.ok)).toEqual([]);
    expect(copied.ok).toBe(true);
    const target = openDatabase({ client: 'pg', url: url.toString() });
    try {
      // The database's own order is not the bytes' order, so a plain ORDER BY would have differed.
      const own = (await target('settings').orderBy('key').select('key')).map((r: { key: string }) => r.key);
      const bytes = [...own].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(own).not.toEqual(bytes);
    } finally {
      await target.destroy();
    }
  });

  test('a SQLite file written during the copy stops it, and nothing is kept', async () => {
    const dir = fs.mkdtempSync(path.join(src.dir, 'copy-'));
    const copy = path.join(dir, 'awaaz.sqlite3');
    fs.copyFileSync(src.dbFile, copy);
    const url = await newTarget();
    const copying = copySqliteToPostgres({
      sqliteFile: copy,
      postgresUrl: url,
      async beforeVerify() {
        // A server started on the file meanwhile writes to it.
        const writer = openDatabase({ client: 'sqlite', filename: copy });
        await writer('settings').insert({ key: 'written.meanwhile', value: '1' });
        await writer.destroy();
      },
    });
    await expect(copying).rejects.toBeInstanceOf(CopyRefused);
    await expect(copying).rejects.toThrow(/The SQLite file changed while it was being copied/);
    const target = openDatabase({ client: 'pg', url });
    try {
      expect(Number((await target('instance').count({ n: '*' }))[0].n)).toBe(0);
      expect(Number((await target('audit_log').count({ n: '*' }))[0].n)).toBe(0);
    } finally {
      await target.destroy();
    }
  });

  test('a SQLite file that a server has open, or that lacks a migration of this version, is refused, and so is a target with tables of its own', async () => {
    const live = openDatabase({ client: 'sqlite', filename: src.dbFile });
    try {
      await live('instance').first();
      expect(fs.existsSync(`${src.dbFile}-wal`)).toBe(true);
      await expect(copySqliteToPostgres({ sqliteFile: src.dbFile, postgresUrl: await newTarget() })).rejects.toThrow(
        /-wal exists: a server still has the database open/,
      );
    } finally {
      await live.destroy();
    }
    expectSourceUntouched();

    const url = await newTarget();
    const foreign = openDatabase({ client: 'pg', url });
    try {
      await foreign.schema.createTable('staff', (t) => t.increments('id'));
      const refused = copySqliteToPostgres({ sqliteFile: src.dbFile, postgresUrl: url });
      await expect(refused).rejects.toBeInstanceOf(CopyRefused);
      await expect(refused).rejects.toThrow(/already has tables named staff, not made by Awaaz's migrations/);
      expect(await foreign.schema.hasTable('knex_migrations')).toBe(false);
    } finally {
      await foreign.destroy();
    }
    await expect(copySqliteToPostgres({ sqliteFile: path.join(src.dir, 'nothing-here.sqlite3'), postgresUrl: url })).rejects.toThrow(
      /no SQLite database at/,
    );

    // A file that has not run this version's last migration: start this version on it first.
    const dir = fs.mkdtempSync(path.join(src.dir, 'behind-'));
    const behind = path.join(dir, 'awaaz.sqlite3');
    fs.copyFileSync(src.dbFile, behind);
    const writer = openDatabase({ client: 'sqlite', filename: behind });
    await writer('knex_migrations').where({ name: '005_attachments' }).delete();
    await writer.destroy();
    await expect(copySqliteToPostgres({ sqliteFile: behind, postgresUrl: await newTarget() })).rejects.toThrow(
      /has not run every migration of this version \(missing: 005_attachments\)\. Start this version once on it/,
    );
  });
});
