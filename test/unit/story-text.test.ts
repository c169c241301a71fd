/** storyControlCharacter (protocol/story-text.ts): what the API and the staff page refuse in a public story. */
import { storyControlCharacter } from '../../protocol/story-text';

test('every C0 control character but tab and line feed is found, with its code point and position', () => {
  for (let code = 0; code < 0x20; code++) {
    const found = storyControlCharacter(`ab${String.fromCharCode(code)}c`);
    if (code === 0x09 || code === 0x0a) expect(found).toBeUndefined();
    else expect(found).toEqual({ codePoint: `U+${code.toString(16).toUpperCase().padStart(4, '0')}`, position: 3 });
  }
});

test('the first one is named; ordinary text, Urdu, emoji and DEL pass', () => {
  expect(storyControlCharacter('x\u001Fy\u0000')).toEqual({ codePoint: 'U+001F', position: 2 });
  expect(storyControlCharacter('میں نے شکایت کی۔\n\n\tIt happened 😀 at work.\u007F')).toBeUndefined();
});
