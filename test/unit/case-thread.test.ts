/**
 * client/lib/case-thread.ts openThread: entries opened through the crypto provider (Node's
 * WebCrypto here), newest first in slices, returned in thread order; a thread whose order or
 * signatures were tampered with is refused as before (verifyThread, then each signature).
 * Shown newest first (`onShown`): each slice is handed over only once it and the run up to
 * the newest entry are checked, and a later failure hands over nothing more. A re-open and
 * a reply verify only what is new, and the reader's private key is imported once, not once
 * an envelope (counted on Node's WebCrypto, which still does the work).
 */
import nacl from 'tweetnacl';
import {
  cryptoProvider,
  envelopeHash,
  sealEnvelope,
  signKeyset,
  toBase64url,
  verifyKeysetHistory,
  type Envelope,
  type Keyset,
  type VerifiedHistory,
} from '../../protocol';
import type { EnvelopeItem } from '../../protocol/api';

/**
 * The module's functions, loaded by path: the module imports DOM helpers, which the tests'
 * type check (no DOM library) must not follow; these functions touch no DOM.
 */
interface CaseThread {
  openThread: (
    caseId: string,
    items: EnvelopeItem[],
    reader: { box: nacl.BoxKeyPair },
    trust: { survivorSignPk: string; history: VerifiedHistory; unreadableAlone?: boolean },
    onShown?: (entries: Record<string, unknown>[], from: number) => void,
  ) => Promise<Record<string, unknown>[]>;
  sealMessage: (input: {
    caseId: string;
    thread: EnvelopeItem[];
    text: string;
    survivorBoxPk: string;
    keyset: Keyset;
    signer: nacl.SignKeyPair;
  }) => Promise<Envelope>;
}
const { openThread, sealMessage } = jest.requireActual<CaseThread>('../../client/lib/case-thread');

const survivor = { sign: nacl.sign.keyPair(), box: nacl.box.keyPair() };
const moderator = { sign: nacl.sign.keyPair(), box: nacl.box.keyPair() };
const keyset: Keyset = {
  v: 1,
  instanceId: 'unit',
  version: 1,
  prev: null,
  issuedDay: '2026-11-30',
  members: [
    {
      staffId: 's1',
      username: 'mod.one',
      roles: ['moderator'],
      boxPk: toBase64url(moderator.box.publicKey),
      signPk: toBase64url(moderator.sign.publicKey),
    },
  ],
};
const history = verifyKeysetHistory([signKeyset(keyset, nacl.sign.keyPair())], { instanceId: 'unit' });
const caseId = 'case-1';
const item = (envelope: Envelope, seq: number): EnvelopeItem => ({
  id: seq + 1,
  seq,
  day: '2026-11-30',
  fromStaff: false,
  envelope,
  grants: [],
});

/** A thread of `n` messages after the testimony, alternately from the survivor and the moderator. */
function thread(n: number): EnvelopeItem[] {
  const items = [
    item(
      sealEnvelope({
        kind: 'testimony',
        caseId,
        body: { testimony: { what: 'what happened', when: '', context: 'workplace', wantsReplies: true } },
        recipients: [survivor.box.publicKey, moderator.box.publicKey],
        signer: survivor.sign,
      }),
      0,
    ),
  ];
  for (let i = 1; i <= n; i++) {
    const envelope = sealEnvelope({
      kind: 'message',
      caseId,
      prev: envelopeHash(items[i - 1].envelope),
      body: { text: `message ${i}` },
      recipients: [survivor.box.publicKey, moderator.box.publicKey],
      signer: i % 2 ? moderator.sign : survivor.sign,
    });
    items.push(item(envelope, i));
  }
  return items;
}

const trust = { survivorSignPk: toBase64url(survivor.sign.publicKey), history };

