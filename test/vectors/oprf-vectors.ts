/**
 * RFC 9497's known-answer vectors for ristretto255-SHA512 in OPRF mode (oprf-rfc9497.json),
 * recomputed through protocol/oprf.ts (@noble/curves): the derived server key, each blinded
 * element, evaluation and output. Returns one message per mismatch (empty when all match).
 *
 * DOM-free and Node-free: test/unit/oprf.test.ts runs it in Node, test/e2e/matching-vectors
 * bundles it and runs it inside Chromium.
 */
import { oprfBlind, oprfEvaluate, oprfFinalize, oprfKeyFromSeed, OPRF_SUITE } from '../../protocol/oprf';
import { fromHex, toHex } from './deterministic-random';

/**
 * The randomness that makes the library's RandomScalar return `blind`: @noble/curves reads 48
 * bytes little-endian and maps them to (x mod (n - 1)) + 1, so x = blind - 1 gives blind.
 */
export function rngForBlind(blind: Uint8Array): (n: number) => Uint8Array {
  let x = 0n;
  for (let i = blind.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(blind[i]);
  x -= 1n;
  return (n: number) => {
    const out = new Uint8Array(n);
    let rest = x;
    for (let i = 0; i < n; i++) {
      out[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    return out;
  };
}

export function runOprfVectors(file: any): string[] {
  const failures: string[] = [];
  const expectEqual = (what: string, actual: string, expected: string) => {
    if (actual !== expected) failures.push(`${what}: expected ${expected}, got ${actual}`);
  };
  try {
    expectEqual('suite', OPRF_SUITE, file.suite);
    const sk = oprfKeyFromSeed(fromHex(file.seedHex), fromHex(file.keyInfoHex));
    expectEqual('skSm', toHex(sk), file.skSmHex);
    for (const v of file.vectors) {
      const input = fromHex(v.inputHex);
      const blinded = oprfBlind(input, rngForBlind(fromHex(v.blindHex)));
      expectEqual(`${v.name}: Blind`, toHex(blinded.blind), v.blindHex);
      expectEqual(`${v.name}: BlindedElement`, toHex(blinded.blinded), v.blindedElementHex);
      const evaluated = oprfEvaluate(sk, blinded.blinded);
      expectEqual(`${v.name}: EvaluationElement`, toHex(evaluated), v.evaluationElementHex);
      expectEqual(`${v.name}: Output`, toHex(oprfFinalize(input, blinded.blind, evaluated)), v.outputHex);
    }
  } catch (e) {
    failures.push(`threw ${e instanceof Error ? e.message : String(e)}`);
  }
  return failures;
}
