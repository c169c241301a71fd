/**
 * The migrations, listed in order and imported statically so the bundled server carries
 * them (no directory scan at run time). Add a file, then add it here.
 */
import type { Knex } from 'knex';
import * as initial from './001_initial';
import * as staffSecurity from './002_staff_security';
import * as threads from './003_threads';
import * as publishing from './004_publishing';
import * as attachments from './005_attachments';
import * as inboxKeyset from './006_inbox_keyset';
import * as alertsRetention from './007_alerts_retention';
import * as accountSecurity from './008_account_security';
import * as workspace from './009_workspace';
import * as matching from './010_matching';
import * as alertPgpKey from './011_alert_pgp_key';
import * as sessionEnd from './012_session_end';
import * as serverKeyFile from './013_server_key_file';
import * as inviteIds from './014_invite_ids';
import * as keyChecks from './015_key_checks';
import * as envelopePositions from './016_envelope_positions';
import * as setupLinkExpiry from './017_setup_link_expiry';

const MIGRATIONS: Record<string, Knex.Migration> = {
  '001_initial': initial,
  '002_staff_security': staffSecurity,
  '003_threads': threads,
  '004_publishing': publishing,
  '005_attachments': attachments,
  '006_inbox_keyset': inboxKeyset,
  '007_alerts_retention': alertsRetention,
  '008_account_security': accountSecurity,
  '009_workspace': workspace,
  '010_matching': matching,
  '011_alert_pgp_key': alertPgpKey,
  '012_session_end': sessionEnd,
  '013_server_key_file': serverKeyFile,
  '014_invite_ids': inviteIds,
  '015_key_checks': keyChecks,
  '016_envelope_positions': envelopePositions,
  '017_setup_link_expiry': setupLinkExpiry,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(Object.keys(MIGRATIONS)),
  getMigrationName: (name) => name,
  getMigration: (name) => Promise.resolve(MIGRATIONS[name]),
};
