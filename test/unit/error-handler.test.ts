/**
 * The one error handler (server/http/errors.ts): what a concurrent change that rolled a
 * transaction back answers (409, not 500), on a real SQLite foreign key and on PostgreSQL's
 * codes, and that anything else stays a logged 500 with nothing of the request in it.
 */
import express from 'express';
import knex from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { errorHandler } from '../../server/http/errors';

function appThrowing(makeError: () => Promise<unknown>, log: string[]) {
  const app = express();
  app.get('/', async (_req, _res, next) => next(await makeError()));
  app.use(errorHandler((line) => log.push(line)));
  return app;
}

/** A PostgreSQL error as the pg driver raises it: an Error carrying the SQLSTATE in `code`. */
function pgError(code: string): Error {
  return Object.assign(new Error(`pg error ${code}`), { code });
}

describe('errors from a concurrent change', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-errors-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a SQLite foreign key that a concurrent erasure broke: 409 conflict, logged by its code only', async () => {
    const db = knex({ client: 'sqlite3', connection: { filename: path.join(dir, 'fk.sqlite') }, useNullAsDefault: true });
    try {
      await db.raw('PRAGMA foreign_keys = ON');
      await db.schema.createTable('cases', (t) => t.string('id').primary());
      await db.schema.createTable('notes', (t) => t.string('case_id').references('cases.id'));
      const log: string[] = [];
      const app = appThrowing(
        () =>
          db('notes')
            .insert({ case_id: 'erased-meanwhile' })
            .then(
              () => new Error('the insert should have failed'),
              (e: unknown) => e,
            ),
        log,
      );
      const res = await request(app).get('/');
      expect(res.status).toBe(409);
      expect(res.body.error).toEqual({ code: 'conflict', message: expect.stringMatching(/concurrent request/) });
      expect(log).toEqual(['conflict: a concurrent change rolled a transaction back (SQLITE_CONSTRAINT)']);
    } finally {
      await db.destroy();
    }
  });

  test.each(['23503', '40P01', '40001'])('PostgreSQL %s: 409 conflict, logged by its code only', async (code) => {
    const log: string[] = [];
    const res = await request(appThrowing(() => Promise.resolve(pgError(code)), log)).get('/');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect(log).toEqual([`conflict: a concurrent change rolled a transaction back (${code})`]);
  });

  test('a unique key taken: 409, and no log line (it is the expected answer to a double submission)', async () => {
    const log: string[] = [];
    const res = await request(appThrowing(() => Promise.resolve(pgError('23505')), log)).get('/');
    expect(res.status).toBe(409);
    expect(log).toEqual([]);
  });

  test('any other database error stays a 500, logged, with no detail in the answer', async () => {
    const log: string[] = [];
    const res = await request(appThrowing(() => Promise.resolve(pgError('42P01')), log)).get('/');
    expect(res.status).toBe(500);
    expect(res.body.error).toEqual({ code: 'internal', message: 'something went wrong on the server' });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^internal error: Error: pg error 42P01/);
  });
});
