/**
 * The matching escrow's pure parts (protocol/matching.ts): identifiers normalized from the
 * spellings people really use, the match tag, and the sealed entry that a counselor's browser
 * opens, refusing one that was forged, moved to another tag, or altered.
 *
 * The property tests draw MATCHING_PROPERTY_RUNS cases each (100 by default; run them with
 * MATCHING_PROPERTY_RUNS=5000 after changing a normalizer).
 */
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { fromBase64url, randomId, toBase64url } from '../../protocol';
import {
  checkMatch,
  IdentifierError,
  NOT_PROFILES,
  isMatchTag,
  matchTag,
  normalizeEmail,
  normalizeIdentifier,
  normalizePhone,
  normalizeSocial,
  openMatchEntry,
  oprfInput,
  sameIdentifier,
  sealMatchEntry,
  SOCIAL_NETWORKS,
  TRUNK_ZERO_COUNTRY_CODES,
  type Identifier,
  type SocialNetwork,
  type SealedMatchEntry,
} from '../../protocol/matching';
import { expectProtocolError, flipBit } from './helpers';

const RUNS = { numRuns: Number(process.env.MATCHING_PROPERTY_RUNS) || 100 };

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof IdentifierError) return e.problem;
    throw e;
  }
  throw new Error('expected an IdentifierError');
}

