/** The one-time link that lets the first admin set up the instance. Only its hash is stored, with its expiry. */
import type { Clock } from './clock';
import type { InstanceRepo } from './db/instance-repo';
import { hashToken, randomToken } from './http/tokens';

/**
 * How long a setup link works: the link is printed to the server's output, which journald or a
 * log shipper may keep for months, so it must not stay usable for whoever reads that log later.
 * A day leaves the person installing the instance time to open it (even the next morning)
 * without shortening so far that a slow install has to ask for a new one.
 */
export const SETUP_LINK_MS = 24 * 3_600_000;

export interface SetupLink {
  url: string;
  /** milliseconds since the epoch */
  expiresAt: number;
}

/** A new setup link, which replaces any earlier one. */
export async function issueSetupLink(instance: InstanceRepo, publicUrl: string, clock: Clock): Promise<SetupLink> {
  const token = randomToken(32);
  const expiresAt = clock.now() + SETUP_LINK_MS;
  await instance.setSetupToken(hashToken(token), expiresAt);
  // In the fragment: the browser never sends it in a request line, so no proxy log keeps it.
  return { url: `${publicUrl}/setup#${token}`, expiresAt };
}

/** The expiry as people read it in the server's output: UTC, to the minute. */
export function setupLinkValidUntil(link: SetupLink): string {
  return `${new Date(link.expiresAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
