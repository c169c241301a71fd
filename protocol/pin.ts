/**
 * What a browser remembers about the instance it trusts, and the fingerprint link that closes
 * trust on first use. One pin per origin: the instance fingerprint, the instanceId and the
 * highest keyset version seen. An organisation can publish `https://host/#fp=<40 hex digits>`:
 * the fragment never reaches the server, and a first visit through that link pins the
 * fingerprint before the server has shown anything. DOM-free and importing nothing, so the
 * survivor pages' base script carries it without any crypto, and the tests share it.
 */

export interface Pin {
  /** instance fingerprint as `fingerprint()` in keyset.ts spells it; '' when only a bad link was seen */
  fingerprint: string;
  /** unknown until a keyset was verified (a pin made from a link) */
  instanceId?: string;
  /** the highest keyset version seen; 0 before any */
  version: number;
  /** the fingerprint came from a published link, not from what the server showed */
  fromLink?: true;
  /** a link's fingerprint ('' if malformed) that differs from the pin: refuse until a link agrees again */
  conflict?: string;
}

/** The fingerprint's spelling for people: 40 upper-case hex digits in groups of four; '' if not one. */
export function normalizeFingerprint(text: string): string {
  const hex = text.replace(/[\s+:-]/g, '').toUpperCase();
  return /^[0-9A-F]{40}$/.test(hex) ? hex.replace(/(.{4})(?!$)/g, '$1 ') : '';
}

/**
 * The fingerprint a URL fragment carries (`#fp=…`): undefined when it names none, '' when the
 * value is not a fingerprint (a truncated or altered link is refused, not ignored).
 */
export function fingerprintInFragment(hash: string): string | undefined {
  const m = /^#(?:.*&)?fp=([^&]*)/.exec(hash);
  return m ? normalizeFingerprint(m[1].replace(/%20/g, '')) : undefined;
}

/** Reads a stored pin (also those written before links existed); anything unreadable counts as none. */
export function parsePin(json: string | null): Pin | undefined {
  try {
    const pin = JSON.parse(json ?? '0') as Pin | 0;
    return pin && typeof pin.fingerprint === 'string' && typeof pin.version === 'number' ? pin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A visit through a fingerprint link ('' for a malformed one): with no pin, the link's
 * fingerprint becomes the pin; agreeing with the pin, it confirms it (and clears an earlier
 * conflict); differing from it, the pin stays and the conflict is recorded, so every page
 * refuses until the survivor has checked with the organisation.
 */
export function pinAfterLink(pin: Pin | undefined, link: string): Pin {
  if (!pin?.fingerprint) return link ? { fingerprint: link, version: 0, fromLink: true } : { fingerprint: '', version: 0, conflict: '' };
  const next: Pin = { ...pin, fromLink: true };
  delete next.conflict;
  return link === pin.fingerprint ? next : { ...pin, conflict: link };
}

/** The pin after a keyset chain verified against it (so a link's fingerprint, and `fromLink`, stay). */
export function pinAfterVerified(pin: Pin | undefined, instanceId: string, fingerprint: string, version: number): Pin {
  return { ...pin, fingerprint, instanceId, version: Math.max(version, pin?.version ?? 0) };
}
