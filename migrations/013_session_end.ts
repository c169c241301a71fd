/**
 * staff_sessions.live_until: the last moment a staff session is live, fixed when it starts and
 * at each successful request under the timeouts in force then (the idle timeout from that
 * request, capped by the absolute one from sign-in). A session also ends when the current
 * timeouts say so, so an admin lowering them ends sessions at once; raising them cannot bring
 * back a session that has already ended, and the sweeper erases ended rows with their reload
 * keys (server/http/auth.ts, server/sweeper.ts).
 *
 * Sessions from before this migration get 0, so they count as ended: the sweeper's first
 * sweep, at start, erases them, and their members sign in again once.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.bigInteger('live_until').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_sessions', (t) => {
    t.dropColumn('live_until');
  });
}
