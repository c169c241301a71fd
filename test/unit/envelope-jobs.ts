/**
 * CPU-heavy envelope checks, written as plain functions so they can run either directly under
 * jest or, much faster, in a worker thread (see run-in-worker.ts): inside jest's vm context every
 * global lookup (Math, Float64Array) is slow and tweetnacl makes many, so an Ed25519 verification
 * costs ~60-80 ms there against ~10 ms in a worker. The code under test is the same protocol/
 * source and the same real tweetnacl either way.
 */
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { fromBase64url, ProtocolError, randomId, toBase64url } from '../../protocol/encoding';
import { openEnvelope, sealEnvelope, signedPart, type Envelope } from '../../protocol/envelope';

export type Field = 'ciphertext' | 'sig' | 'signer' | `keys.${number}.${'kid' | 'epk' | 'wrapped'}`;

function getField(env: Envelope, field: Field): string {
  if (field === 'ciphertext' || field === 'sig' || field === 'signer') return env[field];
  const [, i, name] = field.split('.') as [string, string, 'kid' | 'epk' | 'wrapped'];
  return env.keys[Number(i)][name] as string;
}

function setField(env: Envelope, field: Field, value: string): Envelope {
  if (field === 'ciphertext' || field === 'sig' || field === 'signer') return { ...env, [field]: value };
  const [, i, name] = field.split('.') as [string, string, 'kid' | 'epk' | 'wrapped'];
  return { ...env, keys: env.keys.map((k, j) => (j === Number(i) ? { ...k, [name]: value } : k)) };
}

export interface SweepInput {
  envelope: Envelope;
  box: nacl.BoxKeyPair;
  trustedSigner: Uint8Array;
  expectedKind: string;
  expectedCaseId: string;
  fields: Field[];
  /** if set, every altered envelope is re-signed with this Ed25519 secret key (of the trusted signer) */
  resignWith?: Uint8Array;
}

export interface Outcome {
  field: Field;
  position: number;
  bit: number;
  /** the ProtocolError code, null if the envelope opened, 'not a ProtocolError' for anything else */
  code: string | null;
  message: string;
}

/** For every byte of every field: flip one bit (bit number = position mod 8) and try to open. */
export function sweepFlips(input: SweepInput): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const field of input.fields) {
    const bytes = fromBase64url(getField(input.envelope, field));
    for (let position = 0; position < bytes.length; position++) {
      const bit = position % 8;
      const altered = bytes.slice();
      altered[position] ^= 1 << bit;
      let env = setField(input.envelope, field, toBase64url(altered));
      if (input.resignWith) env = { ...env, sig: toBase64url(nacl.sign.detached(signedPart(env), input.resignWith)) };
      let code: string | null = null;
      let message = '';
      try {
        openEnvelope(env, {
          box: input.box,
          expectedKind: input.expectedKind,
          expectedCaseId: input.expectedCaseId,
          trustedSigners: [input.trustedSigner],
        });
      } catch (e) {
        code = e instanceof ProtocolError ? e.code : 'not a ProtocolError';
        message = e instanceof Error ? e.message : String(e);
      }
      outcomes.push({ field, position, bit, code, message });
    }
  }
  return outcomes;
}

export interface PropertyResult {
  failed: boolean;
  numRuns: number;
  report: string;
}

/** Random bodies (records of strings) sealed to 1..4 recipients: every recipient opens the same body. */
export function roundTripProperty(input: { numRuns: number; seed?: number }): PropertyResult {
  const signer = nacl.sign.keyPair();
  const kind = 'testimony';
  const body = fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 300 }), {
    maxKeys: 6,
    noNullPrototype: true,
  });
  const secretKeys = fc.uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), {
    minLength: 1,
    maxLength: 4,
    // distinct public keys: secret keys that differ only in clamped bits share one
    selector: (sk) => toBase64url(nacl.box.keyPair.fromSecretKey(sk).publicKey),
  });
  const details = fc.check(
    fc.property(body, secretKeys, (b, sks) => {
      const caseId = randomId();
      const boxes = sks.map((sk) => nacl.box.keyPair.fromSecretKey(sk));
      const env = sealEnvelope({ kind, caseId, body: b, recipients: boxes.map((x) => x.publicKey), signer });
      if (env.keys.length !== boxes.length) throw new Error(`${env.keys.length} keys for ${boxes.length} recipients`);
      if (new Set(env.keys.map((k) => k.epk)).size !== 1) throw new Error('more than one ephemeral key');
      const expected = JSON.stringify(Object.entries({ ...b, v: 1, kind, caseId }).sort(([x], [y]) => (x < y ? -1 : 1)));
      boxes.forEach((box, i) => {
        const opened = openEnvelope(env, { box, expectedKind: kind, expectedCaseId: caseId, trustedSigners: [signer.publicKey] });
        const got = JSON.stringify(Object.entries(opened.body).sort(([x], [y]) => (x < y ? -1 : 1)));
        if (got !== expected) throw new Error(`recipient ${i} opened ${got}, expected ${expected}`);
        if (opened.signer !== toBase64url(signer.publicKey)) throw new Error('wrong signer');
      });
    }),
    { numRuns: input.numRuns, seed: input.seed },
  );
  return { failed: details.failed, numRuns: details.numRuns, report: fc.defaultReportMessage(details) ?? '' };
}

export const jobs = { sweepFlips, roundTripProperty };
export type Jobs = typeof jobs;