describe('openThread', () => {
  const items = thread(70); // more than two slices

  it('opens every entry, in thread order, with who wrote it', async () => {
    const entries = await openThread(caseId, items, { box: moderator.box }, trust);
    expect(entries).toHaveLength(71);
    expect(entries[0].kind).toBe('testimony');
    entries.slice(1).forEach((e, i) => {
      expect(e).toMatchObject({ kind: 'message', seq: i + 1, text: `message ${i + 1}`, fromStaff: (i + 1) % 2 === 1 });
    });
    // Opened again (its signatures remembered): the same entries.
    expect(await openThread(caseId, items, { box: survivor.box }, trust)).toEqual(entries);
  });

  it('refuses a reordered thread, and one with an altered signature, even after opening it once', async () => {
    const swapped = [...items];
    [swapped[10], swapped[11]] = [swapped[11], swapped[10]];
    await expect(openThread(caseId, swapped, { box: moderator.box }, trust)).rejects.toThrow(/does not follow/);
    const sig = items[40].envelope.sig;
    const forged = items.map((i, k) =>
      k === 40 ? { ...i, envelope: { ...i.envelope, sig: (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) } } : i,
    );
    await expect(openThread(caseId, forged, { box: moderator.box }, trust)).rejects.toThrow(/signature/);
  });

  it('a message whose manifest is not one fails the thread, or only itself with unreadableAlone', async () => {
    const short = thread(2);
    const odd = sealEnvelope({
      kind: 'message',
      caseId,
      prev: envelopeHash(short[2].envelope),
      body: { text: 'hi', attachments: 'x' },
      recipients: [survivor.box.publicKey, moderator.box.publicKey],
      signer: moderator.sign,
    });
    const withOdd = [...short, item(odd, 3)];
    await expect(openThread(caseId, withOdd, { box: survivor.box }, trust)).rejects.toThrow();
    const entries = await openThread(caseId, withOdd, { box: survivor.box }, { ...trust, unreadableAlone: true });
    expect(entries.map((e) => (e.kind === 'message' ? [e.text, e.unreadable !== undefined] : e.kind))).toEqual([
      'testimony',
      ['message 1', false],
      ['message 2', false],
      ['hi', true],
    ]);
  });

  it('a reply seals after the newest entry, and opens with the rest', async () => {
    const reply = await sealMessage({
      caseId,
      thread: items,
      text: 'a reply',
      survivorBoxPk: toBase64url(survivor.box.publicKey),
      keyset,
      signer: moderator.sign,
    });
    const entries = await openThread(caseId, [...items, item(reply, 71)], { box: survivor.box }, trust);
    expect(entries[71]).toMatchObject({ kind: 'message', text: 'a reply', fromStaff: true, author: 'mod.one' });
  });

  describe('newest first (onShown)', () => {
    /** What onShown was given, call by call: the index of the first entry and the seqs. */
    async function shown(thread: EnvelopeItem[]): Promise<{ calls: { from: number; seqs: unknown[] }[]; error?: Error }> {
      const calls: { from: number; seqs: unknown[] }[] = [];
      try {
        await openThread(caseId, thread, { box: moderator.box }, trust, (entries, from) =>
          calls.push({ from, seqs: entries.map((e) => e.seq) }),
        );
        return { calls };
      } catch (e) {
        return { calls, error: e as Error };
      }
    }
    const seqs = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

    it('hands over the newest slice first, then each older one, ending with the testimony', async () => {
      const { calls, error } = await shown(items);
      expect(error).toBeUndefined();
      expect(calls).toEqual([
        { from: 39, seqs: seqs(39, 71) },
        { from: 7, seqs: seqs(7, 39) },
        { from: 0, seqs: seqs(0, 7) },
      ]);
    });

    it('an older message out of order: nothing is shown, since every link is checked before the first slice', async () => {
      const swapped = [...items];
      [swapped[10], swapped[11]] = [swapped[11], swapped[10]];
      const { calls, error } = await shown(swapped);
      expect(error?.message).toMatch(/does not follow/);
      expect(calls).toEqual([]);
    });

    it('a message dropped where two slices meet: nothing is shown', async () => {
      // Entry 39 would be the oldest of the newest slice.
      const spliced = items.filter((_, k) => k !== 38);
      const { calls, error } = await shown(spliced);
      expect(error?.message).toMatch(/does not follow/);
      expect(calls).toEqual([]);
    });

    it('an older message with a forged signature: the newest slice is shown, the forged one never is, and the run fails', async () => {
      // The links do not cover signatures, so only opening entry 10 finds it.
      const sig = items[10].envelope.sig;
      const forged = items.map((i, k) =>
        k === 10 ? { ...i, envelope: { ...i.envelope, sig: (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) } } : i,
      );
      const { calls, error } = await shown(forged);
      expect(error?.message).toMatch(/signature/);
      expect(calls).toEqual([
        { from: 39, seqs: seqs(39, 71) },
        // entry 10 is in the slice from 7: never handed over
      ]);
    });

    it('a server that swaps the survivor key and appends messages signed with its own: nothing is shown', async () => {
      // Its messages link on from the genuine newest entry and fill the newest slice; only the
      // testimony, signed with the genuine key, can tell that the key is not this case's.
      const impostor = nacl.sign.keyPair();
      const appended = [...items];
      for (let i = 71; i < 71 + 40; i++)
        appended.push(
          item(
            sealEnvelope({
              kind: 'message',
              caseId,
              prev: envelopeHash(appended[i - 1].envelope),
              body: { text: `forged ${i}` },
              recipients: [survivor.box.publicKey, moderator.box.publicKey],
              signer: impostor,
            }),
            i,
          ),
        );
      const calls: number[] = [];
      const swappedKey = { ...trust, survivorSignPk: toBase64url(impostor.publicKey) };
      await expect(openThread(caseId, appended, { box: moderator.box }, swappedKey, (_e, from) => calls.push(from))).rejects.toThrow(
        /trust|signature/,
      );
      expect(calls).toEqual([]);
      // With the genuine key, the appended messages fail in the newest slice, before it is shown.
      const withGenuine = await shown(appended);
      expect(withGenuine.error).toBeDefined();
      expect(withGenuine.calls).toEqual([]);
    });

    it('an empty thread is refused, with or without onShown', async () => {
      await expect(openThread(caseId, [], { box: moderator.box }, trust)).rejects.toThrow(/testimony/);
      expect((await shown([])).error?.message).toMatch(/testimony/);
    });

    it('a forged newest message: nothing is shown', async () => {
      const last = items[70];
      const forged = [...items.slice(0, 70), { ...last, envelope: { ...last.envelope, sig: items[69].envelope.sig } }];
      const { calls, error } = await shown(forged);
      expect(error?.message).toMatch(/signature/);
      expect(calls).toEqual([]);
    });

    it('a message from another case is refused in its own slice', async () => {
      const moved = [...items.slice(0, 50), { ...items[50], envelope: { ...items[50].envelope, caseId: 'case-2' } }, ...items.slice(51)];
      const { calls, error } = await shown(moved);
      expect(error).toBeDefined();
      expect(calls).toEqual([]);
    });
  });

  it('a re-open verifies nothing again, a reply only itself, and the reader key is imported once', async () => {
    const fresh = thread(40);
    await cryptoProvider(); // detected (its self-test verifies too) before counting
    const subtle = globalThis.crypto.subtle;
    const verify = jest.spyOn(subtle, 'verify');
    const importKey = jest.spyOn(subtle, 'importKey');
    const privateImports = () => importKey.mock.calls.filter(([format]) => format === 'pkcs8').length;
    try {
      const entries = await openThread(caseId, fresh, { box: moderator.box }, trust);
      expect(verify).toHaveBeenCalledTimes(41);
      expect(privateImports()).toBeLessThanOrEqual(1); // not one an envelope
      verify.mockClear();
      importKey.mockClear();
      expect(await openThread(caseId, fresh, { box: moderator.box }, trust)).toEqual(entries);
      expect(verify).not.toHaveBeenCalled();
      expect(privateImports()).toBe(0);

      const reply = await sealMessage({
        caseId,
        thread: fresh,
        text: 'a reply',
        survivorBoxPk: toBase64url(survivor.box.publicKey),
        keyset,
        signer: moderator.sign,
      });
      verify.mockClear();
      const after = await openThread(caseId, [...fresh, item(reply, 41)], { box: moderator.box }, trust);
      expect(after[41]).toMatchObject({ text: 'a reply' });
      expect(verify).toHaveBeenCalledTimes(1);
    } finally {
      verify.mockRestore();
      importKey.mockRestore();
    }
  });
});
