/**
 * What the survivor pages need of attached files up front: reading the manifests out of an
 * opened envelope and saying a size. The rest (cleaning, encrypting, uploading) is in the
 * evidence tools, loaded only when a survivor adds a file (lib/evidence-tools-loader.ts).
 */
import type { AttachmentManifest } from '../../protocol/survivor';
import { checkManifests } from './attachment-records';
import { LocalizedError, msg } from './messages';

/** The manifests named in an opened testimony or message body (checkManifests), or a LocalizedError. */
export function readManifests(value: unknown): AttachmentManifest[] {
  try {
    return checkManifests(value);
  } catch {
    throw new LocalizedError('attachment.badManifest');
  }
}

/** A file size for people: KB below a megabyte, MB above (1 KB = 1024 bytes, as file managers show). */
export function formatSize(bytes: number): string {
  return bytes < 1024 * 1024
    ? msg('attachment.kb', { n: Math.max(1, Math.round(bytes / 1024)) })
    : msg('attachment.mb', { n: (bytes / (1024 * 1024)).toFixed(1) });
}
