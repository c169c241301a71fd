/**
 * The first schema. What is here is all the server knows: ciphertext, public keys,
 * pseudonymous handles, workflow status and UTC days for survivors. No column holds an
 * address, a user agent, or an exact time of a survivor's action (test/integration/privacy).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('instance', (t) => {
    t.integer('id').primary(); // always 1: one row
    t.string('instance_id', 64).notNullable();
    /** HMAC key for survivor tokens, fake salts and the daily address-hash salt */
    t.string('server_secret', 64).notNullable();
    t.string('instance_pk', 64).nullable();
    t.string('setup_token_hash', 128).nullable();
    t.string('created_day', 10).notNullable();
  });

  await knex.schema.createTable('staff', (t) => {
    t.string('id', 32).primary();
    t.string('username', 64).notNullable().unique();
    t.text('roles').notNullable(); // JSON array
    t.string('status', 16).notNullable(); // pending | active | removed
    t.text('kdf_params').notNullable(); // JSON, so the cost can be raised per record
    t.string('kdf_salt', 64).notNullable();
    t.text('auth_hash').notNullable(); // argon2id(authKey), encoded with its own parameters
    t.string('box_pk', 64).notNullable().unique();
    t.string('sign_pk', 64).notNullable().unique();
    t.text('wrapped_keys').notNullable();
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('staff_invites', (t) => {
    t.string('token_hash', 128).primary();
    t.text('roles').notNullable();
    t.string('created_by', 32).notNullable().references('staff.id').onDelete('CASCADE');
    t.bigInteger('expires_at').notNullable();
    t.string('used_by', 32).nullable().references('staff.id').onDelete('SET NULL');
  });

  await knex.schema.createTable('staff_sessions', (t) => {
    t.string('token_hash', 128).primary();
    t.string('staff_id', 32).notNullable().references('staff.id').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
  });

  await knex.schema.createTable('keysets', (t) => {
    t.integer('version').primary();
    t.text('signed').notNullable(); // the SignedKeyset JSON exactly as the admin's browser signed it
    t.string('hash', 128).notNullable();
    t.string('created_day', 10).notNullable();
  });

  await knex.schema.createTable('survivors', (t) => {
    t.string('id', 32).primary();
    t.string('handle', 32).notNullable().unique();
    t.string('sign_pk', 64).notNullable().unique();
    t.string('box_pk', 64).notNullable().unique();
    t.string('created_day', 10).notNullable();
  });

  await knex.schema.createTable('cases', (t) => {
    t.string('id', 32).primary(); // chosen by the survivor's browser so the envelope can name it
    t.string('survivor_id', 32).notNullable().references('survivors.id').onDelete('CASCADE');
    t.string('status', 24).notNullable();
    t.string('created_day', 10).notNullable();
    t.string('updated_day', 10).notNullable();
    t.index(['created_day']);
    t.index(['status']);
  });

  await knex.schema.createTable('envelopes', (t) => {
    t.increments('id');
    t.string('case_id', 32).notNullable().references('cases.id').onDelete('CASCADE');
    t.string('kind', 24).notNullable();
    t.text('body').notNullable(); // the Envelope JSON: ciphertext, wrapped keys, signature
    t.string('created_day', 10).notNullable();
    t.index(['case_id', 'kind']);
  });

  /** single-use challenges (login, proof of work); never linked to a survivor */
  await knex.schema.createTable('challenges', (t) => {
    t.string('challenge', 64).primary();
    t.string('purpose', 16).notNullable();
    t.integer('bits').notNullable();
    t.bigInteger('expires_at').notNullable();
  });

  /** express-rate-limit counters, keyed by a daily-rotated salted hash of the address */
  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 160).primary();
    t.integer('hits').notNullable();
    t.bigInteger('reset_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'rate_limits',
    'challenges',
    'envelopes',
    'cases',
    'survivors',
    'keysets',
    'staff_sessions',
    'staff_invites',
    'staff',
    'instance',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
