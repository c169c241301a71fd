/**
 * createApp builds the Express application from its dependencies and never listens, so
 * tests drive it with supertest and main.ts decides how it is served.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { systemClock, type Clock } from './clock';
import { ConfigError, loadAddressKey, loadMatchingKey, loadServerKey, loadTotpKeys, type Config, type MatchingKeyFile } from './config';
import { TotpKeyMissing, totpSealer } from './crypto/totp-sealing';
import { attachmentRepo } from './db/attachment-repo';
import { auditRepo } from './db/audit-repo';
import { Batcher } from './db/batcher';
import { caseReadRepo } from './db/case-read-repo';
import { caseRepo } from './db/case-repo';
import { envelopeRepo } from './db/envelope-repo';
import { challengeRepo } from './db/challenge-repo';
import { erase, flushErased, type Db } from './db/database';
import { instanceRepo } from './db/instance-repo';
import { keysetRepo } from './db/keyset-repo';
import { alertRepo } from './db/alert-repo';
import { matchingRepo } from './db/matching-repo';
import { publishingRepo } from './db/publishing-repo';
import { rateLimitCounters, type RateLimitCounters } from './db/rate-limit-store';
import { retentionRepo } from './db/retention-repo';
import { settingsRepo } from './db/settings-repo';
import { staffSecurityRepo } from './db/staff-security-repo';
import { staffRepo } from './db/staff-repo';
import { survivorRepo } from './db/survivor-repo';
import { createStaffAuth, requireSurvivor, staffCookieName, type StaffAuth } from './http/auth';
import { errorHandler, HttpError, notFound, notFoundHandler } from './http/errors';
import { jsonBody } from './http/json-body';
import { identityHash, identityLimiter, limiter } from './http/rate-limit';
import { changesState, sameOriginWrites, securityHeaders } from './http/security';
import { noQuery } from './http/validate';
import { compressedAssets, sendPage } from './http/static';
import { attachmentRoutes, isCredentialedRecordRequest, recordRoute } from './routes/attachments';
import { instanceRoutes } from './routes/instance';
import { staffMatchingRoutes, survivorMatchingRoutes } from './routes/matching';
import { staffPublishingRoutes, survivorPublishingRoutes } from './routes/publishing';
import { publicRoutes } from './routes/public';
import { retentionRoutes } from './routes/retention';
import { staffAlertRoutes } from './routes/staff-alerts';
import { staffRoutes } from './routes/staff';
import { staffCaseRoutes } from './routes/staff-cases';
import { staffAuthRoutes } from './routes/staff-auth';
import { survivorRoutes } from './routes/survivor';
import { openCases, type NewTestimony } from './services/survivors';
import { oprfKeyFromSeed } from '../protocol/oprf';
import type { MatchingContext } from './services/matching';

export interface AppDeps {
  db: Db;
  config: Config;
  /** where the built pages and assets are (scripts/build.mjs writes them) */
  clientDir: string;
  log?: (line: string) => void;
  /** the one clock the server reads (server/clock.ts); tests pass one they move forward. The machine's clock unless given. */
  clock?: Clock;
  /** the rate-limit key (main.ts reads it before opening the database); read from config.addressKeyFile when not given */
  addressKey?: string;
  /** the key tokens and sign-in tickets are signed with (main.ts reads it with the address key); read from config.serverKeyFile when not given */
  serverKey?: string;
  /** the matching escrow's OPRF key (main.ts reads it with the address key); read from config.matchingKeyFile when not given */
  matchingKey?: MatchingKeyFile;
  /** the keys TOTP secrets are sealed under (main.ts reads them at start); read from config.totpKeyFile when not given */
  totpKeys?: { current: string; previous?: string };
  /** draws new envelope ids (random, server/db/envelope-repo.ts); tests pass one that repeats an id to force a collision */
  drawEnvelopeId?: () => number;
}

