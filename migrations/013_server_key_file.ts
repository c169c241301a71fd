/**
 * The server secret leaves the database (SECURITY.md "Survivor sessions and the server key").
 *
 * `instance.server_secret` signed survivor session tokens and staff sign-in tickets, so anyone
 * with a copy of the database could make a token for any survivor that the live server
 * accepted. Those are now signed with the key in SERVER_KEY_FILE (server/config.ts
 * loadServerKey), which the database never holds. What stays in the database is the one use
 * whose theft is harmless: the key of the fake salts that unknown usernames get from
 * `/api/staff/login/params` (a thief of the database already knows, from `staff`, which
 * usernames exist). It keeps its value, so an unknown username's fake salt is the same before
 * and after this upgrade: an observer who compared them could not tell it is unknown. Renamed,
 * so no code can take it for the signing key again.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('instance', (t) => t.renameColumn('server_secret', 'fake_salt_key'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('instance', (t) => t.renameColumn('fake_salt_key', 'server_secret'));
}
