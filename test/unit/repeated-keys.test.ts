/**
 * The repeated-key check of request bodies (server/http/repeated-keys.ts): no body JSON.stringify
 * writes is refused, however its strings are escaped; a key given twice in one object is found
 * wherever it sits, and named by its path.
 */
import fc from 'fast-check';
import { findRepeatedKey, repeatedKeyProblem } from '../../server/http/repeated-keys';

const problem = (text: string) => repeatedKeyProblem(Buffer.from(text), JSON.parse(text));

test('a body JSON.stringify wrote never has a repeated key, with or without spaces', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.boolean(), (value, spaced) => {
      const text = JSON.stringify({ value }, null, spaced ? 2 : undefined);
      expect(findRepeatedKey(Buffer.from(text))).toBeUndefined();
      expect(problem(text)).toBeUndefined();
    }),
  );
});

test('a key given twice in an object, at any depth, is found and its path named', () => {
  const key = fc.constantFrom('a', 'closedCaseDays', 'x_1', '"', '\\', 'é', '<b>');
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
      key,
      fc.jsonValue(),
      fc.jsonValue(),
      fc.array(fc.constantFrom('outer', 0), { maxLength: 3 }),
      (others, k, first, second, wrappers) => {
        const rest = Object.entries(others).filter(([name]) => name !== k);
        const members = [[k, first], ...rest, [k, second]].map(([name, v]) => `${JSON.stringify(name)}:${JSON.stringify(v)}`);
        let text = `{${members.join(',')}}`;
        for (const w of [...wrappers].reverse()) text = w === 0 ? `[${text}]` : `{"${w}":${text}}`;
        if (wrappers[0] === 0) text = `{"body":${text}}`;
        const path = [...(wrappers[0] === 0 ? ['body'] : []), ...wrappers, k];
        expect(findRepeatedKey(Buffer.from(text))).toEqual(path);
        expect(problem(text)).toContain('twice');
      },
    ),
  );
});

test.each([
  ['an escaped spelling of the same key', '{"a":1,"\\u0061":2}', 'body has the key a twice'],
  ['after a string holding escaped quotes and backslashes', '{"q":"\\\\\\"}{\\\\","q":1}', 'body has the key q twice'],
  ['in the second of two objects side by side', '{"keys":[{"kid":1},{"kid":2,"kid":3}]}', 'keys[1] has the key kid twice'],
  ['a key that is not a field name', '{"<b>":1,"<b>":2}', 'body has a key twice'],
])('%s', (_label, text, message) => {
  expect(problem(text)).toContain(message);
});

test.each([
  ['the same keys in objects side by side', '{"keys":[{"kid":1,"epk":2},{"kid":3,"epk":4}]}'],
  ['the same key at two depths', '{"a":{"a":{"a":1}}}'],
  ['a key that only differs by case', '{"a":1,"A":2}'],
  ['a string value equal to a key', '{"a":"a","b":"a"}'],
  ['escaped quotes in a value', '{"a":"\\"a\\":1","b":1}'],
])('no repeated key: %s', (_label, text) => {
  expect(findRepeatedKey(Buffer.from(text))).toBeUndefined();
  expect(problem(text)).toBeUndefined();
});
