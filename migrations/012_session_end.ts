/**
 * staff_sessions.live_until: the last moment a staff session is live, fixed when it starts and
 * at each successful request under the timeouts in force then (the idle timeout from that
 * request, capped by the absolute one from sign-in). A session also ends when the current
 * timeouts say so, so an admin lowering them ends sessions at once; raising them cannot bring
 * back a session that has already ended, and the sweeper erases ended rows with their reload
 * keys (server/http/auth.ts, server/sweeper.ts).
 *
 * Sessions from before this migration get their sign-in time plus the longest absolute timeout
 * there can be (168 hours, the bound of STAFF_SESSION_ABSOLUTE_HOURS and of the admin's
 * setting when this was written): a session ends at the earlier of live_until and what the
 * current timeouts say, so they end exactly as they would have without the upgrade, and
 * nobody is signed out by it.
 */
import type { Knex } from 'knex';

const LONGEST_ABSOLUTE_MS = 168 * 3_600_000;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.bigInteger('live_until').notNullable().defaultTo(0);
  });
  await knex('staff_sessions').update({ live_until: knex.raw('created_at + ?', [LONGEST_ABSOLUTE_MS]) });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.dropColumn('live_until');
  });
}
