/**
 * Random strings over an alphabet, each character drawn uniformly: the server's handles and
 * story aliases (server/services/pseudonyms.ts).
 */
import nacl from 'tweetnacl';
import { ProtocolError } from './encoding';

/**
 * `length` characters drawn uniformly from `alphabet` (2 to 256 characters), one random byte
 * each. A byte at or above the largest multiple of the alphabet's size below 256 is rejected
 * and another drawn: folding it (`b % n`) would make the first `256 % n` characters likelier
 * than the others.
 */
export function randomString(
  alphabet: string,
  length: number,
  randomBytes: (k: number) => Uint8Array = (k) => nacl.randomBytes(k),
): string {
  const chars = Array.from(alphabet);
  const n = chars.length;
  if (n < 2 || n > 256 || new Set(chars).size !== n) throw new ProtocolError('bad_range', 'an alphabet has 2 to 256 distinct characters');
  if (!Number.isInteger(length) || length < 0) throw new ProtocolError('bad_range', 'length must be a whole number');
  const limit = 256 - (256 % n);
  const out: string[] = [];
  while (out.length < length) {
    for (const b of randomBytes(length - out.length)) if (b < limit) out.push(chars[b % n]);
  }
  return out.join('');
}
