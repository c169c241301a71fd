/** Shared assertions for the integration tests (not a test file: jest only runs *.test.ts). */
import type { Response } from 'supertest';
import type { Envelope } from '../../protocol';

/** A distinctive string put into bad values: it must never come back in a response. */
export const MARKER = 'Zq7xMarkerQ9z';

/**
 * Asserts the one error shape, {error: {code, message}} and nothing else, with this status
 * (and code), a message that names the problem (every `mentions` entry appears in it), no
 * echo of MARKER anywhere in the response and no stack trace.
 */
export function expectError(
  res: Response,
  status: number,
  code?: string,
  ...mentions: (string | RegExp)[]
): { code: string; message: string } {
  const where = `${res.status} ${res.text}`;
  expect({ status: res.status, where }).toEqual({ status, where });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message']);
  const { code: got, message } = res.body.error as { code: unknown; message: unknown };
  expect(typeof got).toBe('string');
  expect(typeof message).toBe('string');
  expect((got as string).length).toBeGreaterThan(0);
  expect((message as string).length).toBeGreaterThan(0);
  if (code !== undefined) expect(got).toBe(code);
  for (const m of mentions) {
    if (typeof m === 'string') expect(message).toContain(m);
    else expect(message).toMatch(m);
  }
  expect(res.text).not.toContain(MARKER);
  expect(JSON.stringify(res.headers)).not.toContain(MARKER);
  expect(res.text).not.toMatch(/\n\s+at |\.[jt]s:\d+|node_modules/);
  return { code: got as string, message: message as string };
}

/**
 * The testimony envelope of `caseId` wherever a response carries it (the case views nest
 * envelopes in threads and items; this does not depend on that shape).
 */
export function findEnvelope(body: unknown, caseId: string): Envelope | undefined {
  if (Array.isArray(body)) {
    for (const x of body) {
      const found = findEnvelope(x, caseId);
      if (found) return found;
    }
    return undefined;
  }
  if (body && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    if (o.kind === 'testimony' && o.caseId === caseId && typeof o.ciphertext === 'string' && typeof o.sig === 'string')
      return o as unknown as Envelope;
    for (const v of Object.values(o)) {
      const found = findEnvelope(v, caseId);
      if (found) return found;
    }
  }
  return undefined;
}
