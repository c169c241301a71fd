/**
 * The random names the server gives: a survivor's handle and a published story's address.
 * Neither says anything about the survivor.
 */
import crypto from 'node:crypto';
import nacl from 'tweetnacl';

const HANDLE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'; // no 0/O or 1/I to misread

/** A random pseudonymous handle such as "S-7KQ2-M9XD": it says nothing about the survivor. */
export function newHandle(): string {
  const bytes = nacl.randomBytes(8);
  const chars = Array.from(bytes, (b) => HANDLE_ALPHABET[b & 31]).join('');
  return `S-${chars.slice(0, 4)}-${chars.slice(4)}`;
}

/** Public story addresses: 10 characters, random, unrelated to the survivor's handle or case. */
const ALIAS_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export function newAlias(): string {
  return Array.from(crypto.randomBytes(10), (b) => ALIAS_ALPHABET[b % ALIAS_ALPHABET.length]).join('');
}