describe('phone numbers to E.164 (+92 for a local number)', () => {
  test.each([
    ['0300-1234567', '+923001234567'],
    ['0300 1234567', '+923001234567'],
    ['03001234567', '+923001234567'],
    ['+92 300 1234567', '+923001234567'],
    ['+92-300-1234567', '+923001234567'],
    ['+92 (0)300 1234567', '+923001234567'],
    ['+92 0300 1234567', '+923001234567'],
    ['0092 300 1234567', '+923001234567'],
    ['923001234567', '+923001234567'],
    ['3001234567', '+923001234567'],
    ['(0300) 123-4567', '+923001234567'],
    ['0300.123.4567', '+923001234567'],
    ['tel:+923001234567', '+923001234567'],
    ['۰۳۰۰۱۲۳۴۵۶۷', '+923001234567'], // Urdu digits
    ['٠٣٠٠١٢٣٤٥٦٧', '+923001234567'], // Arabic-Indic digits
    ['０３００１２３４５６７', '+923001234567'], // full-width digits
    ['  0300\u00a01234567 ', '+923001234567'],
    ['042-35761234', '+924235761234'], // a Lahore landline
    ['+44 20 7946 0958', '+442079460958'],
    ['+1 (415) 555-2671', '+14155552671'],
    ['00971 50 123 4567', '+971501234567'],
  ])('%s → %s', (raw, e164) => {
    expect(normalizePhone(raw)).toBe(e164);
  });

  test.each([
    ['0300-12345ab', 'phone_characters'],
    ['ali 0300', 'phone_characters'],
    ['+92 300 123', 'phone_length'],
    ['+92 300 12345678901', 'phone_length'],
    ['12345', 'phone_country'],
    ['+0300 1234567', 'phone_length'],
    ['', 'phone_characters'],
  ])('%s is refused (%s)', (raw, problem) => {
    expect(problemOf(() => normalizePhone(raw))).toBe(problem);
  });

  test.each([
    ['+971 050 1234567', '+971 50 1234567'],
    ['+44 07911 123456', '+44 7911 123456'],
    ['+44 (0)7911 123456', '+44 7911 123456'],
    ['0044 07911 123456', '+447911123456'],
    ['+966 050 123 4567', '+966 50 123 4567'],
    ['+91 098765 43210', '+91 98765 43210'],
    ['+93 070 123 4567', '+93 70 123 4567'],
    ['+880 01712 345678', '+880 1712 345678'],
    ['+98 0912 345 6789', '+98 912 345 6789'],
    ['+90 0532 123 4567', '+90 532 123 4567'],
    ['+60 012 345 6789', '+60 12 345 6789'],
    ['+61 0412 345 678', '+61 412 345 678'],
    ['+64 021 123 4567', '+64 21 123 4567'],
    ['+49 0151 12345678', '+49 151 12345678'],
    ['+33 06 12 34 56 78', '+33 6 12 34 56 78'],
    ['+353 085 123 4567', '+353 85 123 4567'],
    ['+27 082 123 4567', '+27 82 123 4567'],
    ['+20 010 1234 5678', '+20 10 1234 5678'],
    ['+94 071 234 5678', '+94 71 234 5678'],
    ['+977 0981 234 5678', '+977 981 234 5678'],
    ['+86 0139 1234 5678', '+86 139 1234 5678'],
    ['+62 0812 3456 7890', '+62 812 3456 7890'],
    ['+63 0917 123 4567', '+63 917 123 4567'],
    ['+81 090 1234 5678', '+81 90 1234 5678'],
    ['+82 010 1234 5678', '+82 10 1234 5678'],
    ['+234 0803 123 4567', '+234 803 123 4567'],
    ['+254 0712 345678', '+254 712 345678'],
  ])('the trunk 0 of %s is dropped: the same number as %s', (withZero, without) => {
    expect(normalizePhone(withZero)).toBe(normalizePhone(without));
    expect(normalizePhone(withZero)).toBe('+' + without.replace(/\D/g, ''));
  });

  test('Italy keeps its leading 0, part of the number (+39 06… is a Rome landline, +39 6… another number)', () => {
    expect(normalizePhone('+39 06 1234 5678')).toBe('+390612345678');
    expect(normalizePhone('0039 06 1234 5678')).toBe('+390612345678');
    expect(normalizePhone('+39 06 1234 5678')).not.toBe(normalizePhone('+39 6 1234 5678'));
  });

  test('a trunk 0 after any listed country code is dropped, and normalizing again changes nothing', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TRUNK_ZERO_COUNTRY_CODES),
        fc.stringMatching(/^[1-9]\d{8,9}$/),
        fc.constantFrom('0', '(0)', ' 0', '00'),
        (cc, national, zero) => {
          const once = normalizePhone(`+${cc}${zero}${national}`);
          expect(once).toBe(`+${cc}${national}`);
          expect(normalizePhone(once)).toBe(once);
        },
      ),
      RUNS,
    );
  });

  test('any spacing and punctuation of a local mobile number gives one E.164 form', () => {
    const separators = fc.constantFrom('', ' ', '-', '.', '  ', ' - ');
    fc.assert(
      fc.property(
        fc.stringMatching(/^3\d{9}$/),
        fc.array(separators, { minLength: 11, maxLength: 11 }),
        fc.boolean(),
        (national, seps, international) => {
          const digits = (international ? '+92' : '0') + national;
          const written = [...digits].map((d, i) => d + (seps[i] ?? '')).join('');
          expect(normalizePhone(written)).toBe(`+92${national}`);
        },
      ),
      RUNS,
    );
  });

  test('normalizing is idempotent', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+[1-9]\d{7,14}$/), (e164) => {
        let once: string;
        try {
          once = normalizePhone(e164);
        } catch {
          return; // e.g. a +92 number of the wrong length
        }
        expect(normalizePhone(once)).toBe(once);
      }),
      RUNS,
    );
  });
});

describe('email addresses', () => {
  test.each([
    ['Ali.Khan@Example.COM', 'ali.khan@example.com'],
    ['  ali@example.pk ', 'ali@example.pk'],
    ['mailto:ali@example.com', 'ali@example.com'],
    ['<ali@example.com>', 'ali@example.com'],
    ['ali@example.com.', 'ali@example.com'],
    ['Ali.Khan+work@gmail.com', 'alikhan@gmail.com'],
    ['a.l.i.k.h.a.n@googlemail.com', 'alikhan@gmail.com'],
    ['ali+news@example.com', 'ali+news@example.com'], // other providers: a +tag may be another mailbox
  ])('%s → %s', (raw, normal) => {
    expect(normalizeEmail(raw)).toBe(normal);
  });

  test.each(['ali', 'ali@', '@example.com', 'ali@@example.com', 'ali@example', 'a b@example.com', 'ali@exa mple.com', '+x@gmail.com'])(
    '%s is refused',
    (raw) => {
      expect(problemOf(() => normalizeEmail(raw))).toBe('email_shape');
    },
  );

  test('case never matters', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9._-]{1,20}$/), fc.stringMatching(/^[a-z]{1,10}\.(com|pk|org)$/), (local, domain) => {
        const upper = `${local.toUpperCase()}@${domain.toUpperCase()}`;
        expect(normalizeEmail(upper)).toBe(normalizeEmail(`${local}@${domain}`));
      }),
      RUNS,
    );
  });
});

