import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api/client';
import { deliveryError, deliveryTime, signingText, WebhookState, type WebhookPort } from '../src/lib/settings/webhook.svelte';

function port(overrides: Partial<WebhookPort> = {}): WebhookPort & { sent: unknown[] } {
  const sent: unknown[] = [];
  let id = 1;
  return {
    sent,
    get: async () => ({ url: `http://h/hooks/${id}/in`, methods: ['POST'], signing: null }),
    rotate: async () => ({ url: `http://h/hooks/${++id}/in`, methods: ['POST'], signing: null }),
    deliveries: async () => sent.map((_, index) => ({ id: index, status: 202, method: 'POST', received_at: '2026-01-01T00:00:00Z' })),
    test: async (body) => {
      sent.push(body);
      return { status: 202, run_id: 'r1' };
    },
    ...overrides,
  };
}

describe('WebhookState', () => {
  it('loads the URL and rotates it', async () => {
    const model = new WebhookState(port());
    await model.load();
    expect(model.info?.url).toBe('http://h/hooks/1/in');
    expect(await model.rotate()).toBe(true);
    expect(model.info?.url).toBe('http://h/hooks/2/in');
  });

  it('says when a workflow has no webhook (404), apart from other failures', async () => {
    const missing = new WebhookState(
      port({ get: async () => Promise.reject(new ApiError(404, { type: 't', title: 'Not found', status: 404, detail: 'no webhook trigger' }, '404')) }),
    );
    await missing.load();
    expect(missing.missing).toBe('no webhook trigger');
    expect(missing.error).toBeNull();
    const broken = new WebhookState(port({ get: async () => Promise.reject(new Error('down')) }));
    await broken.load();
    expect(broken.missing).toBeNull();
    expect(broken.error).toBe('down');
  });

  it('sends a test with the JSON body and refreshes the deliveries', async () => {
    const fake = port();
    const model = new WebhookState(fake);
    await model.load();
    model.testBody = '{"a": 1}';
    expect(await model.sendTest()).toBe(true);
    expect(fake.sent).toEqual([{ body: { a: 1 } }]);
    expect(model.testResult?.run_id).toBe('r1');
    expect(model.deliveries).toHaveLength(1);
  });

  it('refuses a test body that is not JSON, on the body field', async () => {
    const fake = port();
    const model = new WebhookState(fake);
    model.testBody = '{oops';
    expect(await model.sendTest()).toBe(false);
    expect(model.testProblem?.fields.body).toBeTruthy();
    expect(fake.sent).toEqual([]);
  });

  it('describes signing and deliveries whatever their shape', () => {
    expect(signingText(null)).toMatch(/Not signed/);
    expect(signingText('custom')).toBe('custom');
    expect(signingText('none')).toMatch(/Not signed/);
    expect(signingText('hmac')).toMatch(/X-MeshHook-Signature/);
    expect(signingText('jwt')).toMatch(/Authorization: Bearer/);
    expect(signingText({ scheme: 'none' })).toMatch(/Not signed/);
    expect(signingText({ enabled: false })).toMatch(/Not signed/);
    expect(signingText({ scheme: 'hmac-sha256', header: 'X-Sig' })).toContain('X-Sig');
    expect(deliveryTime({ at: 'x' })).toBe('x');
    expect(deliveryError({ error: { message: 'bad signature' } })).toBe('bad signature');
    expect(deliveryError({})).toBeNull();
    expect(deliveryError({ failure: 'signature', error: 'ignored' })).toBe('signature');
  });
});
