/**
 * The random names the server gives: a survivor's handle and a published story's address.
 * Neither says anything about the survivor.
 */
import { randomString } from '../../protocol/random-string';

type RandomBytes = (k: number) => Uint8Array;

export const HANDLE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'; // no 0/O or 1/I to misread

/** A random pseudonymous handle such as "S-7KQ2-M9XD": it says nothing about the survivor. */
export function newHandle(randomBytes?: RandomBytes): string {
  const chars = randomString(HANDLE_ALPHABET, 8, randomBytes);
  return `S-${chars.slice(0, 4)}-${chars.slice(4)}`;
}

/** Public story addresses: 10 characters, random, unrelated to the survivor's handle or case. */
export const ALIAS_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no i, l, o, 0 or 1 to misread
export function newAlias(randomBytes?: RandomBytes): string {
  return randomString(ALIAS_ALPHABET, 10, randomBytes);
}