export interface AppContext {
  db: Db;
  config: Config;
  instanceId: string;
  /**
   * The server key, from SERVER_KEY_FILE and never the database: it signs survivor tokens and
   * staff sign-in tickets, and keys the sign-in failure counters (server/http/tokens.ts).
   */
  serverSecret: string;
  /** keys unknown usernames' fake salts; in the database, where its theft is harmless (migrations/013_server_key_file.ts) */
  fakeSaltKey: string;
  repos: {
    instance: ReturnType<typeof instanceRepo>;
    staff: ReturnType<typeof staffRepo>;
    keysets: ReturnType<typeof keysetRepo>;
    survivors: ReturnType<typeof survivorRepo>;
    cases: ReturnType<typeof caseRepo>;
    /** how far each moderator has read each case (server/db/case-read-repo.ts) */
    caseReads: ReturnType<typeof caseReadRepo>;
    envelopes: ReturnType<typeof envelopeRepo>;
    publishing: ReturnType<typeof publishingRepo>;
    challenges: ReturnType<typeof challengeRepo>;
    attachments: ReturnType<typeof attachmentRepo>;
    /** staff audit log: `record(trx, { actorId, action, subject?, detail? })`, see server/db/audit-repo.ts */
    audit: ReturnType<typeof auditRepo>;
    settings: ReturnType<typeof settingsRepo>;
    security: ReturnType<typeof staffSecurityRepo>;
    matching: ReturnType<typeof matchingRepo>;
    /** retention periods, and the closed cases and idle accounts past them (server/services/retention.ts) */
    retention: ReturnType<typeof retentionRepo>;
    /** staff alert choices and the alert queue (server/services/alerts.ts) */
    alerts: ReturnType<typeof alertRepo>;
  };
  /** the matching escrow's OPRF key (from its file, never the database) and evaluation counters (server/services/matching.ts) */
  matching: MatchingContext;
  /** the one clock: every time and day the server reads or stores comes from it */
  clock: Clock;
  /** authentication, built once: staff sessions with the 2FA gate, and survivor bearer tokens (server/http/auth.ts) */
  auth: { staff: StaffAuth; survivor: RequestHandler };
  /**
   * general: per address, every request but credentialed record requests; records: per survivor
   * or staff member (server/http/rate-limit.ts); refusedRecords: the general budget again, for a
   * staff record request that general let through for its cookie and whose session is refused.
   */
  limits: { general: RequestHandler; sensitive: RequestHandler; records: RequestHandler; refusedRecords: RequestHandler };
  /** the limiters' counters: in the database on PostgreSQL, in this process on SQLite (server/db/rate-limit-store.ts) */
  rateLimits: RateLimitCounters;
  /** new testimonies, written in batches (server/services/survivors.ts `openCases`, server/db/batcher.ts) */
  testimonies: Batcher<NewTestimony, void>;
  log: (line: string) => void;
  /**
   * Every erasure: runs `work` in a transaction, and when it answers, nothing it deleted or
   * overwrote is left in the database files (server/db/database.ts `erase`). If another process
   * kept that from happening, it says so in the log; the sweeper finishes it within a minute.
   * `flushIf`: whether this result erased anything worth the flush (default: always).
   */
  erase<T>(work: (trx: Db) => Promise<T>, flushIf?: (result: T) => boolean): Promise<T>;
  /** The flush of `erase` alone, after erasures made in several transactions (the sweeper's). */
  flushErased(): Promise<void>;
}

/**
 * Before serving: every TOTP secret stored in plaintext (before encryption at rest) or under
 * the previous key is sealed under the current one, as an erasure, so no copy of the old
 * values stays in the database files. Here rather than in a migration, because the key is
 * never in the database. A secret under a key that is not loaded stops the start.
 */
async function sealTotpSecrets(db: Db, security: ReturnType<typeof staffSecurityRepo>, log: (line: string) => void): Promise<void> {
  try {
    const sealed = await db.transaction((trx) => security.sealStoredSecrets(trx));
    if (sealed === 0) return; // the usual start: nothing to seal, and no flush (a VACUUM on PostgreSQL) either
    await flushErased(db);
    log(`TOTP secrets: ${sealed} member${sealed === 1 ? '' : 's'} sealed under the current TOTP key`);
  } catch (e) {
    if (e instanceof TotpKeyMissing)
      throw new ConfigError(
        'invalid configuration: TOTP_KEY_FILE: some TOTP secrets are encrypted under a key that is neither TOTP_KEY_FILE nor TOTP_PREVIOUS_KEY_FILE; restore the key file they were made with (or set it as TOTP_PREVIOUS_KEY_FILE)',
      );
    throw e;
  }
}

const NOT_FLUSHED =
  'erasure: erased rows may still have a copy in the database files (SQLite: another process was reading it); the sweeper tries again within a minute';

/** Pages by URL path; each has one entry script in client/ (see client/README.md). */
export const PAGES: Record<string, string> = {
  '/': 'index.html',
  '/share': 'share.html',
  '/return': 'return.html',
  '/safety': 'safety.html',
  '/setup': 'setup.html',
  '/invite': 'invite.html',
  '/staff': 'staff.html',
};

export { MAX_BODY_BYTES } from './http/json-body';

