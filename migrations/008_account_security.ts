/**
 * Account security and takedowns (issue 15).
 *
 * - staff.totp_secret_sealed / totp_pending_sealed: the TOTP secrets, encrypted under the TOTP
 *   key from TOTP_KEY_FILE (server/crypto/totp-sealing.ts). A migration cannot encrypt the old
 *   plaintext columns (the key is not in the database, and migrations do not read files), so
 *   the server does it at start, before it serves (server/app.ts), and empties them; from then
 *   on they stay null. New columns rather than wider old ones: widening a column on SQLite
 *   makes knex rebuild the staff table, which every other table references.
 * - publications.takedown_reason: why an admin or advocate took a published story down (legal
 *   advice); the tombstone's 410 page shows it, and so does the survivor's page.
 * - drafts.changes_envelope_id: the survivor's request for changes to a draft, an envelope of
 *   kind 'changes' sealed to the survivor, the moderators and the draft's author.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    t.string('totp_secret_sealed', 160).nullable();
    t.string('totp_pending_sealed', 160).nullable();
  });
  await knex.schema.alterTable('publications', (t) => {
    t.string('takedown_reason', 600).nullable();
  });
  await knex.schema.alterTable('drafts', (t) => {
    t.integer('changes_envelope_id').nullable().references('envelopes.id').onDelete('SET NULL');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('drafts', (t) => t.dropColumn('changes_envelope_id'));
  await knex.schema.alterTable('publications', (t) => t.dropColumn('takedown_reason'));
  await knex.schema.alterTable('staff', (t) => {
    t.dropColumn('totp_secret_sealed');
    t.dropColumn('totp_pending_sealed');
  });
}
