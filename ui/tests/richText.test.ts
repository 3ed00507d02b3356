import { describe, expect, it } from 'vitest';
import { plainText, richText } from '../src/lib/richText';

describe('descriptions', () => {
  it('turn backticks into code spans and newlines into breaks', () => {
    expect(richText('follows `when: "true"` edges\nelse <b>false</b>')).toEqual([
      { kind: 'text', text: 'follows ' },
      { kind: 'code', text: 'when: "true"' },
      { kind: 'text', text: ' edges' },
      { kind: 'break' },
      { kind: 'text', text: 'else <b>false</b>' },
    ]);
  });

  it('keep an unmatched backtick as text', () => {
    expect(plainText('a ` b')).toBe('a ` b');
    expect(plainText('use `x` here')).toBe('use x here');
  });
});
