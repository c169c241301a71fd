/**
 * Publication consent (DESIGN.md, "Consent"). The survivor's browser signs, with the
 * codename-derived sign key, a statement naming the case, the draft and the SHA-256 of the
 * exact story that will be public. The server checks the signature against the survivor's
 * stored key and publishes only a story whose hash is the one signed. A signed revocation
 * names the same case and draft and takes the story down.
 *
 * "The exact public text" is the whole public story: title, text and context, hashed over
 * their canonical JSON so that no part can change without changing the hash.
 */
import nacl from 'tweetnacl';
import { canonicalJson, fromBase64url, ProtocolError, toBase64url, utf8 } from './encoding';
import { naclBackend, verifyDetached, type CryptoBackend } from './signatures';
import { cryptoProvider, type CryptoProvider } from './crypto-provider';

export const CONSENT_VERSION = 1;

/** What the public sees of a testimony, and nothing more. */
export interface PublicStory {
  title: string;
  text: string;
  /** one of the testimony contexts (workplace, family, …): the wall filters by it */
  context: string;
}

/**
 * SHA-256 of the story's canonical JSON, base64url: what consent is given to. WebCrypto's
 * digest (browsers, and Node's globalThis.crypto), so pages carry no SHA-256 of their own.
 */
export async function storyHash(story: PublicStory): Promise<string> {
  const bytes = utf8(canonicalJson({ v: CONSENT_VERSION, title: story.title, text: story.text, context: story.context }));
  return toBase64url(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(bytes))));
}

export interface ConsentStatement {
  v: typeof CONSENT_VERSION;
  type: 'publish';
  caseId: string;
  draftId: string;
  textHash: string;
  /** UTC day the survivor approved; the server refuses one far from its own day */
  issuedDay: string;
}

export interface RevocationStatement {
  v: typeof CONSENT_VERSION;
  type: 'revoke';
  caseId: string;
  draftId: string;
  issuedDay: string;
}

export type SurvivorStatement = ConsentStatement | RevocationStatement;

/** Domain-separated bytes, so a consent signature can never pass for a login or an envelope. */
function statementBytes(s: SurvivorStatement): Uint8Array {
  return utf8(`awaaz/v1/${s.type}\n` + canonicalJson(s));
}

export function signStatement(s: SurvivorStatement, signSecretKey: Uint8Array): string {
  return toBase64url(nacl.sign.detached(statementBytes(s), signSecretKey));
}

/** signStatement with the browser's provider (WebCrypto where it has Ed25519): the same signature. */
export async function signStatementAsync(s: SurvivorStatement, signSecretKey: Uint8Array, provider?: CryptoProvider): Promise<string> {
  return toBase64url(await (provider ?? (await cryptoProvider())).sign(statementBytes(s), signSecretKey));
}

/** Throws unless `sig` is the survivor's signature of exactly this statement. */
export function verifyStatement(s: SurvivorStatement, sig: string, signerPk: string, backend: CryptoBackend = naclBackend): void {
  const signature = fromBase64url(sig);
  const pk = fromBase64url(signerPk);
  if (signature.length !== nacl.sign.signatureLength || pk.length !== nacl.sign.publicKeyLength) {
    throw new ProtocolError('bad_signature', 'signature or signer key has the wrong length');
  }
  if (!verifyDetached(statementBytes(s), signature, pk, backend)) {
    throw new ProtocolError(
      'bad_signature',
      `the ${s.type === 'publish' ? 'consent' : 'revocation'} signature does not verify: it was altered, forged or signed by another key`,
    );
  }
}
