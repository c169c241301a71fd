/**
 * The pin and the fingerprint link (protocol/pin.ts): what a first visit through the
 * organisation's link remembers, what a conflicting link does to an existing pin, and how a
 * verified keyset chain updates it. client/lib/pin-store.ts only adds localStorage and
 * location around these; test/e2e/keyset-trust.e2e.test.ts drives them in Chromium.
 */
import nacl from 'tweetnacl';
import { fingerprint, fingerprintLink } from '../../protocol';
import { fingerprintInFragment, normalizeFingerprint, parsePin, pinAfterLink, pinAfterVerified, type Pin } from '../../protocol/pin';

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
    expect(normalizeFingerprint(fp)).toBe(fp);
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

  test('a malformed link is a conflict too, and the right link afterwards still pins', () => {
    expect(pinAfterLink(firstUse, '')).toEqual({ ...firstUse, conflict: '' });
    const bad = pinAfterLink(undefined, '');
    expect(bad.conflict).toBe('');
    expect(pinAfterLink(bad, fp)).toEqual({ fingerprint: fp, version: 0, fromLink: true });
  });

  test('a verified chain records the instance and the highest version, and keeps a link origin', () => {
    expect(pinAfterVerified(undefined, 'inst', fp, 2)).toEqual({ fingerprint: fp, instanceId: 'inst', version: 2 });
    expect(pinAfterVerified({ fingerprint: fp, version: 0, fromLink: true }, 'inst', fp, 2)).toEqual({
      fingerprint: fp,
      instanceId: 'inst',
      version: 2,
      fromLink: true,
    });
    expect(pinAfterVerified(firstUse, 'inst', fp, 1).version).toBe(3);
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