describe('social-media profiles', () => {
  test.each([
    ['https://www.instagram.com/Ali.Khan/?igshid=MzRlODBiNWFlZA==', undefined, 'instagram:ali.khan'],
    ['instagram.com/ali.khan', undefined, 'instagram:ali.khan'],
    ['@Ali.Khan', 'instagram', 'instagram:ali.khan'],
    ['https://twitter.com/AliKhan?s=20&t=abc', undefined, 'x:alikhan'],
    ['https://x.com/alikhan/status/1234567890', undefined, 'x:alikhan'],
    ['https://mobile.twitter.com/AliKhan', undefined, 'x:alikhan'],
    ['@alikhan', 'x', 'x:alikhan'],
    ['https://m.facebook.com/ali.khan.5?mibextid=ZbWKwL', undefined, 'facebook:alikhan5'],
    ['https://web.facebook.com/alikhan5#', undefined, 'facebook:alikhan5'],
    ['https://www.facebook.com/profile.php?id=100012345678901&ref=share', undefined, 'facebook:id:100012345678901'],
    ['fb.com/Ali.Khan.5', undefined, 'facebook:alikhan5'],
    ['ali.khan.5', 'facebook', 'facebook:alikhan5'],
    ['https://www.tiktok.com/@ali_khan/video/7234567890?lang=en', undefined, 'tiktok:ali_khan'],
    ['https://pk.linkedin.com/in/ali-khan-12345/', undefined, 'linkedin:ali-khan-12345'],
    ['https://www.snapchat.com/add/alikhan?share_id=abc', undefined, 'snapchat:alikhan'],
    ['https://www.youtube.com/@AliKhan', undefined, 'youtube:@alikhan'],
    ['https://www.youtube.com/c/AliKhan/videos', undefined, 'youtube:c/alikhan'],
    ['https://www.youtube.com/user/AliKhan', undefined, 'youtube:user/alikhan'],
    ['https://www.youtube.com/channel/UCabc_123-xyz', undefined, 'youtube:channel/ucabc_123-xyz'],
    ['@AliKhan', 'youtube', 'youtube:@alikhan'],
    ['AliKhan', 'youtube', 'youtube:@alikhan'], // a bare name is the @handle a channel page shows
    ['c/AliKhan', 'youtube', 'youtube:c/alikhan'],
    ['youtube:user/alikhan', 'youtube', 'youtube:user/alikhan'],
    ['https://www.facebook.com/profile/100012345678901', undefined, 'facebook:id:100012345678901'],
    ['https://www.facebook.com/people/Ali-Khan/100012345678901/', undefined, 'facebook:id:100012345678901'],
    ['https://t.me/s/AliKhan', undefined, 'telegram:alikhan'], // the web preview of the channel @alikhan
    ['https://www.tiktok.com/%40ali_khan', undefined, 'tiktok:ali_khan'],
    ['https://www.snapchat.com/@alikhan', undefined, 'snapchat:alikhan'],
    ['https://t.me/AliKhan', undefined, 'telegram:alikhan'],
    ['https://www.threads.net/@ali.khan', undefined, 'threads:ali.khan'],
    ['instagram:ali.khan', 'instagram', 'instagram:ali.khan'],
  ] as const)('%s (%s) → %s', (raw, network, normal) => {
    expect(normalizeSocial(raw, network)).toBe(normal);
  });

  test.each([
    ['https://www.instagram.com/p/Cabc123/', undefined, 'social_not_profile'],
    ['https://www.facebook.com/share/abc/', undefined, 'social_not_profile'],
    // Share links, posts without their author, messages, settings: never read as a handle.
    ['https://www.tiktok.com/t/ZTRabc123/', undefined, 'social_not_profile'],
    ['https://www.tiktok.com/t/ZTRxyz789/', undefined, 'social_not_profile'],
    ['https://vm.tiktok.com/ZMabc123/', undefined, 'social_not_profile'],
    ['https://vt.tiktok.com/ZSabc123/', undefined, 'social_not_profile'],
    ['https://www.tiktok.com/video/7234567890', undefined, 'social_not_profile'],
    ['https://www.facebook.com/profile/', undefined, 'social_not_profile'],
    ['https://www.facebook.com/profile/ali.khan', undefined, 'social_not_profile'],
    ['https://www.facebook.com/profile.php', undefined, 'social_not_profile'],
    ['https://www.facebook.com/permalink.php?story_fbid=123&id=100012345678901', undefined, 'social_not_profile'],
    ['https://www.facebook.com/media/set/?set=a.123', undefined, 'social_not_profile'],
    ['https://www.facebook.com/photo/?fbid=123', undefined, 'social_not_profile'],
    ['https://www.instagram.com/direct/inbox/', undefined, 'social_not_profile'],
    ['https://www.instagram.com/direct/t/1234567890', undefined, 'social_not_profile'],
    ['https://www.instagram.com/accounts/edit/', undefined, 'social_not_profile'],
    ['https://www.instagram.com/stories/ali.khan/123/', undefined, 'social_not_profile'],
    ['https://t.me/c/1234567890/42', undefined, 'social_not_profile'],
    ['https://t.me/s/', undefined, 'social_not_profile'],
    ['https://t.me/+AbCdEfGh123', undefined, 'social_not_profile'],
    ['https://t.me/joinchat/AbCdEf', undefined, 'social_not_profile'],
    ['https://x.com/notifications', undefined, 'social_not_profile'],
    ['https://x.com/settings/account', undefined, 'social_not_profile'],
    ['https://x.com/messages/123-456', undefined, 'social_not_profile'],
    ['https://x.com/i/flow/login', undefined, 'social_not_profile'],
    ['https://twitter.com/compose/tweet', undefined, 'social_not_profile'],
    ['https://www.youtube.com/watch?v=abc123', undefined, 'social_not_profile'],
    ['https://www.youtube.com/c/', undefined, 'social_not_profile'],
    ['https://www.youtube.com/AliKhan', undefined, 'social_not_profile'],
    ['https://www.threads.net/ali.khan', undefined, 'social_not_profile'],
    ['https://www.linkedin.com/feed/', undefined, 'social_not_profile'],
    // A broken %-escape is refused, not thrown as a URIError.
    ['https://www.instagram.com/ali%E0%A4%A', undefined, 'social_not_profile'],
    ['https://t.me/%', undefined, 'social_not_profile'],
    ['https://example.com/alikhan', undefined, 'social_network'],
    ['https://instagram.com/ali', 'x', 'social_network'],
    ['alikhan', undefined, 'social_network'],
    ['Ali Khan', 'instagram', 'social_handle'],
    ['...', 'instagram', 'social_handle'],
  ] as const)('%s (%s) is refused: %s', (raw, network, problem) => {
    expect(problemOf(() => normalizeSocial(raw, network))).toBe(problem);
  });

  test('a refusal names what to paste instead', () => {
    for (const raw of ['https://www.tiktok.com/t/ZTRabc123/', 'https://www.instagram.com/ali%E0%A4%A']) {
      expect(() => normalizeSocial(raw)).toThrow(/paste the profile's address or its handle instead/);
    }
  });

  test('YouTube keeps its @handle, /c/ and /user/ names apart (they may be different channels)', () => {
    const forms = ['https://youtube.com/@john', 'https://youtube.com/c/john', 'https://youtube.com/user/john'].map((u) =>
      normalizeSocial(u),
    );
    expect(new Set(forms).size).toBe(3);
  });

  test('two share links never meet each other', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9]{6,12}$/),
        fc.constantFrom('www.tiktok.com/t/', 'vm.tiktok.com/', 'vt.tiktok.com/'),
        (code, at) => {
          expect(problemOf(() => normalizeSocial(`https://${at}${code}/`))).toBe('social_not_profile');
        },
      ),
      RUNS,
    );
  });

  test('a network page (any reserved first part) is refused on the networks whose profile is the first part', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NOT_PROFILES),
        fc.constantFrom('facebook.com', 'instagram.com', 'x.com', 'twitter.com', 't.me'),
        fc.stringMatching(/^(|\/[a-z][a-z0-9_]{0,10})$/),
        (page, host, tail) => {
          fc.pre(!(host === 't.me' && page === 's' && tail !== '')); // t.me/s/name is the channel @name
          expect(problemOf(() => normalizeSocial(`https://${host}/${page}${tail}`))).toBe('social_not_profile');
        },
      ),
      RUNS,
    );
  });

  test('the normal form of every network and address form is idempotent', () => {
    const forms: Record<SocialNetwork, ((h: string) => string)[]> = {
      facebook: [(h) => `facebook.com/${h}`, (h) => `https://m.facebook.com/${h}?mibextid=x`],
      instagram: [(h) => `https://www.instagram.com/${h}/`],
      x: [(h) => `https://x.com/${h}/status/123`, (h) => `twitter.com/${h}`],
      tiktok: [(h) => `https://www.tiktok.com/@${h}`, (h) => `https://www.tiktok.com/@${h}/video/1`],
      linkedin: [(h) => `https://www.linkedin.com/in/${h}/`],
      snapchat: [(h) => `https://www.snapchat.com/add/${h}`],
      youtube: [
        (h) => `https://www.youtube.com/@${h}`,
        (h) => `https://www.youtube.com/c/${h}`,
        (h) => `https://www.youtube.com/user/${h}`,
      ],
      telegram: [(h) => `https://t.me/${h}`, (h) => `https://t.me/s/${h}`],
      threads: [(h) => `https://www.threads.net/@${h}`],
    };
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][a-z0-9._]{0,19}$/).filter((h) => !NOT_PROFILES.has(h)),
        fc.constantFrom(...SOCIAL_NETWORKS),
        fc.nat(),
        (handle, network, pick) => {
          const form = forms[network][pick % forms[network].length];
          const once = normalizeSocial(form(handle));
          expect(once.startsWith(`${network}:`)).toBe(true);
          expect(normalizeSocial(once, network)).toBe(once);
          expect(normalizeIdentifier('social', once, network).value).toBe(once);
        },
      ),
      RUNS,
    );
  });

  test('any address on a known network is normalized idempotently or refused with an IdentifierError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'facebook.com',
          'instagram.com',
          'x.com',
          'tiktok.com',
          'youtube.com',
          't.me',
          'linkedin.com',
          'snapchat.com',
          'threads.net',
        ),
        fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[%A-Fa-f0-9/@._+?=-]{0,30}$/)),
        (host, path) => {
          let once: string;
          try {
            once = normalizeSocial(`https://${host}/${path}`);
          } catch (e) {
            expect(e).toBeInstanceOf(IdentifierError);
            return;
          }
          expect(normalizeSocial(once, once.split(':')[0] as SocialNetwork)).toBe(once);
        },
      ),
      RUNS,
    );
  });

  test('a profile address and its handle meet, whatever the tracking parameters', () => {
    fc.assert(
      fc.property(
        // A handle that is also one of the network's own pages (instagram.com/p, /i, /tv) is not a profile.
        fc.stringMatching(/^[a-z0-9][a-z0-9_]{0,19}$/).filter((handle) => !NOT_PROFILES.has(handle)),
        fc.constantFrom('', '?igshid=abc', '?utm_source=ig_web_copy_link', '/#', '/?hl=en'),
        fc.constantFrom('https://www.', 'https://', 'http://m.', ''),
        (handle, tail, prefix) => {
          expect(normalizeSocial(`${prefix}instagram.com/${handle.toUpperCase()}${tail}`)).toBe(normalizeSocial(`@${handle}`, 'instagram'));
        },
      ),
      RUNS,
    );
  });
});