export async function createApp(deps: AppDeps): Promise<{ app: express.Express; ctx: AppContext }> {
  const { db, config } = deps;
  const log = deps.log ?? ((line: string) => console.log(line));
  const clock = deps.clock ?? systemClock;
  const repos = {
    instance: instanceRepo(db),
    staff: staffRepo(db),
    keysets: keysetRepo(db),
    survivors: survivorRepo(db),
    cases: caseRepo(db),
    caseReads: caseReadRepo(db),
    envelopes: envelopeRepo(db, deps.drawEnvelopeId),
    publishing: publishingRepo(db),
    challenges: challengeRepo(db),
    attachments: attachmentRepo(db),
    retention: retentionRepo(db),
    alerts: alertRepo(db),
  };
  const instance = await repos.instance.ensure(clock.today());
  const addressKey = deps.addressKey ?? loadAddressKey(config.addressKeyFile);
  const serverKey = deps.serverKey ?? loadServerKey(config.serverKeyFile);
  const matchingKey = deps.matchingKey ?? loadMatchingKey(config.matchingKeyFile);
  const security = staffSecurityRepo(db, totpSealer(deps.totpKeys ?? loadTotpKeys(config)));
  await sealTotpSecrets(db, security, log);
  const settings = settingsRepo(db, config);
  const counters = rateLimitCounters(db, clock);
  const ctx: AppContext = {
    db,
    config,
    instanceId: instance.instance_id,
    serverSecret: serverKey,
    fakeSaltKey: instance.fake_salt_key,
    repos: {
      ...repos,
      audit: auditRepo(db, { instanceId: instance.instance_id, clock }),
      settings,
      security,
      matching: matchingRepo(db),
    },
    matching: {
      keyVersion: matchingKey.version,
      secretKey: oprfKeyFromSeed(matchingKey.seed),
      survivorCounter: (survivorId, day) => `s.${identityHash(addressKey, 'survivor', survivorId, day)}`,
    },
    clock,
    auth: {
      staff: createStaffAuth({ staff: repos.staff, security, settings, config, clock }),
      survivor: requireSurvivor(serverKey, clock),
    },
    limits: {
      general: limiter(counters, clock, addressKey, 'all', config.rateLimitPerMinute, {
        skip: (req) => isCredentialedRecordRequest(serverKey, staffCookieName(config), req, clock.now()),
      }),
      sensitive: limiter(counters, clock, addressKey, 'sensitive', config.rateLimitSensitivePerMinute),
      records: identityLimiter(counters, clock, addressKey, 'records', config.rateLimitRecordsPerMinute),
      // Same name, so same counters as general: without the skip, for the requests it skipped.
      refusedRecords: limiter(counters, clock, addressKey, 'all', config.rateLimitPerMinute),
    },
    rateLimits: counters,
    testimonies: new Batcher((batch) => openCases(ctx, batch)),
    log,
    async erase(work, flushIf) {
      const { result, flushed } = await erase(db, work, flushIf);
      if (!flushed) log(NOT_FLUSHED);
      return result;
    },
    async flushErased() {
      if (!(await flushErased(db))) log(NOT_FLUSHED);
    },
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.trustProxyHops);
  app.set('query parser', 'simple');
  app.use(securityHeaders());
  app.use((_req, res, next) => {
    // Nothing a survivor sees should linger in a shared browser's cache.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(ctx.limits.general);
  // No CORS and no preflight: OPTIONS is answered like any unknown route, with no Allow header.
  app.use((req, _res, next) =>
    next(req.method === 'OPTIONS' ? notFound('this server answers no OPTIONS request (no cross-origin access)') : undefined),
  );

  const api = express.Router();
  api.use(sameOriginWrites(config.publicUrl));
  // No write takes a query parameter (its input is the body); each read names its own, or takes none (noQuery).
  api.use((req, res, next) => (changesState(req) ? noQuery(req, res, next) : next()));
  const json = jsonBody();
  // An attachment record is raw bytes: its route reads it, with a limit of one record.
  api.use((req, res, next) => (recordRoute(req)?.upload ? next() : json(req, res, next)));
  api.use(instanceRoutes(ctx));
  api.use(attachmentRoutes(ctx));
  api.use('/survivor', survivorRoutes(ctx));
  api.use('/survivor', survivorPublishingRoutes(ctx));
  api.use('/survivor', survivorMatchingRoutes(ctx));
  api.use(staffAuthRoutes(ctx));
  api.use(staffRoutes(ctx));
  api.use(staffCaseRoutes(ctx));
  api.use(staffPublishingRoutes(ctx));
  api.use(staffMatchingRoutes(ctx));
  api.use(retentionRoutes(ctx));
  api.use(staffAlertRoutes(ctx));
  api.use(notFoundHandler);
  app.use('/api', api);

  app.use(publicRoutes(ctx, deps.clientDir));

  // Assets: GET and HEAD of a file (its compressed copy when the request allows one), else 404
  // like any unknown route (never a redirect to /assets/, never a bare 405).
  const assetsDir = path.join(deps.clientDir, 'assets');
  const serveAsset = express.static(assetsDir, { index: false, redirect: false, fallthrough: true, etag: false, lastModified: false });
  app.use('/assets', compressedAssets(assetsDir));
  app.use('/assets', (req, res, next) => (changesState(req) ? next() : serveAsset(req, res, next)), notFoundHandler);
  for (const [route, file] of Object.entries(PAGES)) {
    const filePath = path.join(deps.clientDir, file);
    const send = sendPage(filePath);
    app.get(route, (req, res, next) => {
      if (!fs.existsSync(filePath)) return next(new HttpError(503, 'not_built', 'the pages are not built; run `npm run build`'));
      send(req, res, next);
    });
  }

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return { app, ctx };
}
