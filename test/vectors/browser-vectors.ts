/**
 * Recomputes the protocol v1 known-answer vectors (protocol-v1.json) with protocol/ and
 * returns one message per mismatch (an empty list when everything matches).
 *
 * DOM-free and Node-free (no node: modules, no fs, no Buffer): the e2e suite bundles it with
 * esbuild and runs it inside Chromium, so the browser's hash-wasm and tweetnacl are checked
 * against the same vectors as Node's. test/unit/browser-vectors.test.ts runs it under Node.
 */
import nacl from 'tweetnacl';
import { canonicalJson, equalBytes, fromBase64url, toBase64url, utf8 } from '../../protocol/encoding';
import { normalizeCodename } from '../../protocol/codename';
import { SURVIVOR_KDF, staffSecrets, survivorKeyPairs, survivorMaster, survivorSalt } from '../../protocol/kdf';
import { openEnvelope, sealEnvelope, type Envelope } from '../../protocol/envelope';
import { deterministicRandom, fromHex, toHex } from './deterministic-random';

export async function runProtocolVectors(vectors: any): Promise<string[]> {
  const failures: string[] = [];
  const expectEqual = (what: string, actual: unknown, expected: unknown): void => {
    if (actual !== expected) failures.push(`${what}: expected ${String(expected)}, got ${String(actual)}`);
  };
  const section = async (name: string, run: () => Promise<void> | void): Promise<void> => {
    try {
      await run();
    } catch (e) {
      failures.push(`${name}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  };

  await section('survivorKdf', async () => {
    const v = vectors.survivorKdf;
    expectEqual('survivorKdf.params', canonicalJson(v.params), canonicalJson(SURVIVOR_KDF));
    expectEqual('survivorKdf.codename is normalized', normalizeCodename(v.codename), v.codename);
    expectEqual('survivorKdf.salt', toHex(survivorSalt(v.instanceId)), toHex(utf8(v.saltUtf8)));
    const master = await survivorMaster(v.codename, v.instanceId);
    expectEqual('survivorKdf.master', toHex(master), v.masterHex);
    const pairs = survivorKeyPairs(master);
    expectEqual('survivorKdf.signPk', toBase64url(pairs.sign.publicKey), v.signPk);
    expectEqual('survivorKdf.boxPk', toBase64url(pairs.box.publicKey), v.boxPk);
  });

  await section('staffKdf', async () => {
    const v = vectors.staffKdf;
    // A record's own parameters (64 MiB, t = 3: the default before issue 11); new records use STAFF_KDF.
    expectEqual('staffKdf.params', canonicalJson(v.params), canonicalJson({ alg: 'argon2id', m: 65536, t: 3, p: 1 }));
    const secrets = await staffSecrets(v.password, fromHex(v.saltHex), v.params);
    expectEqual('staffKdf.wrapKey', toHex(secrets.wrapKey), v.wrapKeyHex);
    expectEqual('staffKdf.authKey', toHex(secrets.authKey), v.authKeyHex);
  });

  await section('envelope', () => {
    const v = vectors.envelope;
    const recipients = (v.recipientSecretKeysHex as string[]).map((hex) => nacl.box.keyPair.fromSecretKey(fromHex(hex)));
    recipients.forEach((r, i) => expectEqual(`envelope.recipientBoxPks[${i}]`, toBase64url(r.publicKey), v.recipientBoxPks[i]));
    const signer = nacl.sign.keyPair.fromSeed(fromHex(v.signerSeedHex));
    expectEqual('envelope.signerPk', toBase64url(signer.publicKey), v.signerPk);

    const sealed = sealEnvelope({
      kind: v.kind,
      caseId: v.caseId,
      body: v.body,
      recipients: recipients.map((r) => r.publicKey),
      signer,
      random: deterministicRandom(v.randomSeed),
    });
    const expected = v.envelope as Envelope;
    for (const field of ['v', 'alg', 'kind', 'caseId', 'ciphertext', 'keys', 'signer', 'sig'] as const) {
      expectEqual(`envelope.${field}`, canonicalJson(sealed[field]), canonicalJson(expected[field]));
    }

    const expectedBody = canonicalJson({ ...v.body, v: 1, kind: v.kind, caseId: v.caseId });
    recipients.forEach((r, i) => {
      try {
        const opened = openEnvelope(expected, {
          box: r,
          expectedKind: v.kind,
          expectedCaseId: v.caseId,
          trustedSigners: [fromBase64url(v.signerPk)],
        });
        expectEqual(`envelope opened by recipient ${i}`, canonicalJson(opened.body), expectedBody);
        if (!equalBytes(fromBase64url(opened.signer), signer.publicKey)) failures.push(`envelope opened by recipient ${i}: wrong signer`);
      } catch (e) {
        failures.push(`envelope does not open for recipient ${i}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  });

  return failures;
}
