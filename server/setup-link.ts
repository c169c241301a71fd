/** The one-time link that lets the first admin set up the instance. Only its hash is stored. */
import type { InstanceRepo } from './db/instance-repo';
import { hashToken, randomToken } from './http/tokens';

export async function issueSetupLink(instance: InstanceRepo, publicUrl: string): Promise<string> {
  const token = randomToken(32);
  await instance.setSetupTokenHash(hashToken(token));
  // In the fragment: the browser never sends it in a request line, so no proxy log keeps it.
  return `${publicUrl}/setup#${token}`;
}
