/**
 * The OPRF of the matching escrow (protocol/oprf.ts, @noble/curves): RFC 9497's vectors for
 * ristretto255-SHA512 in OPRF mode, and what the server's evaluation refuses.
 * test/e2e/matching-vectors.e2e.test.ts runs the same vectors in Chromium.
 */
import nacl from 'tweetnacl';
import { oprfBlind, oprfEvaluate, oprfFinalize, oprfKeyFromSeed } from '../../protocol/oprf';
import file from '../vectors/oprf-rfc9497.json';
import { runOprfVectors } from '../vectors/oprf-vectors';
import { expectProtocolError } from './helpers';

describe('RFC 9497 OPRF(ristretto255, SHA-512) vectors through @noble/curves', () => {
  test('every vector matches', () => {
    expect(runOprfVectors(file)).toEqual([]);
  });

  test('an altered vector is reported', () => {
    const altered = JSON.parse(JSON.stringify(file));
    altered.vectors[1].outputHex = '00' + altered.vectors[1].outputHex.slice(2);
    const failures = runOprfVectors(altered);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^Test Vector 2, Batch Size 1: Output/);
  });
});

describe('OPRF round trip and refusals', () => {
  const sk = oprfKeyFromSeed(nacl.randomBytes(32));
  const input = new TextEncoder().encode('awaaz/v1/match\nphone:+923001234567');

  test('two blindings of one input give one output; another key gives another', () => {
    const a = oprfBlind(input);
    const b = oprfBlind(input);
    expect(Buffer.from(a.blinded).equals(Buffer.from(b.blinded))).toBe(false); // the server sees unlinkable requests
    const outA = oprfFinalize(input, a.blind, oprfEvaluate(sk, a.blinded));
    const outB = oprfFinalize(input, b.blind, oprfEvaluate(sk, b.blinded));
    expect(Buffer.from(outA).equals(Buffer.from(outB))).toBe(true);
    const other = oprfKeyFromSeed(nacl.randomBytes(32));
    const c = oprfBlind(input);
    expect(Buffer.from(oprfFinalize(input, c.blind, oprfEvaluate(other, c.blinded))).equals(Buffer.from(outA))).toBe(false);
  });

  test('the server refuses bytes that are not a ristretto255 element, and the identity', () => {
    expectProtocolError(() => oprfEvaluate(sk, new Uint8Array(31)), 'bad_element');
    expectProtocolError(() => oprfEvaluate(sk, new Uint8Array(32).fill(0xff)), 'bad_element');
    expectProtocolError(() => oprfEvaluate(sk, new Uint8Array(32)), 'bad_element'); // the identity element
  });

  test('a seed must be 32 bytes', () => {
    expectProtocolError(() => oprfKeyFromSeed(new Uint8Array(16)), 'bad_key');
  });
});
