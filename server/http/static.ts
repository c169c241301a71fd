/**
 * The built pages and /assets, sent compressed (DESIGN.md: cheap phones on slow links).
 * scripts/build.mjs writes a brotli (.br) and a gzip (.gz) copy beside every built HTML, JS and
 * CSS file; a request gets the first of them its Accept-Encoding allows. Browsers offer br only
 * over https, and an onion service is plain http, so gzip matters as much.
 *  - Nothing is compressed while answering: the copies are made once, at the highest levels.
 *  - Vary: Accept-Encoding on every answer that could have been compressed, so that nothing
 *    between mixes the copies up (nothing may keep them anyway: Cache-Control no-store).
 *  - Subresource Integrity hashes are over the decoded bytes: they hold for every copy.
 *  - No ETag and no Last-Modified: a build's date is a trace too.
 * The public pages (wall, story, statistics) are drawn per request: sendHtml compresses them
 * as they go, at a quick level. They hold published text only, nothing secret beside what a
 * request sent, so compression lets no length attack (BREACH) read anything.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Encodings the build writes, in order of preference, with their file suffix. */
export const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;

/** What the build compresses (scripts/build.mjs COMPRESSED_TYPES says the same), by extension. */
export const COMPRESSED_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The content codings an Accept-Encoding header allows (RFC 9110 12.5.3): listed with a q-value
 * above 0, or covered by `*` without being refused by name. Lower-cased; `x-gzip` counts as gzip.
 */
export function acceptedEncodings(header: string | undefined): Set<string> {
  const allowed = new Set<string>();
  const refused = new Set<string>();
  let any = false;
  for (const part of (header ?? '').split(',')) {
    const [rawToken, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!rawToken) continue;
    const token = rawToken === 'x-gzip' ? 'gzip' : rawToken;
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    const ok = Number.isFinite(weight) && weight > 0;
    if (token === '*') any = ok;
    else (ok ? allowed : refused).add(token);
  }
  if (any) for (const e of ENCODINGS) if (!refused.has(e.name)) allowed.add(e.name);
  return allowed;
}

/** The copy of a built file to send for this request: a compressed one if allowed and built. */
function pick(req: Request, file: string): { file: string; encoding?: string } {
  const accepted = acceptedEncodings(req.headers['accept-encoding']);
  for (const e of ENCODINGS) if (accepted.has(e.name) && fs.existsSync(file + e.suffix)) return { file: file + e.suffix, encoding: e.name };
  return { file };
}

/** Sends a built file (a page, or an asset) in the encoding the request allows, with its own type. */
function sendBuilt(req: Request, res: Response, next: NextFunction, file: string): void {
  const type = COMPRESSED_TYPES[path.extname(file)];
  const chosen = type ? pick(req, file) : { file };
  if (type) {
    res.vary('Accept-Encoding');
    res.setHeader('Content-Type', type);
  }
  if (chosen.encoding) res.setHeader('Content-Encoding', chosen.encoding);
  res.sendFile(chosen.file, { etag: false, lastModified: false, cacheControl: false, acceptRanges: false }, (err) => {
    if (err && !res.headersSent) {
      res.removeHeader('Content-Encoding');
      next(err);
    }
  });
}

/** GET /<page>: the built page file, compressed when the request allows it. */
export function sendPage(file: string): RequestHandler {
  return (req, res, next) => sendBuilt(req, res, next, file);
}

/** A built asset's name: flat under /assets, no path, no dot file. */
const ASSET_NAME = /^\/([A-Za-z0-9_-][A-Za-z0-9._-]*)$/;

/**
 * Before express.static on /assets: answers GET and HEAD of a built HTML, JS or CSS asset with
 * its compressed copy when the request allows one; anything else (no such file, no allowed
 * encoding, another method) goes on to express.static as before, marked Vary all the same.
 */
export function compressedAssets(assetsDir: string): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const name = ASSET_NAME.exec(req.path)?.[1];
    if (!name || !COMPRESSED_TYPES[path.extname(name)]) return next();
    res.vary('Accept-Encoding');
    const file = path.join(assetsDir, name);
    const chosen = pick(req, file);
    if (!chosen.encoding || !fs.existsSync(file)) return next();
    sendBuilt(req, res, next, file);
  };
}

/** A page drawn for this request (the public pages), compressed as it goes if the request allows. */
export function sendHtml(req: Request, res: Response, status: number, body: string): void {
  const accepted = acceptedEncodings(req.headers['accept-encoding']);
  const bytes = Buffer.from(body, 'utf8');
  res.status(status).vary('Accept-Encoding').setHeader('Content-Type', COMPRESSED_TYPES['.html']);
  if (accepted.has('br')) {
    res.setHeader('Content-Encoding', 'br');
    res.send(
      zlib.brotliCompressSync(bytes, {
        params: {
          [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
          [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
    );
  } else if (accepted.has('gzip')) {
    res.setHeader('Content-Encoding', 'gzip');
    res.send(zlib.gzipSync(bytes, { level: 6 }));
  } else res.send(bytes);
}
