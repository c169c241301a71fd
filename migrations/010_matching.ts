/**
 * The matching escrow (server/services/matching.ts). What the server keeps of an identifier a
 * survivor names: its match tag (an OPRF output's hash; the OPRF key is a file, never here),
 * the key version it was made under, the entry sealed to the matching counselors and the
 * survivor, whose it is, and the UTC day. No identifier and no case reference in the clear.
 * A survivor's entries go with her account (ON DELETE CASCADE, "delete everything").
 *
 * OPRF evaluations are counted per UTC day, per survivor (under a daily-salted hash of her id,
 * as the rate limits do) and for everyone ('all'): each evaluation tests one guess.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('matching_entries', (t) => {
    t.string('id', 32).primary();
    t.string('survivor_id', 32).notNullable().references('survivors.id').onDelete('CASCADE');
    t.string('tag', 64).notNullable();
    t.integer('key_version').notNullable();
    t.text('sealed').notNullable(); // SealedMatchEntry JSON
    t.string('created_day', 10).notNullable();
    t.index(['key_version', 'tag'], 'matching_entries_tag');
    t.index(['survivor_id'], 'matching_entries_survivor');
  });

  await knex.schema.createTable('matching_evaluations', (t) => {
    t.string('counter', 64).notNullable();
    t.string('day', 10).notNullable();
    t.integer('count').notNullable();
    t.primary(['counter', 'day']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('matching_evaluations');
  await knex.schema.dropTable('matching_entries');
}
