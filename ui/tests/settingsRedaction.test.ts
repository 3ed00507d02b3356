import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api/client';
import { parsePointers, RedactionState, type RedactionPort, type RedactionRules } from '../src/lib/settings/redaction.svelte';

const LIMITS = { max_patterns: 20, max_pattern_length: 200, max_pointers: 50, max_pointer_length: 500, match_timeout_ms: 50 };

function fakePort(): RedactionPort & { rulesNow: RedactionRules } {
  const port = {
    rulesNow: { patterns: [], pointers: {}, limits: LIMITS } as RedactionRules,
    rules: async () => structuredClone(port.rulesNow),
    putPattern: async (name: string, pattern: string) => {
      if (pattern.includes('(a+)+')) {
        throw new ApiError(422, {
          type: 'x',
          title: 'Validation failed',
          status: 422,
          detail: 'it backtracks too much',
          errors: [{ path: '/pattern', code: 'redaction.pattern_too_slow', message: 'it backtracks too much', severity: 'error' }],
        } as never, '422');
      }
      const record = { name, pattern, created_at: '2026-01-01T00:00:00Z', created_by: 'ann@example.com' };
      port.rulesNow.patterns = [...port.rulesNow.patterns.filter((p) => p.name !== name), record];
      return record;
    },
    removePattern: async (name: string) => {
      port.rulesNow.patterns = port.rulesNow.patterns.filter((p) => p.name !== name);
    },
    putPointers: async (workflow: string, pointers: string[]) => {
      port.rulesNow.pointers = { ...port.rulesNow.pointers, [workflow]: pointers };
      return pointers;
    },
  };
  return port;
}

describe('RedactionState', () => {
  it('saves a pattern, then lists it; a refused one keeps the form open with the field message', async () => {
    const model = new RedactionState(fakePort());
    await model.load();
    model.startPattern();
    model.patternForm!.name = ' employee_id ';
    model.patternForm!.pattern = 'EMP-\\d{6}';
    expect(await model.savePattern()).toBe(true);
    expect(model.patternForm).toBeNull();
    expect(model.rules?.patterns.map((p) => p.name)).toEqual(['employee_id']);

    model.startPattern();
    model.patternForm!.name = 'slow';
    model.patternForm!.pattern = '(a+)+$';
    expect(await model.savePattern()).toBe(false);
    expect(model.patternForm?.problem?.fields.pattern).toBe('it backtracks too much');
  });

  it('edits a workflow’s pointers one a line, and removes a pattern', async () => {
    const port = fakePort();
    port.rulesNow.pointers = { orders: ['/ssn'] };
    port.rulesNow.patterns = [{ name: 'ticket', pattern: 'TCK-\\d+', created_at: '2026-01-01T00:00:00Z', created_by: 'a' }];
    const model = new RedactionState(port);
    await model.load();
    model.startPointers('orders');
    expect(model.pointerForm?.text).toBe('/ssn');
    model.pointerForm!.text = '/ssn\n\n  /items/*/email  \n';
    expect(await model.savePointers()).toBe(true);
    expect(model.rules?.pointers).toEqual({ orders: ['/ssn', '/items/*/email'] });
    await model.removePattern('ticket');
    expect(model.rules?.patterns).toEqual([]);
  });

  it('parses pointers one a line, dropping blank lines', () => {
    expect(parsePointers(' /a \n\n/b/*/c\n')).toEqual(['/a', '/b/*/c']);
  });
});