describe('match tags', () => {
  test('the tag is 32 bytes of SHA-512 over a domain-separated OPRF output', () => {
    const output = new Uint8Array(64).fill(7);
    const tag = matchTag(output);
    expect(isMatchTag(tag)).toBe(true);
    expect(fromBase64url(tag)).toHaveLength(32);
    expect(matchTag(new Uint8Array(64).fill(8))).not.toBe(tag);
    expectProtocolError(() => matchTag(new Uint8Array(32)), 'bad_oprf_output');
  });

  test('the OPRF input names the type, so a phone and a handle of the same characters differ', () => {
    const a = oprfInput({ type: 'phone', value: '+923001234567' });
    const b = oprfInput({ type: 'social', value: '+923001234567' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });
});

describe('sealed entries: only the counselors and the survivor open them, and a forged one is refused', () => {
  const counselor = nacl.box.keyPair();
  const survivor = nacl.box.keyPair();
  const outsider = nacl.box.keyPair();
  const identifier: Identifier = normalizeIdentifier('phone', '0300-1234567');
  const tag = matchTag(new Uint8Array(64).fill(1));
  const caseId = randomId();
  const seal = (over: Partial<Parameters<typeof sealMatchEntry>[0]> = {}) =>
    sealMatchEntry({ identifier, caseId, tag, keyVersion: 1, recipients: [counselor.publicKey, survivor.publicKey], ...over });

  test('the counselor and the survivor open it; it names the identifier and the case', () => {
    const sealed = seal();
    for (const reader of [counselor, survivor]) {
      const body = openMatchEntry(sealed, reader, { tag, keyVersion: 1 });
      expect(body.identifier).toEqual({ type: 'phone', value: '+923001234567' });
      expect(body.caseId).toBe(caseId);
    }
    expect(JSON.stringify(sealed)).not.toContain('923001234567');
    expectProtocolError(() => openMatchEntry(sealed, outsider, { tag, keyVersion: 1 }), 'not_a_recipient');
  });

  test("an entry written in an older normal form: refused by a counselor, opened in today's form for its survivor", () => {
    for (const [older, today] of [
      [{ type: 'social', value: 'youtube:john' }, 'youtube:@john'],
      [{ type: 'phone', value: '+4407911123456' }, '+447911123456'],
    ] as const) {
      const sealed = seal({ identifier: older });
      expectProtocolError(() => openMatchEntry(sealed, counselor, { tag, keyVersion: 1 }), 'bad_plaintext');
      const mine = openMatchEntry(sealed, survivor, { tag, keyVersion: 1 }, { olderForm: true });
      expect(mine).toMatchObject({ identifier: { type: older.type, value: today }, olderForm: true, caseId });
    }
    // An entry in today's form is not marked, and nothing invalid opens either way.
    expect(openMatchEntry(seal(), survivor, { tag, keyVersion: 1 }, { olderForm: true }).olderForm).toBeUndefined();
    const invalid = seal({ identifier: { type: 'phone', value: '+12' } });
    expectProtocolError(() => openMatchEntry(invalid, survivor, { tag, keyVersion: 1 }, { olderForm: true }), 'bad_plaintext');
  });

  test('an entry moved to another tag or key version is refused', () => {
    const sealed = seal();
    expectProtocolError(
      () => openMatchEntry(sealed, counselor, { tag: matchTag(new Uint8Array(64).fill(2)), keyVersion: 1 }),
      'wrong_context',
    );
    expectProtocolError(() => openMatchEntry(sealed, counselor, { tag, keyVersion: 2 }), 'wrong_context');
  });

  test('an altered ciphertext or wrapped key does not decrypt', () => {
    const sealed = seal();
    const ct = fromBase64url(sealed.ciphertext);
    expectProtocolError(
      () => openMatchEntry({ ...sealed, ciphertext: toBase64url(flipBit(ct, ct.length - 3, 2)) }, counselor, { tag, keyVersion: 1 }),
      'decrypt_failed',
    );
    const keys = sealed.keys.map((k) => ({ ...k, wrapped: toBase64url(flipBit(fromBase64url(k.wrapped), 30, 0)) }));
    expectProtocolError(() => openMatchEntry({ ...sealed, keys }, counselor, { tag, keyVersion: 1 }), 'decrypt_failed');
  });

  test('a malformed entry is refused without throwing anything else', () => {
    const sealed = seal();
    const cases: unknown[] = [
      null,
      { ...sealed, v: 2 },
      { ...sealed, alg: 'none' },
      { ...sealed, keys: 'x' },
      { ...sealed, ciphertext: '!!' },
      { ...sealed, keys: sealed.keys.map((k) => ({ ...k, epk: 'short' })) },
    ];
    for (const bad of cases) {
      const code = (() => {
        try {
          openMatchEntry(bad as SealedMatchEntry, counselor, { tag, keyVersion: 1 });
          return 'opened';
        } catch (e) {
          return (e as { code?: string }).code;
        }
      })();
      expect(['unsupported_version', 'bad_entry', 'decrypt_failed']).toContain(code);
    }
  });

  test('an entry hand-made with an identifier that is not in normal form, or without a case, is refused', () => {
    const loose = seal({ identifier: { type: 'phone', value: '0300-1234567' } });
    expectProtocolError(() => openMatchEntry(loose, counselor, { tag, keyVersion: 1 }), 'bad_plaintext');
    const noCase = seal({ caseId: 'x' });
    expectProtocolError(() => openMatchEntry(noCase, counselor, { tag, keyVersion: 1 }), 'bad_plaintext');
    const badSocial = seal({ identifier: { type: 'social', value: 'myspace:ali' } });
    expectProtocolError(() => openMatchEntry(badSocial, counselor, { tag, keyVersion: 1 }), 'bad_plaintext');
  });

  test('entries of two handles that name one case count as one survivor: a replay makes no match, and hides none', () => {
    const genuine = seal();
    const other = seal({ caseId: randomId(), identifier: normalizeIdentifier('phone', '+92 300 1234567') });
    // Two survivors, two cases: a match.
    expect(
      checkMatch(
        tag,
        1,
        [
          { handle: 'alpha', sealed: genuine },
          { handle: 'bravo', sealed: other },
        ],
        counselor,
      ),
    ).toMatchObject({
      isMatch: true,
      forged: false,
    });
    // The server lists alpha's entry again as bravo's (identical, or sealed to the same case again by alpha and moved).
    for (const replay of [genuine, seal()]) {
      const check = checkMatch(
        tag,
        1,
        [
          { handle: 'alpha', sealed: genuine },
          { handle: 'bravo', sealed: replay },
        ],
        counselor,
      );
      expect(check.isMatch).toBe(false);
      expect(check.forged).toBe(true);
      expect(check.confirmed).toEqual([]);
      expect(check.refused.map((r) => r.index)).toEqual([0, 1]);
      expect(check.refused[0].reason).toMatch(/^one survivor: .*bravo.*count once/);
      expect(check.refused[1].reason).toMatch(/^one survivor: .*alpha/);
    }
    // A replay (or one person naming her own case from a second account) does not hide the
    // genuine match of two other survivors: the two handles of case 1 count once.
    const three = checkMatch(
      tag,
      1,
      [
        { handle: 'alpha', sealed: genuine },
        { handle: 'bravo', sealed: other },
        { handle: 'charlie', sealed: genuine },
      ],
      counselor,
    );
    expect(three).toMatchObject({ isMatch: true, survivors: 2, forged: true, refused: [] });
    expect(three.confirmed.map((c) => c.index)).toEqual([0, 1, 2]);
    // Two handles naming one case, and nobody else: still no match.
    const alone = checkMatch(
      tag,
      1,
      [
        { handle: 'alpha', sealed: genuine },
        { handle: 'charlie', sealed: genuine },
        { handle: 'delta', sealed: seal() },
      ],
      counselor,
    );
    expect(alone).toMatchObject({ isMatch: false, survivors: 0, forged: true, confirmed: [] });
    // One survivor naming the same case twice under her own handle is no match, and no forgery.
    expect(
      checkMatch(
        tag,
        1,
        [
          { handle: 'alpha', sealed: genuine },
          { handle: 'alpha', sealed: seal() },
        ],
        counselor,
      ),
    ).toMatchObject({
      isMatch: false,
      forged: false,
    });
  });

  test('sameIdentifier compares normal forms', () => {
    const a = openMatchEntry(seal(), counselor, { tag, keyVersion: 1 });
    const b = openMatchEntry(seal({ identifier: normalizeIdentifier('phone', '+92 300 1234567') }), counselor, { tag, keyVersion: 1 });
    const c = openMatchEntry(seal({ identifier: normalizeIdentifier('phone', '0300 7654321') }), counselor, { tag, keyVersion: 1 });
    expect(sameIdentifier(a, b)).toBe(true);
    expect(sameIdentifier(a, c)).toBe(false);
  });
});
