/**
 * instance.setup_token_expires_at: when the first-admin setup link stops working (milliseconds
 * since the epoch, next to the token's hash). The link is printed to the server's output, which
 * journald or a log shipper may keep for long; a link that expires cannot be picked out of an
 * old log to create the first admin (server/setup-link.ts).
 *
 * A setup token stored before this migration has no expiry recorded: it is erased, so that no
 * link without an end stays valid. The next start (while there is no admin) or
 * `npm run admin -- init` prints a new one.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('instance', (t) => {
    t.bigInteger('setup_token_expires_at').nullable();
  });
  await knex('instance').update({ setup_token_hash: null });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('instance', (t) => {
    t.dropColumn('setup_token_expires_at');
  });
}
