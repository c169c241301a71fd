/**
 * The protocol as survivor pages use it: everything but the staff-only modules (the audit
 * log's hash chain, staff key wrapping). The survivor pages' shared layer is built from this
 * entry, so those modules do not weigh on the survivor pages' budget (DESIGN.md: 80 KB).
 * Staff pages and the server import protocol/index.ts.
 */
export * from './encoding';
export * from './padding';
export * from './codename';
export * from './kdf';
export * from './envelope';
export * from './keyset';
export * from './auth';
export * from './pow';
export * from './signatures';
export * from './crypto-provider';
export * from './consent';
export * from './values';
export * from './attachment';
