import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../src/lib/api/types';
import { setIn } from '../src/lib/pointer';
import {
  formFields,
  initialConfig,
  formatFieldValue,
  isSensitive,
  parseFieldInput,
  referencedSecret,
  type FormField,
} from '../src/lib/schemaForm';

const httpCall: JsonSchema = {
  type: 'object',
  required: ['url'],
  properties: {
    method: { type: 'string', title: 'Method', enum: ['GET', 'POST'], default: 'GET' },
    url: { type: 'string', title: 'URL' },
    headers: { type: 'object', title: 'Headers', additionalProperties: { type: 'string' } },
    body: { title: 'Body' },
    timeout_seconds: { type: 'number', default: 30 },
    retry: {
      type: 'object',
      title: 'Retry',
      properties: {
        max_attempts: { type: 'integer', minimum: 1 },
        retry_on: { type: 'array', items: { type: 'integer' }, default: [429, 503] },
      },
    },
    auth: {
      type: 'object',
      properties: { type: { type: 'string', enum: ['bearer', 'basic'] }, token: { type: 'string', writeOnly: true } },
    },
  },
};
const patterns = ['/auth/token', '/headers/*auth*', '/headers/*key*', '!/headers/idempotency-key'];

function field(fields: FormField[], pointer: string): FormField {
  for (const f of fields) {
    if (f.pointer === pointer) return f;
    const inner = f.children.length ? field(f.children, pointer) : undefined;
    if (inner) return inner;
  }
  return undefined as unknown as FormField;
}

describe('formFields', () => {
  const fields = formFields(httpCall, patterns);

  it('gives each property a widget that fits its schema', () => {
    expect(fields.map((f) => [f.key, f.kind])).toEqual([
      ['method', 'select'],
      ['url', 'text'],
      ['headers', 'map'],
      ['body', 'json'],
      ['timeout_seconds', 'number'],
      ['retry', 'object'],
      ['auth', 'object'],
    ]);
    expect(field(fields, '/retry/max_attempts').kind).toBe('integer');
    expect(field(fields, '/retry/retry_on').kind).toBe('list');
  });

  it('marks required fields and shows defaults as placeholders, not values', () => {
    expect(field(fields, '/url').required).toBe(true);
    expect(field(fields, '/method').required).toBe(false);
    expect(field(fields, '/method').options).toEqual(['GET', 'POST']);
    expect(field(fields, '/timeout_seconds').placeholder).toBe('30');
    expect(field(fields, '/retry/retry_on').placeholder).toBe('429, 503');
  });

  it('offers secret references for sensitive fields', () => {
    const token = field(fields, '/auth/token');
    expect(token.sensitive).toBe(true);
    expect(token.placeholder).toBe('{{ secrets.NAME }}');
    expect(field(fields, '/url').sensitive).toBe(false);
  });
});

describe('isSensitive', () => {
  it('follows the server pattern language: globs, case-insensitive, exclusions, ancestors', () => {
    expect(isSensitive('/headers/Authorization', patterns)).toBe(true);
    expect(isSensitive('/headers/X-API-Key', patterns)).toBe(true);
    expect(isSensitive('/headers/Idempotency-Key', patterns)).toBe(false);
    expect(isSensitive('/headers/Content-Type', patterns)).toBe(false);
    expect(isSensitive('/auth/token/deeper', patterns)).toBe(true);
    expect(isSensitive('/auth', patterns)).toBe(false);
  });
});

describe('parseFieldInput', () => {
  const fields = formFields(httpCall, patterns);

  it('turns typed text into config values, empty meaning "use the default"', () => {
    expect(parseFieldInput(field(fields, '/timeout_seconds'), '12.5')).toEqual({ ok: true, value: 12.5 });
    expect(parseFieldInput(field(fields, '/timeout_seconds'), '')).toEqual({ ok: true, value: undefined });
    expect(parseFieldInput(field(fields, '/retry/max_attempts'), '2.5').ok).toBe(false);
    expect(parseFieldInput(field(fields, '/retry/retry_on'), '429, 502,')).toEqual({ ok: true, value: [429, 502] });
    expect(parseFieldInput(field(fields, '/body'), '{"a": [1]}')).toEqual({ ok: true, value: { a: [1] } });
    expect(parseFieldInput(field(fields, '/body'), '{oops')).toMatchObject({ ok: false });
    expect(parseFieldInput(field(fields, '/url'), '')).toEqual({ ok: true, value: undefined });
  });

  it('round-trips values through their display', () => {
    const list = field(fields, '/retry/retry_on');
    expect(parseFieldInput(list, formatFieldValue(list, [500, 503]))).toEqual({ ok: true, value: [500, 503] });
    const body = field(fields, '/body');
    expect(parseFieldInput(body, formatFieldValue(body, { x: 'y' }))).toEqual({ ok: true, value: { x: 'y' } });
  });
});

describe('setIn', () => {
  it('writes nested values without touching the original, dropping emptied objects', () => {
    const config = { url: 'https://a', retry: { max_attempts: 3 } };
    const next = setIn(config, ['retry', 'max_attempts'], undefined);
    expect(next).toEqual({ url: 'https://a' });
    expect(config.retry.max_attempts).toBe(3);
    expect(setIn({}, ['auth', 'type'], 'bearer')).toEqual({ auth: { type: 'bearer' } });
  });
});

describe('referencedSecret', () => {
  it('recognises a reference, optionally after an auth scheme', () => {
    expect(referencedSecret('{{ secrets.API_TOKEN }}')).toBe('API_TOKEN');
    expect(referencedSecret('Bearer {{secrets.T}}')).toBe('T');
    expect(referencedSecret('hunter2')).toBeNull();
  });
});

describe('defaults the engine does not apply', () => {
  const delay: JsonSchema = {
    type: 'object',
    properties: {
      duration_seconds: { type: 'number', default: 60 },
      until: { type: 'string' },
    },
    oneOf: [{ required: ['duration_seconds'] }, { required: ['until'] }],
  };

  it('are not shown as placeholders', () => {
    const [duration] = formFields(delay, []);
    expect(duration?.placeholder).toBe('');
    const [method] = formFields({ type: 'object', properties: { method: { type: 'string', default: 'GET' } } }, []);
    expect(method?.placeholder).toBe('GET');
  });

  it('are written into a new step instead', () => {
    expect(initialConfig(delay)).toEqual({ duration_seconds: 60 });
    expect(initialConfig({ type: 'object', properties: { method: { type: 'string', default: 'GET' } } })).toEqual({});
    expect(initialConfig({ type: 'object', required: ['n'], properties: { n: { type: 'integer', default: 3 } } })).toEqual({ n: 3 });
  });

  it('fall back to the first example (the served Delay schema has no default)', () => {
    const served: JsonSchema = {
      type: 'object',
      properties: { duration_seconds: { type: 'number', examples: [60] }, until: { type: 'string' } },
      oneOf: [{ required: ['duration_seconds'] }, { required: ['until'] }],
    };
    expect(initialConfig(served)).toEqual({ duration_seconds: 60 });
  });
});
