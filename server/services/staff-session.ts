/**
 * What keeps a staff member signed in across a reload (SECURITY.md "Staff sessions and
 * reloads"): the browser keeps the unlocked private keys in sessionStorage, sealed under a
 * random key that only the server holds, for this session only. The stored copy alone and the
 * database alone each open nothing; the key goes when the session ends (sign-out, timeout,
 * removal, password change), and the sealed copy when the tab or browser closes.
 */
import type { SessionReloadKey } from '../../protocol/api';
import type { AppContext } from '../app';
import { unauthorized } from '../http/errors';
import { randomToken } from '../http/tokens';

export async function sessionReloadKey(ctx: AppContext, sessionHash: string): Promise<SessionReloadKey> {
  const key = await ctx.repos.staff.sessionReloadKey(sessionHash, randomToken(32));
  // Only if the session ended between the guard and here.
  if (!key) throw unauthorized('your session has ended; log in again');
  return { key };
}
