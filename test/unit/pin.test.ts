/**
 * The pin and the fingerprint link (protocol/pin.ts): what a first visit through the
 * organisation's link remembers, what a conflicting link does to an existing pin, and how a
 * verified keyset chain updates it. client/lib/pin-store.ts only adds localStorage and
 * location around these; test/e2e/keyset-trust.e2e.test.ts drives them in Chromium.
 */
import nacl from 'tweetnacl';
import { fingerprint, fingerprintLink } from '../../protocol';
import { fingerprintInFragment, parsePin, pinAfterLink, pinAfterVerified, type Pin } from '../../protocol/pin';

const fp = fingerprint(nacl.sign.keyPair().publicKey);
const other = fingerprint(nacl.sign.keyPair().publicKey);
const hex = fp.replace(/ /g, '');

describe('the fingerprint in a link', () => {
  test('the published link carries the fingerprint without spaces in the fragment, and reads back as the fingerprint', () => {
    const link = fingerprintLink('https://awaaz.example.org/', fp);
    expect(link).toBe(`https://awaaz.example.org/#fp=${hex}`);
    expect(new URL(link).pathname).toBe('/');
    expect(fingerprintInFragment(new URL(link).hash)).toBe(fp);
  });

  test('spaces, lower case and other fragment parameters are accepted', () => {
    expect(fingerprintInFragment(`#fp=${hex.toLowerCase()}`)).toBe(fp);
    expect(fingerprintInFragment(`#fp=${fp.replace(/ /g, '%20')}`)).toBe(fp);
    expect(fingerprintInFragment(`#lang=ur&fp=${hex}`)).toBe(fp);
    expect(fingerprintInFragment(`#fp=${fp}`)).toBe(fp);
    expect(fingerprintInFragment(`#fp=${hex.replace(/(.{4})/g, '$1:')}`)).toBe(fp);
  });

  test('the link can name the lowest keyset version to accept; links without one (or a damaged one) name none', () => {
    const link = fingerprintLink('https://awaaz.example.org', fp, 7);
    expect(link).toBe(`https://awaaz.example.org/#fp=${hex}&v=7`);
    const { hash } = new URL(link);
    expect(fingerprintInFragment(hash)).toBe(fp);
    expect(pinAfterLink(undefined, fp, hash)).toEqual({ fingerprint: fp, version: 7, fromLink: true });
    expect(pinAfterLink(undefined, fp, `#v=12&fp=${hex}`).version).toBe(12);
    expect(fingerprintLink('https://awaaz.example.org/', fp, 1)).toBe(`https://awaaz.example.org/#fp=${hex}`);
    for (const old of [`#fp=${hex}`, '', `#fp=${hex}&v=`, `#fp=${hex}&v=x1`, `#fp=${hex}&v=1x`, `#fp=${hex}&lv=4`])
      expect(pinAfterLink(undefined, fp, old).version).toBe(0);
  });

  test('a fragment without fp names none; a truncated or altered value is not a fingerprint', () => {
    expect(fingerprintInFragment('')).toBeUndefined();
    expect(fingerprintInFragment('#main')).toBeUndefined();
    expect(fingerprintInFragment(`#fp=${hex.slice(0, 39)}`)).toBe('');
    expect(fingerprintInFragment(`#fp=${hex}0`)).toBe('');
    expect(fingerprintInFragment(`#fp=${hex.slice(0, 39)}G`)).toBe('');
    expect(fingerprintInFragment('#fp=')).toBe('');
  });
});

