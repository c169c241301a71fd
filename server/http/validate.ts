/** zod at the edge: a failed parse becomes a 400 naming the first offending field. */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { badRequest } from './errors';

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/** The body of routes that take no input: an empty JSON object and nothing else. */
export const EmptyBody = z.strictObject({});

export function describeZodError(error: z.ZodError, what = 'body'): string {
  const issue = error.issues[0];
  const where = issue.path.length
    ? issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
        .join('.')
        .replace(/\.\[/g, '[')
    : what;
  if (issue.code === 'unrecognized_keys') {
    // Name a stray key only when it looks like a field name (a typo to fix); any other key is
    // input the client chose and is not echoed back.
    const named = issue.keys.filter((k) => FIELD_NAME.test(k));
    const rest = issue.keys.length - named.length;
    const listed = [...named, ...(rest ? [`${rest} other${rest === 1 ? '' : 's'}`] : [])].join(', ');
    return `${where} has unknown field(s): ${listed}`;
  }
  return `${where}: ${issue.message}`;
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  if (value === undefined || value === null)
    throw badRequest('invalid_request', `${what} is missing; send JSON with Content-Type: application/json`);
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest('invalid_request', describeZodError(result.error, what));
  return result.data;
}

/**
 * For a route that takes no query parameters: any one is refused, naming it (a typo, or a
 * parameter of another route), as an unknown body field is.
 */
export const noQuery: RequestHandler = (req, _res, next) => {
  parseWith(EmptyBody, req.query, 'query');
  next();
};
