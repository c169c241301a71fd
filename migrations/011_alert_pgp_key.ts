/**
 * Alerts encrypted to an OpenPGP key (issue 15, its optional part): a member may paste an
 * ASCII-armored public key next to their alert address, and every alert to them then goes out
 * as PGP/MIME. The key is public: it is stored as the server re-armored it after checking it
 * (never a private key; server/services/alert-key.ts), and goes with the member's other alert
 * settings when the member is removed.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_alerts', (t) => {
    t.text('pgp_key').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_alerts', (t) => {
    t.dropColumn('pgp_key');
  });
}
