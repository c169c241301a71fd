/** Shared test helpers (not a test file: jest only runs *.test.ts). */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { ProtocolError } from '../../protocol/encoding';

/** Runs fn and returns the ProtocolError it throws; fails if it throws anything else or nothing. */
export function protocolErrorOf(fn: () => unknown): ProtocolError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error('expected a ProtocolError, but nothing was thrown');
  if (!(thrown instanceof ProtocolError)) throw new Error(`expected a ProtocolError, got ${inspect(thrown)}`);
  return thrown;
}

/** Asserts that fn throws a ProtocolError with this code and a non-empty message. */
export function expectProtocolError(fn: () => unknown, code: string): ProtocolError {
  const e = protocolErrorOf(fn);
  expect(e.code).toBe(code);
  expect(e.message.length).toBeGreaterThan(0);
  return e;
}

/** Same for a promise. */
export async function expectRejectsProtocolError(p: Promise<unknown>, code: string): Promise<ProtocolError> {
  let thrown: unknown;
  try {
    await p;
  } catch (e) {
    thrown = e;
  }
  if (!(thrown instanceof ProtocolError)) throw new Error(`expected a ProtocolError, got ${inspect(thrown)}`);
  expect(thrown.code).toBe(code);
  expect(thrown.message.length).toBeGreaterThan(0);
  return thrown;
}

/** SHA-512 from node:crypto (OpenSSL): an implementation independent of tweetnacl. */
export function nodeSha512(...parts: (string | Uint8Array)[]): Uint8Array {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** A copy of bytes with one bit flipped. */
export function flipBit(bytes: Uint8Array, position: number, bit: number): Uint8Array {
  const out = bytes.slice();
  out[position] ^= 1 << bit;
  return out;
}
