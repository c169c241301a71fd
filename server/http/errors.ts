/**
 * One error shape for every failure: {error: {code, message}}. Messages name the problem
 * but never echo the input, and no stack trace leaves the server.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ProtocolError } from '../../protocol';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** response headers that go with the refusal (Retry-After), so code that never sees `res` can say when to come back */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
export const unauthorized = (message = 'log in first') => new HttpError(401, 'unauthorized', message);
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (message = 'not found') => new HttpError(404, 'not_found', message);
export const conflict = (code: string, message: string) => new HttpError(409, code, message);

export const notFoundHandler: RequestHandler = (_req, _res, next) => next(notFound('no such route'));

/** Errors raised by body-parser carry a `type`; map them to messages a client can act on. */
function fromBodyParser(err: { type?: string; status?: number }): HttpError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return badRequest('malformed_json', 'the request body is not valid JSON');
    case 'entity.too.large':
      return new HttpError(413, 'body_too_large', 'the request body is larger than this route accepts');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_encoding', 'the request body must be UTF-8 JSON');
    case 'request.aborted':
      return badRequest('request_aborted', 'the request was aborted');
    default:
      return undefined;
  }
}

/** A unique key taken by a concurrent request (same caseId, same keys, same username, same keyset version). */
function isUniqueKeyTaken(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return (e?.code === 'SQLITE_CONSTRAINT' && /UNIQUE constraint failed/.test(String(e.message))) || e?.code === '23505';
}

/**
 * A concurrent request got there first, after this one's own checks: a unique key taken, a row
 * it references erased meanwhile (a foreign key), or on PostgreSQL two transactions that waited
 * on each other (deadlock, serialization failure), of which this one was rolled back.
 */
function isConcurrentChange(err: unknown): boolean {
  if (isUniqueKeyTaken(err)) return true;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (e?.code === 'SQLITE_CONSTRAINT') return /FOREIGN KEY constraint failed/.test(String(e.message));
  return e?.code === '23503' || e?.code === '40P01' || e?.code === '40001';
}

export function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (err instanceof ProtocolError) e = badRequest(err.code, err.message);
    else if (isConcurrentChange(err)) {
      e = conflict('conflict', 'a concurrent request changed this at the same moment; reload and try again');
      // Rare enough to be worth a line (a bug could hide behind one), naming only the engine's code.
      if (!isUniqueKeyTaken(err))
        log(`conflict: a concurrent change rolled a transaction back (${String((err as { code?: unknown }).code)})`);
    } else {
      // Express and its body parser give an error a status (and body-parser a type); anything may be thrown, though.
      const raw = (typeof err === 'object' && err !== null ? err : {}) as { type?: string; status?: number };
      const status = typeof raw.status === 'number' ? raw.status : 500;
      e =
        fromBodyParser(raw) ??
        // The router decodes path parameters; a `%` not followed by two hex digits fails there.
        (err instanceof URIError && status === 400
          ? badRequest('malformed_path', 'the path has a malformed %-escape: a % must be followed by two hexadecimal digits')
          : undefined) ??
        (status === 404
          ? notFound()
          : status >= 400 && status < 500
            ? badRequest('bad_request', 'the request could not be understood')
            : new HttpError(500, 'internal', 'something went wrong on the server'));
      // Log only our own failure, never the request (no address, no body).
      if (e.status === 500) log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(e.headers)) res.setHeader(name, value);
    res.status(e.status).json({ error: { code: e.code, message: e.message } });
  };
}
