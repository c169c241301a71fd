/**
 * Encrypted alerts (server/services/alert-key.ts) are all one size: the mail provider sees the
 * size of a mail, and without padding it tells a new case from an answer, a match or a digest.
 * Real openpgp keys and encryption.
 */
import * as openpgp from 'openpgp';
import { encryptAlert, ENCRYPTED_ALERT_BLOCK_BYTES } from '../../server/services/alert-key';
import { alertMessage } from '../../server/services/alerts';
import type { QueueKind } from '../../server/db/alert-repo';

const KINDS: QueueKind[] = ['new_case', 'answer', 'match'];
/** Every alert that can be sent: each kind alone, immediately or in a digest, and every digest of several kinds. */
const ALERTS: [QueueKind[], boolean][] = [
  ...KINDS.map((k): [QueueKind[], boolean] => [[k], false]),
  ...KINDS.map((k): [QueueKind[], boolean] => [[k], true]),
  [['new_case', 'answer'], true],
  [['new_case', 'match'], true],
  [['answer', 'match'], true],
  [KINDS, true],
];

test('every kind of alert and every digest encrypts to the same number of bytes, and still decrypts to its words', async () => {
  const { publicKey, privateKey } = await openpgp.generateKey({
    type: 'curve25519',
    userIDs: [{ email: 'moderator@example.org' }],
    format: 'armored',
  });
  const sizes = new Set<number>();
  for (const [kinds, digest] of ALERTS) {
    const plain = alertMessage('https://awaaz.example.org', 'moderator@example.org', kinds, digest);
    const { pgpMessage } = await encryptAlert(plain, publicKey, Date.now());
    sizes.add(pgpMessage.length);
    const { data } = await openpgp.decrypt({
      message: await openpgp.readMessage({ armoredMessage: pgpMessage }),
      decryptionKeys: await openpgp.readPrivateKey({ armoredKey: privateKey }),
      format: 'binary',
    });
    const inner = Buffer.from(data as Uint8Array).toString('utf8');
    expect(inner.length).toBe(ENCRYPTED_ALERT_BLOCK_BYTES);
    expect(inner.replace(/\r\n/g, '\n')).toContain(plain.text.trimEnd());
  }
  expect([...sizes]).toHaveLength(1);
});
