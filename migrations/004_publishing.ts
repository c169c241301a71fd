/**
 * Publishing with consent (issue 4).
 *
 * - cases.advocates_may_read: the survivor let advocates read the testimony to propose a publication.
 * - case_statistics: one row per case the survivor lets be counted, holding only the fields they
 *   chose to disclose (each may be null) and the submission month, which the server knows anyway.
 * - drafts: a redacted story proposed to the survivor; its text is an envelope (kind 'draft')
 *   sealed to the survivor, moderators and advocates, stored with the case's other envelopes.
 * - consents: the survivor's signed consent to one draft's exact words, and its revocation.
 * - publications: the published story, the only plaintext the database holds about a
 *   testimony. Revoking or deleting empties it and keeps the alias as a tombstone, so the
 *   address answers 410 Gone rather than being handed to another story; the tombstone keeps
 *   no link to the case.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cases', (t) => {
    t.boolean('advocates_may_read').notNullable().defaultTo(false);
  });
  await knex.schema.createTable('case_statistics', (t) => {
    t.string('case_id', 32).primary().references('cases.id').onDelete('CASCADE');
    t.string('month', 7).notNullable(); // YYYY-MM of submission
    t.string('context', 32).nullable();
    t.integer('year').nullable();
    t.string('province', 32).nullable();
  });
  await knex.schema.createTable('drafts', (t) => {
    t.string('id', 32).primary();
    t.string('case_id', 32).notNullable().references('cases.id').onDelete('CASCADE');
    t.integer('envelope_id').notNullable().references('envelopes.id').onDelete('CASCADE');
    t.string('author_id', 32).nullable().references('staff.id').onDelete('SET NULL');
    t.integer('version').notNullable();
    t.string('status', 24).notNullable();
    t.string('created_day', 10).notNullable();
    t.string('updated_day', 10).notNullable();
    t.unique(['case_id', 'version']);
  });
  await knex.schema.createTable('consents', (t) => {
    t.string('draft_id', 32).primary().references('drafts.id').onDelete('CASCADE');
    t.string('case_id', 32).notNullable().references('cases.id').onDelete('CASCADE');
    t.string('text_hash', 64).notNullable();
    t.text('statement').notNullable(); // the signed ConsentStatement JSON
    t.string('sig', 128).notNullable();
    t.string('issued_day', 10).notNullable();
    t.text('revocation').nullable(); // the signed RevocationStatement JSON and its sig
    t.string('revoked_day', 10).nullable();
  });
  await knex.schema.createTable('publications', (t) => {
    t.string('alias', 32).primary();
    t.string('draft_id', 32).nullable().unique().references('drafts.id').onDelete('SET NULL');
    t.string('case_id', 32).nullable().references('cases.id').onDelete('SET NULL');
    t.string('title', 400).nullable(); // null once revoked or deleted
    t.text('text').nullable();
    t.string('context', 32).nullable();
    t.string('month', 7).notNullable(); // YYYY-MM: the only date the public sees
    t.string('published_day', 10).notNullable();
    t.string('revoked_day', 10).nullable();
    t.index(['revoked_day', 'published_day']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('publications');
  await knex.schema.dropTable('consents');
  await knex.schema.dropTable('drafts');
  await knex.schema.dropTable('case_statistics');
  await knex.schema.alterTable('cases', (t) => t.dropColumn('advocates_may_read'));
}
