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
  /** the highest keyset version seen, or the one a link named; 0 before any */
  version: number;
  /** keysetHash of the keyset seen at `version` (absent in pins written before hashes, or when a link raised the version) */
  keysetHash?: string;
  /** the fingerprint came from a published link, not from what the server showed */
  fromLink?: true;
  /** a link's fingerprint ('' if malformed) that differs from the pin: refuse until a link agrees again */
  conflict?: string;
}

/**
 * The fingerprint a URL fragment carries (`#fp=…`): undefined when it names none, '' when the
 * value is not a fingerprint (a truncated or altered link is refused, not ignored).
 */
export function fingerprintInFragment(hash: string): string | undefined {
  const m = /^#(?:.*&)?fp=([^&]*)/.exec(hash);
  if (!m) return undefined;
  // Spelled for people: 40 upper-case hex digits in groups of four, as fingerprint() in keyset.ts.
  const hex = m[1].replace(/%20|[\s+:-]/g, '').toUpperCase();
  return /^[0-9A-F]{40}$/.test(hex) ? hex.replace(/(.{4})(?!$)/g, '$1 ') : '';
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
 * A visit through a fingerprint link: `link` is the fingerprint it names ('' for a malformed
 * one), `fragment` the whole fragment, which may also name the lowest keyset version to accept
 * (`&v=N`; links made before versions name none, and neither does a damaged value). With
 * no pin, the link's fingerprint and version become the pin; agreeing with the pin, it
 * confirms it (and clears an earlier conflict), raising its version if the link names a newer
 * one (that keyset's hash is then learned on the next good visit); differing from it, the pin
 * stays and the conflict is recorded, so every page refuses until the survivor has checked
 * with the organisation.
 */
export function pinAfterLink(pin: Pin | undefined, link: string, fragment = ''): Pin {
  const version = +(/[#&]v=(\d+)(&|$)/.exec(fragment)?.[1] ?? 0);
  if (!pin?.fingerprint) return link ? { fingerprint: link, version, fromLink: true } : { fingerprint: '', version: 0, conflict: '' };
  if (link !== pin.fingerprint) return { ...pin, conflict: link };
  const next: Pin = { ...pin, fromLink: true };
  delete next.conflict;
  return version > pin.version ? { ...next, version, keysetHash: undefined } : next;
}

/**
 * The pin after a keyset chain verified against it (so a link's fingerprint, and `fromLink`,
 * stay): the newest version and its hash. The chain was checked not to be older than the pin.
 */
export function pinAfterVerified(pin: Pin | undefined, instanceId: string, fingerprint: string, version: number, keysetHash: string): Pin {
  return { ...pin, fingerprint, instanceId, version, keysetHash };
}
