/**
 * How the server keeps a staff member's login secret: argon2id (OWASP parameters) of the
 * authKey that the browser derives from the password. The password itself never arrives.
 */
import argon2 from 'argon2';
import { fromBase64url } from '../../protocol';
import type { StaffMe } from '../../protocol/api';
import type { StaffRecord } from '../db/staff-repo';

export const AUTH_HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export function hashAuthKey(authKey: string): Promise<string> {
  return argon2.hash(Buffer.from(fromBase64url(authKey)), AUTH_HASH_OPTIONS);
}

/** What a signed-in staff member learns about their own account. */
export function staffMe(s: StaffRecord): StaffMe {
  return { id: s.id, username: s.username, roles: s.roles, status: s.status, boxPk: s.boxPk, signPk: s.signPk, wrappedKeys: s.wrappedKeys };
}
