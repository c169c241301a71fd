/**
 * The link an organisation publishes: its public address with the instance fingerprint in the
 * fragment, which browsers never send to the server (protocol/pin.ts reads it on survivor
 * pages). Apart from pin.ts so the survivor pages do not carry what only the server and the
 * setup page use.
 */
export function fingerprintLink(publicUrl: string, fingerprint: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#fp=${fingerprint.replace(/ /g, '')}`;
}
