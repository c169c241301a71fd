/** zod at the edge: a failed parse becomes a 400 naming the first offending field. */
import type { z } from 'zod';
import { badRequest } from './errors';

export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : 'body';
  if (issue.code === 'unrecognized_keys') return `${where === 'body' ? 'body' : where} has unknown field(s): ${issue.keys.join(', ')}`;
  return `${where}: ${issue.message}`;
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  if (value === undefined || value === null) throw badRequest('invalid_request', `${what} is missing; send JSON with Content-Type: application/json`);
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest('invalid_request', describeZodError(result.error));
  return result.data;
}
