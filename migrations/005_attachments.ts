/**
 * Evidence files (protocol/attachment.ts): a survivor's browser uploads a file's sealed 64 KiB
 * records one by one, closes the upload, then names it in the testimony or message whose
 * envelope carries the key (the manifest). The server stores records it cannot read.
 *
 * - `attachments.received` is how many records are stored: the next record must have that
 *   index, so an upload resumes after a dropped connection from what the server holds.
 * - `case_id` and `envelope_id` stay null until the upload is linked; only then does staff see
 *   it. Deleting the survivor, the case or the envelope deletes the upload and its records.
 * - `created_day` is a UTC day (DESIGN: no exact time of a survivor's action); unlinked uploads
 *   are deleted two days later (server/db/attachment-repo.ts deleteStale).
 * - Records are a plain binary column (BLOB in SQLite, bytea in PostgreSQL), one row each, keyed
 *   by (attachment_id, idx) so that a record cannot be stored twice, even by concurrent requests.
 *
 * (004 is reserved for another migration being written in parallel.)
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attachments', (t) => {
    t.string('id', 32).primary();
    t.string('survivor_id', 32).notNullable().references('survivors.id').onDelete('CASCADE');
    t.string('case_id', 32).nullable().references('cases.id').onDelete('CASCADE');
    t.integer('envelope_id').nullable().references('envelopes.id').onDelete('CASCADE');
    /** plaintext bytes, as the survivor's browser declared them; every record's length follows from it */
    t.bigInteger('size').notNullable();
    t.integer('records').notNullable();
    t.integer('received').notNullable().defaultTo(0);
    t.boolean('closed').notNullable().defaultTo(false);
    t.string('created_day', 10).notNullable();
    t.index(['survivor_id', 'case_id']);
    t.index(['case_id']);
    t.index(['envelope_id']);
    t.index(['created_day']);
  });
  await knex.schema.createTable('attachment_records', (t) => {
    t.string('attachment_id', 32).notNullable().references('attachments.id').onDelete('CASCADE');
    t.integer('idx').notNullable();
    t.binary('data').notNullable();
    t.primary(['attachment_id', 'idx']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('attachment_records');
  await knex.schema.dropTableIfExists('attachments');
}
