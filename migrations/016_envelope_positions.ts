/**
 * envelopes.position_in_case: where each envelope stands in its case (0, 1, 2, … in the order
 * written). New envelopes get random ids (server/db/envelope-repo.ts), so the id no longer
 * orders anything; a case's notes, which have no seq, are shown by this position instead. The
 * order within one case is no secret (a thread shows it); the order across cases is.
 *
 * Envelopes written before this migration keep their ids (every table that names an envelope
 * would have to be rewritten) and get their position from today's id order within their case.
 * The column stays nullable in the schema (SQLite cannot add a NOT NULL column without a
 * default); every insert fills it.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('envelopes', (t) => {
    t.integer('position_in_case').nullable();
    t.index(['case_id', 'position_in_case']);
  });
  await knex('envelopes').update({
    position_in_case: knex('envelopes as earlier')
      .count('*')
      .where('earlier.case_id', knex.ref('envelopes.case_id'))
      .where('earlier.id', '<', knex.ref('envelopes.id')),
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('envelopes', (t) => {
    t.dropIndex(['case_id', 'position_in_case']);
  });
  await knex.schema.alterTable('envelopes', (t) => {
    t.dropColumn('position_in_case');
  });
}
