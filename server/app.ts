/**
 * createApp builds the Express application from its dependencies and never listens, so
 * tests drive it with supertest and main.ts decides how it is served.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { systemClock, type Clock } from './clock';
import { loadAddressKey, type Config } from './config';
import { attachmentRepo } from './db/attachment-repo';
import { auditRepo } from './db/audit-repo';
import { caseReadRepo } from './db/case-read-repo';
import { caseRepo } from './db/case-repo';
import { envelopeRepo } from './db/envelope-repo';
import { challengeRepo } from './db/challenge-repo';
import { erase, type Db } from './db/database';
import { instanceRepo } from './db/instance-repo';
import { keysetRepo } from './db/keyset-repo';
import { publishingRepo } from './db/publishing-repo';
import { settingsRepo } from './db/settings-repo';
import { staffSecurityRepo } from './db/staff-security-repo';
import { staffRepo } from './db/staff-repo';
import { survivorRepo } from './db/survivor-repo';
import { createStaffAuth, requireSurvivor, type StaffAuth } from './http/auth';
import { errorHandler, HttpError, notFound, notFoundHandler } from './http/errors';
import { jsonBody } from './http/json-body';
import { identityLimiter, limiter } from './http/rate-limit';
import { changesState, sameOriginWrites, securityHeaders } from './http/security';
import { compressedAssets, sendPage } from './http/static';
import { attachmentRoutes, isCredentialedRecordRequest, recordRoute } from './routes/attachments';
import { instanceRoutes } from './routes/instance';
import { staffPublishingRoutes, survivorPublishingRoutes } from './routes/publishing';
import { publicRoutes } from './routes/public';
import { staffRoutes } from './routes/staff';
import { staffCaseRoutes } from './routes/staff-cases';
import { staffAuthRoutes } from './routes/staff-auth';
import { survivorRoutes } from './routes/survivor';

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
}

export interface AppContext {
  db: Db;
  config: Config;
  instanceId: string;
  serverSecret: string;
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
  };
  /** the one clock: every time and day the server reads or stores comes from it */
  clock: Clock;
  /** authentication, built once: staff sessions with the 2FA gate, and survivor bearer tokens (server/http/auth.ts) */
  auth: { staff: StaffAuth; survivor: RequestHandler };
  /** general: per address, every request but credentialed record requests; records: per survivor or staff member (server/http/rate-limit.ts) */
  limits: { general: RequestHandler; sensitive: RequestHandler; records: RequestHandler };
  log: (line: string) => void;
  /**
   * Every erasure: runs `work` in a transaction, and when it answers, nothing it deleted or
   * overwrote is left in the database files (server/db/database.ts `erase`). If another process
   * kept that from happening, it says so in the log; the sweeper finishes it within a minute.
   */
  erase<T>(work: (trx: Db) => Promise<T>): Promise<T>;
}

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
    envelopes: envelopeRepo(db),
    publishing: publishingRepo(db),
    challenges: challengeRepo(db),
    attachments: attachmentRepo(db),
  };
  const instance = await repos.instance.ensure(clock.today());
  const addressKey = deps.addressKey ?? loadAddressKey(config.addressKeyFile);
  const security = staffSecurityRepo(db);
  const settings = settingsRepo(db, config);
  const ctx: AppContext = {
    db,
    config,
    instanceId: instance.instance_id,
    serverSecret: instance.server_secret,
    repos: {
      ...repos,
      audit: auditRepo(db, { instanceId: instance.instance_id, clock }),
      settings,
      security,
    },
    clock,
    auth: {
      staff: createStaffAuth({ staff: repos.staff, security, settings, config, clock }),
      survivor: requireSurvivor(instance.server_secret, clock),
    },
    limits: {
      general: limiter(db, clock, addressKey, 'all', config.rateLimitPerMinute, {
        skip: (req) => isCredentialedRecordRequest(instance.server_secret, req, clock.now()),
      }),
      sensitive: limiter(db, clock, addressKey, 'sensitive', config.rateLimitSensitivePerMinute),
      records: identityLimiter(db, clock, addressKey, 'records', config.rateLimitRecordsPerMinute),
    },
    log,
    async erase(work) {
      const { result, flushed } = await erase(db, work);
      if (!flushed)
        log(
          'erasure: erased rows may still have a copy in the database files (SQLite: another process was reading it); the sweeper tries again within a minute',
        );
      return result;
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
  const json = jsonBody();
  // An attachment record is raw bytes: its route reads it, with a limit of one record.
  api.use((req, res, next) => (recordRoute(req)?.upload ? next() : json(req, res, next)));
  api.use(instanceRoutes(ctx));
  api.use(attachmentRoutes(ctx));
  api.use('/survivor', survivorRoutes(ctx));
  api.use('/survivor', survivorPublishingRoutes(ctx));
  api.use(staffAuthRoutes(ctx));
  api.use(staffRoutes(ctx));
  api.use(staffCaseRoutes(ctx));
  api.use(staffPublishingRoutes(ctx));
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
