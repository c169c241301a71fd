/**
 * Staff security: TOTP second factor and recovery codes, login throttling per account,
 * admin-set session timeouts, last-seen day, and the hash-chained audit log of staff actions.
 * None of it concerns survivors: the audit log names a case by its id at most.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff', (t) => {
    /** base64url of the 20-byte TOTP secret once confirmed; null until then */
    t.string('totp_secret', 64).nullable();
    /** a secret shown to the member and not yet confirmed with a code */
    t.string('totp_pending_secret', 64).nullable();
    /** the last accepted time step: a code of this step or an earlier one is refused */
    t.bigInteger('totp_last_step').nullable();
    t.bigInteger('totp_enrolled_at').nullable();
    /** UTC day of the member's last signed-in request, for the admin's team list */
    t.string('last_seen_day', 10).nullable();
  });

  /** single-use recovery codes: SHA-256 of each (they carry 100 bits); a used one is deleted */
  await knex.schema.createTable('staff_recovery_codes', (t) => {
    t.string('staff_id', 32).notNullable().references('staff.id').onDelete('CASCADE');
    t.string('code_hash', 64).notNullable();
    t.primary(['staff_id', 'code_hash']);
  });

  /**
   * Consecutive failed sign-ins per username, keyed by an HMAC of the username (so unknown
   * usernames are throttled exactly like real ones and the table does not list who exists).
   */
  await knex.schema.createTable('login_failures', (t) => {
    t.string('key', 64).primary();
    t.integer('failures').notNullable();
    t.bigInteger('locked_until').notNullable();
    t.bigInteger('last_failed_at').notNullable();
    t.index(['last_failed_at']);
  });

  /** instance settings an admin may change (bounded in server/db/settings-repo.ts) */
  await knex.schema.createTable('settings', (t) => {
    t.string('key', 64).primary();
    t.text('value').notNullable();
  });

  /** append-only, hash-chained (protocol/audit.ts); never updated or deleted by the app */
  await knex.schema.createTable('audit_log', (t) => {
    t.integer('seq').primary();
    t.bigInteger('at').notNullable();
    t.string('actor_id', 32).nullable();
    t.string('action', 100).notNullable();
    t.string('subject', 32).nullable();
    t.text('detail').nullable(); // JSON
    t.string('prev_hash', 88).notNullable();
    t.string('hash', 88).notNullable().unique();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_log', 'settings', 'login_failures', 'staff_recovery_codes']) await knex.schema.dropTableIfExists(table);
  await knex.schema.alterTable('staff', (t) => {
    for (const c of ['totp_secret', 'totp_pending_secret', 'totp_last_step', 'totp_enrolled_at', 'last_seen_day']) t.dropColumn(c);
  });
}
