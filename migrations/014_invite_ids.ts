/**
 * staff_invites.id: a random id per invite, so that an admin can list pending invites and
 * revoke one by naming it, without the server ever handing out the token's hash (the row's
 * key). Invites from before this migration get a fresh id here; new ones get theirs at
 * creation (server/db/staff-repo.ts).
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';

const newId = () => crypto.randomBytes(16).toString('base64url');

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_invites', (t) => {
    t.string('id', 32).nullable();
  });
  const rows: { token_hash: string }[] = await knex('staff_invites').select('token_hash');
  for (const r of rows) await knex('staff_invites').where({ token_hash: r.token_hash }).update({ id: newId() });
  await knex.schema.alterTable('staff_invites', (t) => {
    t.unique(['id']);
    t.index(['created_by']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('staff_invites', (t) => {
    t.dropIndex(['created_by']);
    t.dropUnique(['id']);
  });
  await knex.schema.alterTable('staff_invites', (t) => {
    t.dropColumn('id');
  });
}
