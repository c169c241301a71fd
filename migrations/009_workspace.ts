/**
 * The staff workspace (issue 15):
 * - case_reads: how far each moderator has read each case's thread (the highest seq they had
 *   on screen), so "unread" is per moderator: opening a case marks it read for the one who
 *   opened it, not for the team. A missing row means never opened.
 * - staff_sessions.reload_key: a random key held only for one session, which seals the
 *   unlocked private keys the browser keeps in sessionStorage, so a reload keeps the member
 *   signed in while neither side alone can read the keys. It goes when the session row goes.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('case_reads', (t) => {
    t.string('staff_id', 32).notNullable().references('staff.id').onDelete('CASCADE');
    t.string('case_id', 32).notNullable().references('cases.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.primary(['staff_id', 'case_id']);
    t.index(['case_id']);
  });
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.string('reload_key', 64).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.dropColumn('reload_key');
  });
  await knex.schema.dropTableIfExists('case_reads');
}
