/**
 * The link an organisation publishes: its public address with the instance fingerprint in the
 * fragment, which browsers never send to the server (protocol/pin.ts reads it on survivor
 * pages). Apart from pin.ts so the survivor pages do not carry what only the server and the
 * setup page use. With a keyset version above 1, the link also names it (`&v=N`): a visit
 * through it refuses a chain whose newest keyset is older (the newest rows deleted, say to
 * bring back a removed member), so it should be published again after each removal.
 */
export function fingerprintLink(publicUrl: string, fingerprint: string, version = 1): string {
  return `${publicUrl.replace(/\/+$/, '')}/#fp=${fingerprint.replace(/ /g, '')}${version > 1 ? `&v=${version}` : ''}`;
}
