/**
 * Threads, notes, assignment and re-wrap grants (staff workspace).
 *
 * - Each wrapped key gets its own row (envelope_keys) so the server can erase the key of a
 *   removed staff member; the envelope's signature covers the key's digest, which stays.
 * - envelopes.seq orders a case's thread (testimony 0, messages 1, 2, …); unique per case,
 *   so two concurrent replies cannot both follow the same message. Notes have no seq.
 * - envelopes.hash is envelopeHash(envelope): the `prev` the next message must name.
 */
import type { Knex } from 'knex';
import { envelopeHash, keyDigest, type Envelope } from '../protocol';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('envelopes', (t) => {
    t.integer('seq').nullable();
    t.string('hash', 128).nullable();
    t.boolean('from_staff').notNullable().defaultTo(false);
    t.unique(['case_id', 'seq']);
  });
  await knex.schema.createTable('envelope_keys', (t) => {
    t.integer('envelope_id').notNullable().references('envelopes.id').onDelete('CASCADE');
    t.integer('position').notNullable();
    t.string('kid', 32).notNullable();
    t.string('epk', 64).nullable(); // null once erased
    t.string('wrapped', 128).nullable(); // null once erased
    t.string('digest', 64).notNullable();
    t.primary(['envelope_id', 'position']);
    t.index(['kid']);
  });
  await knex.schema.createTable('envelope_grants', (t) => {
    t.increments('id');
    t.integer('envelope_id').notNullable().references('envelopes.id').onDelete('CASCADE');
    t.string('kid', 32).notNullable();
    t.text('body').notNullable(); // the KeyGrant JSON, signed by the granting staff member
    t.unique(['envelope_id', 'kid']);
    t.index(['kid']);
  });
  await knex.schema.alterTable('cases', (t) => {
    t.string('assignee_id', 32).nullable().references('staff.id').onDelete('SET NULL');
    /** the survivor wrote since staff last replied */
    t.boolean('awaiting_staff').notNullable().defaultTo(true);
    /** the highest thread seq the survivor has seen */
    t.integer('survivor_seen_seq').notNullable().defaultTo(0);
    t.index(['assignee_id']);
  });

  // Move the keys of existing envelopes into their own rows.
  const rows: { id: number; body: string }[] = await knex('envelopes').select('id', 'body');
  for (const row of rows) {
    const env = JSON.parse(row.body) as Envelope;
    const keys = env.keys.map((k, position) => ({
      envelope_id: row.id,
      position,
      kid: k.kid,
      epk: k.epk ?? null,
      wrapped: k.wrapped ?? null,
      digest: keyDigest(k),
    }));
    if (keys.length) await knex('envelope_keys').insert(keys);
    const { keys: _moved, ...rest } = env;
    await knex('envelopes')
      .where({ id: row.id })
      .update({ body: JSON.stringify(rest), seq: env.kind === 'testimony' ? 0 : null, hash: envelopeHash(env) });
  }
}

/** For development only: the erased-key rows are dropped, not folded back into the bodies. */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('envelope_grants');
  await knex.schema.dropTable('envelope_keys');
  await knex.schema.alterTable('cases', (t) => {
    t.dropIndex(['assignee_id']);
    t.dropColumn('assignee_id');
    t.dropColumn('awaiting_staff');
    t.dropColumn('survivor_seen_seq');
  });
  await knex.schema.alterTable('envelopes', (t) => {
    t.dropUnique(['case_id', 'seq']);
    t.dropColumn('seq');
    t.dropColumn('hash');
    t.dropColumn('from_staff');
  });
}
