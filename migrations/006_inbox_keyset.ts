/**
 * The staff inbox pages by keyset (server/db/case-repo.ts `listForStaff`): each page starts
 * after the last (created_day, id) of the one before, in either direction. These indexes let
 * both engines read a page, with or without a status or assignee filter, as a short walk from
 * the cursor instead of counting past every earlier case. They replace the single-column
 * indexes on created_day, status and assignee_id, whose leading columns they repeat (the
 * lookups by assignee when a member is removed still find theirs).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cases', (t) => {
    t.dropIndex(['created_day']);
    t.dropIndex(['status']);
    t.dropIndex(['assignee_id']);
    t.index(['created_day', 'id'], 'cases_inbox_day');
    t.index(['status', 'created_day', 'id'], 'cases_inbox_status_day');
    t.index(['assignee_id', 'created_day', 'id'], 'cases_inbox_assignee_day');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cases', (t) => {
    t.dropIndex([], 'cases_inbox_day');
    t.dropIndex([], 'cases_inbox_status_day');
    t.dropIndex([], 'cases_inbox_assignee_day');
    t.index(['created_day']);
    t.index(['status']);
    t.index(['assignee_id']);
  });
}
