import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api/client';
import { fieldOf, formProblem } from '../src/lib/settings/problems';
import { hostsText, parseHosts, SecretsState, type Secret, type SecretsPort } from '../src/lib/settings/secrets.svelte';

function secret(name: string, description = ''): Secret {
  const at = '2026-01-01T00:00:00Z';
  return { name, description, created_at: at, created_by: 'a@x.io', updated_at: at, updated_by: 'a@x.io', last_used_at: null };
}

class FakeSecrets implements SecretsPort {
  stored = new Map<string, { value: string; meta: Secret }>();
  hosts: (string[] | undefined)[] = [];
  fail: unknown = null;
  async list(): Promise<Secret[]> {
    return [...this.stored.values()].map((s) => s.meta);
  }
  async put(name: string, value: string, description: string, hosts?: string[]): Promise<Secret> {
    if (this.fail) throw this.fail;
    this.hosts.push(hosts);
    const meta = { ...secret(name, description), allowed_hosts: hosts ?? this.stored.get(name)?.meta.allowed_hosts ?? null };
    this.stored.set(name, { value, meta });
    return meta;
  }
  async remove(name: string): Promise<void> {
    if (this.fail) throw this.fail;
    this.stored.delete(name);
  }
}

describe('SecretsState', () => {
  it('lists secrets by name', async () => {
    const port = new FakeSecrets();
    await port.put('ZED', 'v', '');
    await port.put('ALPHA', 'v', '');
    const model = new SecretsState(port);
    await model.load();
    expect(model.items.map((s) => s.name)).toEqual(['ALPHA', 'ZED']);
    expect(model.loading).toBe(false);
  });

  it('adds a secret without keeping its value anywhere in the state', async () => {
    const port = new FakeSecrets();
    const model = new SecretsState(port);
    await model.load();
    model.startAdd();
    model.form!.name = 'CRM_TOKEN';
    model.form!.description = 'crm';
    expect(await model.save('s3cr3t-value')).toBe(true);
    expect(port.stored.get('CRM_TOKEN')?.value).toBe('s3cr3t-value');
    expect(model.form).toBeNull();
    expect(JSON.stringify({ items: model.items, form: model.form })).not.toContain('s3cr3t-value');
  });

  it('refuses an empty value and a name that exists, pointing at the field', async () => {
    const port = new FakeSecrets();
    await port.put('TAKEN', 'v', '');
    const model = new SecretsState(port);
    await model.load();
    model.startAdd();
    model.form!.name = 'NEW';
    expect(await model.save('')).toBe(false);
    expect(model.form!.problem?.fields.value).toBeTruthy();
    model.form!.name = 'TAKEN';
    expect(await model.save('x')).toBe(false);
    expect(model.form!.problem?.fields.name).toBeTruthy();
  });

  it('replaces a value in place and keeps one row', async () => {
    const port = new FakeSecrets();
    await port.put('A', 'old', 'first');
    const model = new SecretsState(port);
    await model.load();
    model.startReplace(model.items[0]!);
    expect(model.form!.mode).toBe('replace');
    expect(await model.save('new')).toBe(true);
    expect(port.stored.get('A')?.value).toBe('new');
    expect(model.items).toHaveLength(1);
  });

  it('shows the server problem on the field it names', async () => {
    const port = new FakeSecrets();
    port.fail = new ApiError(
      422,
      {
        type: 'about:blank',
        title: 'Validation failed',
        status: 422,
        detail: "'1x' is not a valid secret name",
        errors: [{ path: '/name', code: 'secret.invalid_name', message: 'use letters', severity: 'error' }],
      },
      '422',
    );
    const model = new SecretsState(port);
    await model.load();
    model.startAdd();
    model.form!.name = '1x';
    expect(await model.save('v')).toBe(false);
    expect(model.form!.busy).toBe(false);
    expect(model.form!.problem).toEqual({ message: "'1x' is not a valid secret name", fields: { name: 'use letters' } });
  });

  it('deletes only after confirmation, and keeps the row when the server refuses', async () => {
    const port = new FakeSecrets();
    await port.put('A', 'v', '');
    const model = new SecretsState(port);
    await model.load();
    expect(await model.confirmDelete()).toBe(false);
    model.askDelete('A');
    port.fail = new Error('offline');
    expect(await model.confirmDelete()).toBe(false);
    expect(model.deleting?.error).toBe('offline');
    expect(model.items).toHaveLength(1);
    port.fail = null;
    expect(await model.confirmDelete()).toBe(true);
    expect(model.items).toHaveLength(0);
    expect(model.deleting).toBeNull();
  });

  it('reports a failed load', async () => {
    const port = new FakeSecrets();
    port.list = async () => {
      throw new ApiError(403, { type: 't', title: 'Forbidden', status: 403, detail: 'needs admin' }, '403');
    };
    const model = new SecretsState(port);
    await model.load();
    expect(model.error).toBe('needs admin');
  });
});

describe('allowed hosts', () => {
  it('sends the hosts of a new secret and keeps those of a replaced one', async () => {
    const port = new FakeSecrets();
    const model = new SecretsState(port);
    await model.load();
    model.startAdd();
    model.form!.name = 'A';
    model.form!.hosts = 'api.example.com, *.example.org';
    await model.save('v');
    expect(port.hosts).toEqual([['api.example.com', '*.example.org']]);
    model.startReplace(model.items[0]!);
    expect(model.form!.hosts).toBe('api.example.com, *.example.org');
    await model.save('w');
    expect(port.hosts[1]).toBeUndefined();
    expect(model.items[0]!.allowed_hosts).toEqual(['api.example.com', '*.example.org']);
  });

  it('reads and shows host lists', () => {
    expect(parseHosts('  ')).toBeUndefined();
    expect(parseHosts('a.io b.io,c.io')).toEqual(['a.io', 'b.io', 'c.io']);
    expect(hostsText({ ...secret('A'), allowed_hosts: null })).toBe('any host');
    expect(hostsText({ ...secret('A'), allowed_hosts: [] })).toBe('no host');
  });
});

describe('problems', () => {
  it('maps a pointer to its top-level field', () => {
    expect(fieldOf('/value')).toBe('value');
    expect(fieldOf('/a~1b/c')).toBe('a/b');
    expect(fieldOf('')).toBe('');
  });

  it('falls back to the error message', () => {
    expect(formProblem(new Error('boom'))).toEqual({ message: 'boom', fields: {} });
  });
});
