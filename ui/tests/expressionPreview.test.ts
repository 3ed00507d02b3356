import { describe, expect, it } from 'vitest';
import { previewedExpressions, splitAt } from '../src/lib/expressionPreview';

describe('previewedExpressions', () => {
  it('takes the expression of transform, branch and terminate', () => {
    expect(previewedExpressions('transform', { expression: 'a.b' })).toEqual([{ label: 'expression', expression: 'a.b' }]);
    expect(previewedExpressions('branch', { condition: 'x > `1`' })[0]?.expression).toBe('x > `1`');
    expect(previewedExpressions('terminate', { status: 'failed' })).toEqual([]);
    expect(previewedExpressions('terminate', { output: 'error' })[0]?.label).toBe('output');
    expect(previewedExpressions('delay', { duration_seconds: 1 })).toEqual([]);
  });

  it('finds the input placeholders of an http_call', () => {
    const found = previewedExpressions('http_call', {
      url: '{{ input.api }}/orders/{{ input.order.id }}',
      headers: { Authorization: '{{ secrets.TOKEN }}' },
      body: { whole: '{{ input }}', total: '{{ input.sum(items[*].price) }}' },
    });
    expect(found.map((f) => f.expression)).toEqual(['api', 'order.id', '@', 'sum(items[*].price)']);
    expect(found[3]?.label).toBe('body/total: {{ input.sum(items[*].price) }}');
  });
});

describe('splitAt', () => {
  it('splits at the error position, past the end included', () => {
    expect(splitAt('a.b', 1)).toEqual({ before: 'a', at: '.', after: 'b' });
    expect(splitAt('a.', 2)).toEqual({ before: 'a.', at: ' ', after: '' });
    expect(splitAt('a', null)).toBeNull();
  });
});
