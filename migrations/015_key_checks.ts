/**
 * key_checks: for each key file the server reads (address, server, and each version of the
 * matching key), a keyed hash of a fixed text under that key, never the key itself. At start
 * (server/key-checks.ts) the server compares its files with what this database last ran with,
 * so that a matching key made afresh under an old version number, or two instances reading
 * different server keys, are told rather than silently breaking matches or sign-ins.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('key_checks', (t) => {
    t.string('name', 40).primary();
    t.string('check_value', 43).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('key_checks');
}
