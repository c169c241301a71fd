/** fetch wrapper for the Awaaz API: JSON in, JSON out, errors as ApiFailure with the server's message. */
import type { ApiError } from '../../protocol/api';
import { msg } from './messages';

/**
 * How far the server's clock is ahead of this device's, from the Date header of its latest
 * answer. Signed statements are dated by the server's day (`utcDay(serverNow())`) (it accepts that day, give or take
 * one), since a phone's clock can be days off after its battery ran out.
 */
let serverAhead = 0;
export const serverNow = (): Date => new Date(Date.now() + serverAhead);

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How a page gets a new bearer token when the server refuses an expired one (lib/survivor.ts renewSessions). */
let renewToken: ((expired: string) => Promise<string | undefined>) | undefined;
export function onExpiredToken(renew: typeof renewToken): void {
  renewToken = renew;
}
/**
 * Tokens renewed in this page, and the newest: a loop that holds an older one (a long upload
 * of evidence) goes on with the newest, instead of being refused once per request.
 */
const renewed = new Set<string>();
let newest = '';
/** The token a request made with `bearer` is sent with now. */
export const bearerNow = (bearer: string): string => (renewed.has(bearer) ? newest : bearer);

/**
 * One request; a network failure or an error status becomes an ApiFailure. A request refused
 * as unauthorized is sent once more with the token the page renewed; refused again, or not
 * renewed, it fails as `session_ended`.
 */
async function send(
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  headers: Record<string, string>,
  body: BodyInit | undefined,
  bearer?: string,
  renew = renewToken,
): Promise<Response> {
  if (bearer) headers.Authorization = `Bearer ${(bearer = bearerNow(bearer))}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiFailure(0, 'network', msg('api.network'));
  }
  const serverNow = Date.parse(res.headers.get('Date') ?? '');
  if (serverNow) serverAhead = serverNow - Date.now();
  if (res.status === 401 && bearer && renew) {
    const fresh = await renew(bearer);
    if (!fresh) throw new ApiFailure(401, 'session_ended', msg('api.sessionEnded'));
    if (fresh !== bearer) {
      renewed.add(bearer);
      newest = fresh;
    }
    return send(method, path, headers, body, fresh, undefined).catch((e: ApiFailure) => {
      throw e.status === 401 ? new ApiFailure(401, 'session_ended', e.message) : e;
    });
  }
  if (!res.ok) {
    const err = ((await res.json().catch(() => undefined)) as ApiError | undefined)?.error;
    throw new ApiFailure(res.status, err?.code ?? 'http_' + res.status, err?.message ?? msg('api.status', { status: res.status }));
  }
  return res;
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown, bearer?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await send(method, path, headers, body === undefined ? undefined : JSON.stringify(body), bearer);
  if (res.status === 204) return undefined as T;
  return (await res.json().catch(() => undefined)) as T;
}

/** PUT raw bytes (an attachment record); the answer is JSON. */
export async function apiPutBytes<T>(path: string, bytes: Uint8Array<ArrayBuffer>, bearer?: string): Promise<T> {
  const res = await send('PUT', path, { Accept: 'application/json', 'Content-Type': 'application/octet-stream' }, bytes, bearer);
  return (await res.json()) as T;
}

/** GET raw bytes (an attachment record). */
export async function apiGetBytes(path: string, bearer?: string): Promise<Uint8Array> {
  const res = await send('GET', path, { Accept: 'application/octet-stream' }, undefined, bearer);
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch {
    throw new ApiFailure(0, 'network', msg('api.network'));
  }
}
