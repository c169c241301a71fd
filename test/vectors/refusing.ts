import type { CryptoProvider } from '../../protocol/crypto-provider';

/** A fallback that always fails: a WebCrypto provider built with it answers everything itself, or fails. */
const refuse = () => Promise.reject(new Error('no fallback'));
export const refusing: CryptoProvider = { name: 'tweetnacl', sign: refuse, verify: refuse, x25519: refuse };