describe('the pin', () => {
  const firstUse: Pin = { fingerprint: fp, instanceId: 'inst', version: 3 };

  test('a first visit through a link pins its fingerprint before any keyset is seen', () => {
    expect(pinAfterLink(undefined, fp)).toEqual({ fingerprint: fp, version: 0, fromLink: true });
  });

  test('a link agreeing with the pin confirms it and clears an earlier conflict', () => {
    expect(pinAfterLink(firstUse, fp)).toEqual({ ...firstUse, fromLink: true });
    expect(pinAfterLink({ ...firstUse, conflict: other }, fp)).toEqual({ ...firstUse, fromLink: true });
  });

  test('a link differing from the pin keeps the pin and records the conflict', () => {
    expect(pinAfterLink(firstUse, other)).toEqual({ ...firstUse, conflict: other });
    expect(pinAfterLink({ ...firstUse, fromLink: true }, other)).toEqual({ ...firstUse, fromLink: true, conflict: other });
  });

  test('a link naming a version pins it as the lowest to accept; an older pin is raised to it (its hash learned again), never lowered', () => {
    const v = (n: number) => `#fp=${hex}&v=${n}`;
    expect(pinAfterLink(undefined, fp, v(5))).toEqual({ fingerprint: fp, version: 5, fromLink: true });
    const hashed: Pin = { ...firstUse, keysetHash: 'h3' };
    expect(pinAfterLink(hashed, fp, v(5))).toEqual({ fingerprint: fp, instanceId: 'inst', version: 5, fromLink: true });
    expect(pinAfterLink(hashed, fp, v(2))).toEqual({ ...hashed, fromLink: true });
    expect(pinAfterLink(hashed, fp, v(3))).toEqual({ ...hashed, fromLink: true });
    // A conflicting link changes nothing but the conflict, whatever version it names.
    expect(pinAfterLink(hashed, other, v(9))).toEqual({ ...hashed, conflict: other });
  });

  test('a malformed link is a conflict too, and the right link afterwards still pins', () => {
    expect(pinAfterLink(firstUse, '')).toEqual({ ...firstUse, conflict: '' });
    const bad = pinAfterLink(undefined, '');
    expect(bad.conflict).toBe('');
    expect(pinAfterLink(bad, fp)).toEqual({ fingerprint: fp, version: 0, fromLink: true });
  });

  test("a verified chain records the instance, the highest version and that keyset's hash, and keeps a link origin", () => {
    expect(pinAfterVerified(undefined, 'inst', fp, 2, 'h2')).toEqual({ fingerprint: fp, instanceId: 'inst', version: 2, keysetHash: 'h2' });
    expect(pinAfterVerified({ fingerprint: fp, version: 0, fromLink: true }, 'inst', fp, 2, 'h2')).toEqual({
      fingerprint: fp,
      instanceId: 'inst',
      version: 2,
      keysetHash: 'h2',
      fromLink: true,
    });
    // A newer chain replaces the version and the hash (an older one never gets here: verifyKeysetHistory refuses it).
    expect(pinAfterVerified({ ...firstUse, keysetHash: 'h3' }, 'inst', fp, 4, 'h4')).toEqual({ ...firstUse, version: 4, keysetHash: 'h4' });
  });

  test('a pin written before hashes (version only) gains the hash on the next good visit', () => {
    const old = parsePin(JSON.stringify({ fingerprint: fp, instanceId: 'inst', version: 3 }));
    expect(old?.keysetHash).toBeUndefined();
    expect(pinAfterVerified(old, 'inst', fp, 3, 'h3')).toEqual({ ...firstUse, keysetHash: 'h3' });
    expect(pinAfterVerified(old, 'inst', fp, 4, 'h4')).toEqual({ ...firstUse, version: 4, keysetHash: 'h4' });
  });

  test('stored pins read back, including those written before links existed; anything else is no pin', () => {
    const stored = { ...firstUse, fromLink: true as const, conflict: other };
    expect(parsePin(JSON.stringify(stored))).toEqual(stored);
    expect(parsePin(JSON.stringify({ instanceId: 'inst', fingerprint: fp, version: 2 }))).toEqual({
      instanceId: 'inst',
      fingerprint: fp,
      version: 2,
    });
    for (const junk of [
      null,
      '',
      'not json',
      'null',
      '42',
      '{}',
      JSON.stringify({ fingerprint: 5, version: 1 }),
      JSON.stringify({ fingerprint: fp }),
    ])
      expect(parsePin(junk)).toBeUndefined();
  });
});
