import { describe, expect, it } from 'vitest';
import type { Definition, NodeType } from '../src/lib/api/types';
import { literalCredentials, splitCredential, suggestSecretName } from '../src/lib/credentials';

const http = { name: 'http_call', sensitive_fields: ['/headers/*auth*', '/headers/*token*', '/auth/token', '!/headers/x-public-token'] } as unknown as NodeType;
const types = new Map([['http_call', http]]);

function def(config: Record<string, unknown>): Definition {
  return { nodes: [{ id: 'send', type: 'http_call', config }], edges: [], settings: {} };
}

describe('literal credentials', () => {
  it('finds literal values in sensitive fields, not references or empty values', () => {
    const found = literalCredentials(
      def({
        headers: { Authorization: 'Bearer abc123', 'X-Token': '{{ secrets.T }}', Accept: 'json', 'X-Public-Token': 'ok' },
        auth: { token: '' },
      }),
      types,
    );
    expect(found).toEqual([{ nodeId: 'send', parts: ['headers', 'Authorization'], pointer: '/headers/Authorization' }]);
  });

  it('accepts an auth scheme before a reference', () => {
    expect(literalCredentials(def({ headers: { Authorization: 'Bearer {{ secrets.API }}' } }), types)).toEqual([]);
  });

  it('judges a sensitive object whole', () => {
    expect(literalCredentials(def({ auth: { token: { nested: 'x' } } }), types)).toHaveLength(1);
  });
});

describe('store as secret', () => {
  it('keeps the auth scheme out of the stored value', () => {
    const split = splitCredential('bearer abc123');
    expect(split.secret).toBe('abc123');
    expect(split.reference('API_TOKEN')).toBe('Bearer {{ secrets.API_TOKEN }}');
    expect(splitCredential('abc').reference('X')).toBe('{{ secrets.X }}');
  });

  it('suggests a valid name from the step and the field', () => {
    expect(suggestSecretName('send', ['headers', 'X-Api-Key'])).toBe('SEND_X_API_KEY');
    expect(suggestSecretName('1st', ['token'])).toBe('S_1ST_TOKEN');
  });
});
