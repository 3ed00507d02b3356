// Which JMESPath expressions of a step the node panel previews, and how an
// error's position is shown.

export interface PreviewedExpression {
  /** What the expression is, for the label ("expression", "url", "body/total"). */
  label: string;
  expression: string;
}

const PLACEHOLDER = /\{\{\s*input(?:\.(.+?))?\s*\}\}/gs;
const TEMPLATED = ['url', 'headers', 'query', 'body'] as const;
const MAX = 12;

/** The expressions a step of `type` with `config` evaluates on its input. */
export function previewedExpressions(type: string, config: Record<string, unknown>): PreviewedExpression[] {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  switch (type) {
    case 'transform':
      return [{ label: 'expression', expression: text(config.expression) }];
    case 'branch':
      return [{ label: 'condition', expression: text(config.condition) }];
    case 'terminate':
      return typeof config.output === 'string' && config.output ? [{ label: 'output', expression: config.output }] : [];
    case 'http_call':
      return placeholders(config);
    default:
      return [];
  }
}

function placeholders(config: Record<string, unknown>): PreviewedExpression[] {
  const found: PreviewedExpression[] = [];
  const stack: [string, unknown][] = TEMPLATED.filter((name) => name in config).map((name) => [name, config[name]]);
  while (stack.length > 0 && found.length < MAX) {
    const [where, value] = stack.shift() as [string, unknown];
    if (typeof value === 'string') {
      for (const match of value.matchAll(PLACEHOLDER)) {
        found.push({ label: `${where}: ${match[0]}`, expression: match[1] ?? '@' });
      }
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) stack.push([`${where}/${key}`, inner]);
    }
  }
  return found.slice(0, MAX);
}

/** The expression split at `position` (an error's character offset), for a caret. */
export function splitAt(expression: string, position: number | null | undefined): { before: string; at: string; after: string } | null {
  if (typeof position !== 'number' || position < 0) return null;
  const at = Math.min(position, expression.length);
  return { before: expression.slice(0, at), at: expression.slice(at, at + 1) || ' ', after: expression.slice(at + 1) };
}
