/**
 * Staff alerts without content, and retention (issue 15).
 *
 * - staff_alerts: a staff member's email address and, per kind of alert ("a new case", "an
 *   answer in a case assigned to me"), 'off', 'immediate' or 'digest'. Staff data, never
 *   survivor data. `*_sent_at` is when the last immediate alert of that kind went out, kept
 *   only while it holds the next one back (the mailer clears it once the pause is over, since
 *   it falls close to a survivor's action); `digest_day` is the UTC day of the last digest.
 * - alert_queue: at most one row per member and kind (the primary key coalesces a flood of
 *   cases into one alert). A row names the member and the kind, and nothing else: no case, no
 *   survivor, no time of the event; `next_try_at` and `attempts` are the mailer's retry state.
 * - survivors.last_visit_day: the UTC day of the survivor's last login, from which closed cases
 *   and accounts with no case are kept for the retention periods (coming back keeps them).
 * - cases.closed_day: the UTC day the case was last closed (null while open).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('staff_alerts', (t) => {
    t.string('staff_id', 32).primary().references('staff.id').onDelete('CASCADE');
    t.string('email', 254).nullable();
    t.string('new_case', 12).notNullable().defaultTo('off');
    t.string('answer', 12).notNullable().defaultTo('off');
    t.bigInteger('new_case_sent_at').nullable();
    t.bigInteger('answer_sent_at').nullable();
    t.string('digest_day', 10).nullable();
  });
  await knex.schema.createTable('alert_queue', (t) => {
    t.string('staff_id', 32).notNullable().references('staff.id').onDelete('CASCADE');
    t.string('kind', 12).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_try_at').notNullable().defaultTo(0);
    t.primary(['staff_id', 'kind']);
  });
  await knex.schema.alterTable('survivors', (t) => {
    t.string('last_visit_day', 10).nullable();
    t.index(['last_visit_day']);
  });
  await knex.schema.alterTable('cases', (t) => {
    t.string('closed_day', 10).nullable();
    t.index(['closed_day']);
  });
  // Before this migration no visit was recorded, and no closing day: the closest days known.
  await knex('survivors').update({ last_visit_day: knex.ref('created_day') });
  await knex('cases')
    .where({ status: 'closed' })
    .update({ closed_day: knex.ref('updated_day') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cases', (t) => {
    t.dropIndex(['closed_day']);
    t.dropColumn('closed_day');
  });
  await knex.schema.alterTable('survivors', (t) => {
    t.dropIndex(['last_visit_day']);
    t.dropColumn('last_visit_day');
  });
  await knex.schema.dropTableIfExists('alert_queue');
  await knex.schema.dropTableIfExists('staff_alerts');
}
