/**
 * TOTP secrets at rest (server/crypto/totp-sealing.ts) and their key files (server/config.ts
 * loadTotpKeys): AES-256-GCM with the member and slot as associated data, a format and key id
 * in the stored form, any change to the stored value refused, and key files made and checked
 * like the address key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { ConfigError, loadConfig, loadTotpKeys } from '../../server/config';
import { totpSealer, TotpKeyMissing } from '../../server/crypto/totp-sealing';

const key = () => crypto.randomBytes(32).toString('base64url');
const secret = new Uint8Array(crypto.randomBytes(20));

describe('sealing a TOTP secret', () => {
  const current = key();
  const sealer = totpSealer({ current });

  test('opens back to the same bytes, for the same member and slot only', () => {
    const stored = sealer.seal(secret, 'member-a', 'secret');
    expect(stored).toMatch(/^t1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sealer.open(stored, 'member-a', 'secret'))).toEqual(Buffer.from(secret));
    expect(() => sealer.open(stored, 'member-b', 'secret')).toThrow();
    expect(() => sealer.open(stored, 'member-a', 'pending')).toThrow();
    // A fresh nonce each time: the same secret never has the same stored form twice.
    expect(sealer.seal(secret, 'member-a', 'secret')).not.toBe(stored);
    expect(sealer.isCurrent(stored)).toBe(true);
  });

  test('any changed character of the ciphertext, a cut one, or a plaintext value is refused', () => {
    const stored = sealer.seal(secret, 'member-a', 'secret');
    const body = stored.split('.')[2];
    const flipped = body.slice(0, 10) + (body[10] === 'A' ? 'B' : 'A') + body.slice(11);
    expect(() => sealer.open(`t1.${stored.split('.')[1]}.${flipped}`, 'member-a', 'secret')).toThrow();
    expect(() => sealer.open(stored.slice(0, -4), 'member-a', 'secret')).toThrow();
    expect(() => sealer.open(Buffer.from(secret).toString('base64url'), 'member-a', 'secret')).toThrow(/sealed form/);
  });

  test('a rotation: the previous key still opens, the current one seals; an unknown key is named as missing', () => {
    const oldKey = key();
    const stored = totpSealer({ current: oldKey }).seal(secret, 'member-a', 'secret');
    const rotated = totpSealer({ current, previous: oldKey });
    expect(Buffer.from(rotated.open(stored, 'member-a', 'secret'))).toEqual(Buffer.from(secret));
    expect(rotated.isCurrent(stored)).toBe(false);
    expect(rotated.isCurrent(rotated.seal(secret, 'member-a', 'secret'))).toBe(true);
    expect(() => sealer.open(stored, 'member-a', 'secret')).toThrow(TotpKeyMissing);
  });
});

describe('the TOTP key files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awaaz-totp-key-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the key is made at first start (mode 0600) and read back; a previous key file must already exist', () => {
    const config = loadConfig({ DATA_DIR: dir });
    expect(config.totpKeyFile).toBe(path.join(dir, 'totp.key'));
    const { current, previous } = loadTotpKeys(config);
    expect(previous).toBeUndefined();
    expect(loadTotpKeys(config).current).toBe(current);
    if (process.platform !== 'win32') expect(fs.statSync(config.totpKeyFile).mode & 0o777).toBe(0o600);
    const missing = path.join(dir, 'old.key');
    expect(() => loadTotpKeys(loadConfig({ DATA_DIR: dir, TOTP_PREVIOUS_KEY_FILE: missing }))).toThrow(
      `TOTP_PREVIOUS_KEY_FILE: ${missing} does not exist`,
    );
    expect(fs.existsSync(missing)).toBe(false);
  });

  test('a key file others may read, or that is not a key, stops the start with a message naming it', () => {
    const file = path.join(dir, 'totp.key');
    fs.writeFileSync(file, 'not a key\n', { mode: 0o600 });
    expect(() => loadTotpKeys(loadConfig({ DATA_DIR: dir }))).toThrow(`TOTP_KEY_FILE: ${file} is not a TOTP key`);
    if (process.platform !== 'win32') {
      fs.writeFileSync(file, `${key()}\n`, { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      expect(() => loadTotpKeys(loadConfig({ DATA_DIR: dir }))).toThrow(ConfigError);
      expect(() => loadTotpKeys(loadConfig({ DATA_DIR: dir }))).toThrow(`TOTP_KEY_FILE: ${file} is open to group or others (mode 0644)`);
    }
  });
});
