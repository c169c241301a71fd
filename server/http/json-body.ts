/**
 * The API's request bodies (docs/api.md 1.1): a JSON object in UTF-8, and nothing else, so
 * that one request has one reading. express.json alone would decode UTF-16 (any `utf-*`
 * charset), drop a byte order mark, turn invalid UTF-8 into U+FFFD and take an empty body
 * for `{}`; here each of those is refused before parsing. An object naming a key twice (which
 * JSON.parse reads as the last one, other parsers as the first) is refused after it.
 */
import { isUtf8 } from 'node:buffer';
import express, { type Request, type RequestHandler } from 'express';
import { badRequest, HttpError } from './errors';
import { repeatedKeyProblem } from './repeated-keys';
import { changesState } from './security';

/** The largest JSON body any route accepts; larger ones get 413 before parsing. */
export const MAX_BODY_BYTES = 256 * 1024;

const EMPTY_BODY = 'the body is empty; send a JSON object (`{}` when the route takes no input)';
const notUtf8 = (why: string) => new HttpError(415, 'unsupported_encoding', `the request body must be UTF-8 JSON: ${why}`);

/** Each parsed request's raw bytes, from verify (before parsing) to the repeated-key check (after). */
const rawBodies = new WeakMap<object, Buffer>();

const parser = express.json({
  limit: MAX_BODY_BYTES,
  strict: true,
  // Runs on the raw bytes, after the size limit and before decoding and parsing.
  verify: (req, _res, buf, encoding) => {
    // body-parser lower-cases the charset and lets any `utf-*` through; only UTF-8 is JSON here.
    if (encoding !== 'utf-8' && encoding !== 'utf8') throw notUtf8('the charset is not utf-8');
    if (buf.length === 0) {
      if (changesState(req as Request)) throw badRequest('invalid_request', EMPTY_BODY);
      return;
    }
    // A byte order mark (UTF-8's, or UTF-16's or UTF-32's) would be dropped or misread silently.
    if (
      (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) ||
      (buf[0] === 0xfe && buf[1] === 0xff) ||
      (buf[0] === 0xff && buf[1] === 0xfe)
    ) {
      throw notUtf8('it starts with a byte order mark');
    }
    if (!isUtf8(buf)) throw notUtf8('it is not valid UTF-8');
    rawBodies.set(req, buf);
  },
});

/**
 * Parses a JSON body into req.body. A request that must carry one and says another type is
 * 415 (GET and HEAD take none; with SameSite=Strict cookies this also closes the door on form-based CSRF).
 */
export function jsonBody(): RequestHandler {
  return (req, res, next) => {
    if (changesState(req) && !req.is('application/json')) {
      return next(new HttpError(415, 'unsupported_media_type', 'send the body as JSON with Content-Type: application/json'));
    }
    parser(req, res, (err?: unknown) => {
      if (err) return next(err);
      // No Content-Length and no chunks at all: nothing was parsed.
      if (changesState(req) && req.body === undefined) return next(badRequest('invalid_request', EMPTY_BODY));
      const raw = rawBodies.get(req);
      if (raw) {
        rawBodies.delete(req);
        const repeated = repeatedKeyProblem(raw, req.body);
        if (repeated) return next(badRequest('invalid_request', repeated));
      }
      next();
    });
  };
}
