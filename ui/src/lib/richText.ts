// Descriptions from node-type schemas use a little Markdown (`code` spans, line
// breaks). They are shown as text segments, never as HTML, so nothing in a
// description can inject markup.

export type Segment = { kind: 'text' | 'code'; text: string } | { kind: 'break' };

/** Split a description into plain text, `code` spans and line breaks. */
export function richText(source: string): Segment[] {
  const segments: Segment[] = [];
  const lines = source.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (index > 0) segments.push({ kind: 'break' });
    const parts = line.split('`');
    // An unmatched backtick is kept as a literal character.
    const balanced = parts.length % 2 === 1;
    parts.forEach((part, at) => {
      if (part === '') return;
      if (balanced && at % 2 === 1) segments.push({ kind: 'code', text: part });
      else segments.push({ kind: 'text', text: balanced ? part : (at > 0 ? '`' : '') + part });
    });
  });
  return segments;
}

/** The same description as plain text (for `title` attributes). */
export function plainText(source: string): string {
  return richText(source)
    .map((segment) => (segment.kind === 'break' ? ' ' : segment.text))
    .join('');
}
