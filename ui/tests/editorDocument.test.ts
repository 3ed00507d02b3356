import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Definition, ValidationResult, WorkflowDetail } from '../src/lib/api/types';
import { DraftStore } from '../src/lib/drafts';
import { EditorDocument, type DocumentApi, type SaveResponse } from '../src/lib/editor/document.svelte';
import { HistoryViews } from '../src/lib/editor/views.svelte';
import { PublishFlow, RevertFlow } from '../src/lib/editor/versions.svelte';
import { SecretStore, type SecretStoreDeps } from '../src/lib/editor/secrets.svelte';
import type { CompareView, VersionView } from '../src/lib/versionViews';

class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

/** A workflow of `count` HTTP steps (big enough that a one-field edit patches). */
function definitionOf(count: number, url = 'https://example.com'): Definition {
  const nodes = [{ id: 'start', type: 'manual', name: 'Start', config: {} }];
  for (let i = 1; i <= count; i += 1) nodes.push({ id: `call_${i}`, type: 'http_call', name: `Call ${i}`, config: { url } as never });
  return {
    nodes: nodes as Definition['nodes'],
    edges: nodes.slice(1).map((node) => ({ from: 'start', to: node.id })) as Definition['edges'],
    settings: {},
  };
}

function detail(version: number, definition: Definition, extra: Partial<WorkflowDetail> = {}): WorkflowDetail {
  return {
    id: 'wf-1',
    key: 'orders',
    name: 'Orders',
    version,
    definition: definition as unknown as Record<string, unknown>,
    problems: [],
    merged: false,
    ...extra,
  } as unknown as WorkflowDetail;
}

const clean: ValidationResult = { valid: true, errors: [], warnings: [] } as unknown as ValidationResult;

interface Harness {
  doc: EditorDocument;
  /** The "canvas" the document reads and redraws. */
  canvas: { def: Definition };
  api: { [K in keyof DocumentApi]: ReturnType<typeof vi.fn> };
  notes: { text: string; kind: string }[];
  drafts: DraftStore;
  storage: MemoryStorage;
}

function harness(initial: WorkflowDetail, storage = new MemoryStorage(), owner = 'tab-a'): Harness {
  const canvas = { def: definitionOf(0) };
  const notes: { text: string; kind: string }[] = [];
  const api = {
    put: vi.fn<DocumentApi['put']>(),
    patch: vi.fn<DocumentApi['patch']>(),
    load: vi.fn<DocumentApi['load']>(),
    validate: vi.fn<DocumentApi['validate']>(async () => clean),
  };
  const drafts = new DraftStore(storage, owner);
  const doc = new EditorDocument(initial, {
    project: 'p',
    api,
    drafts,
    current: () => structuredClone(canvas.def),
    show: (def) => (canvas.def = structuredClone(def)),
    notify: (text, kind) => notes.push({ text, kind }),
    now: () => new Date('2026-01-01T00:00:00Z'),
  });
  return { doc, canvas, api, notes, drafts, storage };
}

function edit(h: Harness, change: (def: Definition) => void): void {
  change(h.canvas.def);
  h.doc.changed();
}

const ok = (data: WorkflowDetail): SaveResponse => ({ data, status: 200, statusText: 'OK' });

describe('EditorDocument', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is dirty while the canvas differs from the saved version, and clean again when undone', () => {
    const h = harness(detail(3, definitionOf(2)));
    expect(h.doc.dirty).toBe(false);
    edit(h, (def) => (def.nodes[1]!.name = 'Renamed'));
    expect(h.doc.dirty).toBe(true);
    edit(h, (def) => (def.nodes[1]!.name = 'Call 1'));
    expect(h.doc.dirty).toBe(false);
  });

  it('adopts what it sent when the save answers without the definition (return=minimal)', async () => {
    const h = harness(detail(3, definitionOf(40)));
    edit(h, (def) => (def.nodes[5]!.name = 'Renamed'));
    const minimal = { ...detail(4, definitionOf(0)), definition: undefined } as unknown as WorkflowDetail;
    h.api.patch.mockResolvedValue(ok(minimal));
    expect(await h.doc.save()).toBe(true);
    expect(h.doc.meta.version).toBe(4);
    expect(h.doc.dirty).toBe(false);
    expect(h.canvas.def.nodes[5]!.name).toBe('Renamed');
    // The next save patches from what was saved, If-Match the new version.
    edit(h, (def) => (def.nodes[6]!.name = 'Again'));
    h.api.patch.mockResolvedValue(ok({ ...minimal, version: 5 } as WorkflowDetail));
    expect(await h.doc.save()).toBe(true);
    const [, ifMatch, patch] = h.api.patch.mock.calls[1]!;
    expect(ifMatch).toBe(4);
    expect(patch).toEqual([{ op: 'replace', path: '/nodes/6/name', value: 'Again' }]);
  });

  it('saves a one-field edit of a big workflow as a JSON Patch, If-Match the base version', async () => {
    const h = harness(detail(3, definitionOf(40)));
    edit(h, (def) => (def.nodes[5]!.name = 'Renamed'));
    h.doc.message = '  rename  ';
    h.api.patch.mockResolvedValue(ok(detail(4, h.canvas.def)));
    expect(await h.doc.save()).toBe(true);
    expect(h.api.put).not.toHaveBeenCalled();
    const [workflow, ifMatch, patch, message] = h.api.patch.mock.calls[0]!;
    expect([workflow, ifMatch, message]).toEqual(['wf-1', 3, 'rename']);
    expect(patch).toEqual([{ op: 'replace', path: '/nodes/5/name', value: 'Renamed' }]);
    expect(h.doc.meta.version).toBe(4);
    expect(h.doc.baseVersion).toBe(4);
    expect(h.doc.dirty).toBe(false);
    expect(h.doc.message).toBe('');
    expect(h.doc.historyKey).toBe(1);
    expect(h.notes.at(-1)).toEqual({ text: 'Saved version 4', kind: 'success' });
  });

  it('sends the whole definition with PUT when a patch would not be smaller', async () => {
    const h = harness(detail(1, definitionOf(0)));
    edit(h, (def) => Object.assign(def, { ...definitionOf(3), settings: { timeout_s: 5 } }));
    h.api.put.mockResolvedValue(ok(detail(2, h.canvas.def)));
    expect(await h.doc.save()).toBe(true);
    expect(h.api.patch).not.toHaveBeenCalled();
    const [, ifMatch, body] = h.api.put.mock.calls[0]!;
    expect(ifMatch).toBe(1);
    expect(body.definition).toEqual(h.canvas.def);
  });

  it('PUTs when the edit started from another version than the one it holds (a restored draft)', async () => {
    const h = harness(detail(5, definitionOf(40)));
    h.doc.baseVersion = 4;
    edit(h, (def) => (def.nodes[1]!.name = 'x'));
    h.api.put.mockResolvedValue(ok(detail(6, h.canvas.def, { merged: true })));
    expect(await h.doc.save()).toBe(true);
    expect(h.api.put.mock.calls[0]![1]).toBe(4);
    expect(h.notes.at(-1)?.text).toBe('Merged with changes saved since version 4: saved as version 6');
  });

  it('a 409 surfaces the conflicting paths and the head; overwrite saves on top of the head', async () => {
    const h = harness(detail(3, definitionOf(1)));
    edit(h, (def) => (def.nodes[1]!.name = 'Mine'));
    const conflicts = [{ path: '/nodes/1/name', base: 'Call 1', theirs: 'Theirs', yours: 'Mine' }];
    h.api.patch.mockResolvedValue({ error: { title: 'Conflict', status: 409, conflicts, head_version: 4 }, status: 409, statusText: 'Conflict' });
    expect(await h.doc.save()).toBe(false);
    expect(h.api.patch.mock.calls[0]![1]).toBe(3);
    expect(h.doc.conflict).toEqual({ conflicts, head: 4 });
    expect(h.doc.dirty).toBe(true);
    expect(h.doc.saving).toBe(false);

    h.api.put.mockResolvedValue(ok(detail(5, h.canvas.def)));
    expect(await h.doc.overwrite()).toBe(true);
    // Its own base is not what the server holds as version 4: the whole document.
    expect(h.api.put.mock.calls[0]![1]).toBe(4);
    expect(h.doc.conflict).toBeNull();
    expect(h.doc.meta.version).toBe(5);
  });

  it('a 412 says the base version is gone; a 422 shows the problems; other errors keep the edits', async () => {
    const h = harness(detail(3, definitionOf(1)));
    edit(h, (def) => (def.nodes[1]!.name = 'Mine'));
    h.api.patch.mockResolvedValueOnce({ error: { detail: 'gone' }, status: 412, statusText: 'Precondition Failed' });
    expect(await h.doc.save()).toBe(false);
    expect(h.notes.at(-1)?.text).toBe('The version you started from no longer exists: reload to continue');

    const errors = [{ code: 'unknown_node', message: 'no such node', path: '/nodes/1', severity: 'error' }];
    h.api.patch.mockResolvedValueOnce({ error: { detail: 'invalid', errors }, status: 422, statusText: 'Unprocessable' });
    expect(await h.doc.save()).toBe(false);
    expect(h.doc.problems.map((p) => p.nodeId)).toEqual(['call_1']);
    expect(h.notes.at(-1)?.text).toBe('Not saved: invalid');

    h.api.patch.mockRejectedValueOnce(new Error('offline'));
    expect(await h.doc.save()).toBe(false);
    expect(h.notes.at(-1)?.text).toContain('Your changes are kept on this device.');
    expect(h.doc.dirty).toBe(true);
  });

  it('keeps a draft of unsaved edits that a new editor offers back, and restoring keeps its base version', () => {
    const storage = new MemoryStorage();
    const first = harness(detail(3, definitionOf(1)), storage, 'tab-a');
    edit(first, (def) => (def.nodes[1]!.name = 'Unsaved'));
    first.doc.message = 'wip';
    vi.advanceTimersByTime(300);
    first.drafts.leave();

    const second = harness(detail(4, definitionOf(1)), storage, 'tab-b');
    second.doc.recover();
    expect(second.doc.recoverable?.baseVersion).toBe(3);
    expect(second.doc.restoreDraft()).toBe(true);
    expect(second.canvas.def.nodes[1]!.name).toBe('Unsaved');
    expect(second.doc.baseVersion).toBe(3);
    expect(second.doc.message).toBe('wip');
    expect(second.doc.dirty).toBe(true);
    expect(second.doc.recoverable).toBeNull();
    expect(second.notes.at(-1)?.text).toContain('started from version 3 and will be merged');
    // Now this tab's own draft: a third editor finds it under tab-b.
    expect(second.drafts.list('p', 'wf-1').map((d) => d.owner)).toEqual(['tab-b']);
  });

  it('drops a draft equal to the saved version instead of offering it; discard forgets it', () => {
    const storage = new MemoryStorage();
    const first = harness(detail(3, definitionOf(1)), storage, 'tab-a');
    edit(first, (def) => (def.nodes[1]!.name = 'Unsaved'));
    vi.advanceTimersByTime(300);
    first.drafts.leave();
    const same = harness(detail(3, definitionOf(1)), storage, 'tab-b');
    same.canvas.def.nodes[1]!.name = 'Unsaved';
    // The draft holds exactly what the server has (saved elsewhere meanwhile).
    const saved = harness(detail(4, structuredClone(first.canvas.def)), storage, 'tab-c');
    saved.doc.recover();
    expect(saved.doc.recoverable).toBeNull();
    expect(storage.length).toBe(0);

    const again = harness(detail(3, definitionOf(1)), storage, 'tab-a');
    edit(again, (def) => (def.nodes[1]!.name = 'Other'));
    vi.advanceTimersByTime(300);
    again.drafts.leave();
    same.doc.recover();
    expect(same.doc.recoverable).not.toBeNull();
    same.doc.discardDraft();
    expect(same.doc.recoverable).toBeNull();
    expect(same.drafts.list('p', 'wf-1')).toEqual([]);
  });

  it('reload after a conflict shows the head and offers the dropped edits back', async () => {
    const h = harness(detail(3, definitionOf(1)));
    edit(h, (def) => (def.nodes[1]!.name = 'Mine'));
    h.doc.conflict = { conflicts: [], head: 4 };
    const head = definitionOf(1);
    head.nodes[1]!.name = 'Theirs';
    h.api.load.mockResolvedValue(detail(4, head));
    expect(await h.doc.reloadLatest()).toBe(true);
    expect(h.doc.conflict).toBeNull();
    expect(h.canvas.def.nodes[1]!.name).toBe('Theirs');
    expect(h.doc.meta.version).toBe(4);
    expect(h.doc.dirty).toBe(false);
    expect(h.doc.recoverable?.definition.nodes[1]!.name).toBe('Mine');
  });

  it('shows only the latest validation answer', async () => {
    const h = harness(detail(3, definitionOf(1)));
    let answerFirst: (result: ValidationResult) => void = () => {};
    h.api.validate.mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)));
    const warning = { code: 'late', message: 'late', path: '/nodes/1', severity: 'warning' };
    h.api.validate.mockResolvedValueOnce({ valid: true, errors: [], warnings: [] } as unknown as ValidationResult);
    const first = h.doc.validate();
    const second = h.doc.validate();
    expect(h.doc.checking).toBe(true);
    await second;
    answerFirst({ valid: true, errors: [], warnings: [warning] } as unknown as ValidationResult);
    await first;
    expect(h.doc.problems).toEqual([]);
    expect(h.doc.checking).toBe(false);
  });

  it('validates a while after an edit, once for a burst', async () => {
    const h = harness(detail(3, definitionOf(1)));
    edit(h, (def) => (def.nodes[1]!.name = 'a'));
    edit(h, (def) => (def.nodes[1]!.name = 'ab'));
    expect(h.api.validate).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(500);
    expect(h.api.validate).toHaveBeenCalledTimes(1);
  });
});

describe('HistoryViews', () => {
  function views() {
    const queries: Record<string, string | null>[] = [];
    const errors: string[] = [];
    const v = new HistoryViews({
      loadVersion: async (number) => ({ kind: 'version', number, nodes: [], edges: [], problems: new Map() }) as VersionView,
      loadCompare: async (from, to) => {
        if (from > to) throw new Error('backwards');
        return { kind: 'compare', from, to } as CompareView;
      },
      setQuery: (query) => queries.push(query),
      onerror: (message) => errors.push(message),
    });
    return { v, queries, errors };
  }

  it('opens the view the address asks for and keeps it in the address', async () => {
    const { v, queries } = views();
    expect(v.openFromQuery('')).toBeNull();
    await v.openFromQuery('?compare=2..5');
    expect(v.mode).toMatchObject({ kind: 'compare', from: 2, to: 5 });
    expect(queries.at(-1)).toEqual({ compare: '2..5', version: null });
    await v.openFromQuery('?version=3');
    expect(v.mode).toMatchObject({ kind: 'version', number: 3 });
    expect(v.editing).toBe(false);
    v.leave();
    expect(v.editing).toBe(true);
    expect(queries.at(-1)).toEqual({ version: null, compare: null });
  });

  it('stays where it was when a view cannot load', async () => {
    const { v, errors } = views();
    await v.compare(5, 2);
    expect(v.mode.kind).toBe('edit');
    expect(v.loading).toBe(false);
    expect(errors).toEqual(['backwards']);
  });
});

describe('PublishFlow', () => {
  it('offers save-and-publish for the head with unsaved edits, then publishes the saved version', async () => {
    const h = harness(detail(3, definitionOf(1)));
    edit(h, (def) => (def.nodes[1]!.name = 'Mine'));
    const publish = vi.fn(async () => ({ ok: true, statusText: 'OK' }));
    const flow = new PublishFlow({ doc: h.doc, publish, save: () => h.doc.save(), notify: () => {} });
    flow.open(3, true);
    expect(flow.dialog).toMatchObject({ version: 3, unsaved: true });
    flow.close();
    flow.open(2, true);
    expect(flow.dialog?.unsaved).toBe(false);
    flow.open(3, true);
    h.api.patch.mockResolvedValue(ok(detail(4, h.canvas.def)));
    await flow.saveAndPublish('v4', '');
    expect(publish).toHaveBeenCalledWith(4, 'v4', null);
    expect(flow.dialog).toBeNull();
    expect(h.doc.meta.published_version).toBe(4);
  });

  it('publishes nothing when the save fails, and lists a refusal on the problems panel', async () => {
    const h = harness(detail(3, definitionOf(1)));
    edit(h, (def) => (def.nodes[1]!.name = 'Mine'));
    const errors = [{ code: 'no_trigger', message: 'needs a trigger', path: '/nodes/1', severity: 'error' }];
    const publish = vi.fn(async () => ({ ok: false, error: { detail: 'Refused', errors }, statusText: 'Unprocessable' }));
    const flow = new PublishFlow({ doc: h.doc, publish, save: async () => false, notify: () => {} });
    flow.open(3, true);
    await flow.saveAndPublish('', '');
    expect(publish).not.toHaveBeenCalled();
    expect(flow.dialog?.error).toContain('Not saved, so nothing was published');

    h.doc.baseVersion = 3;
    edit(h, (def) => (def.nodes[1]!.name = 'Call 1'));
    expect(h.doc.dirty).toBe(false);
    flow.open(3, true);
    await flow.publish('', '');
    expect(flow.dialog?.error).toBe('Refused — see the problems panel');
    expect(h.doc.problems.map((p) => p.nodeId)).toEqual(['call_1']);
  });
});

describe('RevertFlow', () => {
  it('asks first, then shows the new head with no unsaved edits', async () => {
    const h = harness(detail(5, definitionOf(1)));
    edit(h, (def) => (def.nodes[1]!.name = 'Mine'));
    const reset = vi.fn();
    const flow = new RevertFlow({ doc: h.doc, reset, notify: () => {}, revert: async () => detail(6, definitionOf(2)) });
    flow.ask(2);
    expect(flow.dialog).toEqual({ number: 2, busy: false });
    expect(await flow.confirm()).toBe(true);
    expect(reset).toHaveBeenCalled();
    expect(flow.dialog).toBeNull();
    expect(h.doc.meta.version).toBe(6);
    expect(h.doc.dirty).toBe(false);
    expect(h.canvas.def.nodes).toHaveLength(3);
  });
});

describe('SecretStore', () => {
  function store(admin: boolean, ok = true) {
    const put = vi.fn(async () => ({ ok, detail: ok ? 'OK' : 'name taken' }));
    const replace = vi.fn<SecretStoreDeps['replace']>();
    const notes: string[] = [];
    const secrets = new SecretStore({ admin, put, replace, list: async () => ['B', 'A'], notify: (text) => notes.push(text) });
    return { secrets, put, replace, notes };
  }

  it('an admin stores the secret part of the literal and the field refers to it', async () => {
    const { secrets, put, replace } = store(true);
    await secrets.load();
    expect(secrets.names).toEqual(['B', 'A']);
    secrets.open('send', ['headers', 'Authorization'], 'Bearer abc123');
    expect(secrets.suggested).toBe('SEND_AUTHORIZATION');
    expect(await secrets.store('TOKEN')).toBe(true);
    expect(put).toHaveBeenCalledWith('TOKEN', 'abc123');
    expect(replace).toHaveBeenCalledWith('send', ['headers', 'Authorization'], 'Bearer abc123', 'Bearer {{ secrets.TOKEN }}');
    expect(secrets.names).toEqual(['A', 'B', 'TOKEN']);
    expect(secrets.target).toBeNull();
  });

  it('keeps the dialog open with the reason when storing is refused', async () => {
    const { secrets, replace } = store(true, false);
    secrets.open('send', ['token'], 'abc');
    expect(await secrets.store('TOKEN')).toBe(false);
    expect(secrets.target).toMatchObject({ busy: false, error: 'name taken' });
    expect(replace).not.toHaveBeenCalled();
  });

  it('an editor only writes the reference and is told to ask an admin', async () => {
    const { secrets, put, replace, notes } = store(false);
    await secrets.load();
    expect(secrets.names).toBeNull();
    secrets.open('send', ['token'], 'abc');
    expect(await secrets.store('TOKEN')).toBe(true);
    expect(put).not.toHaveBeenCalled();
    expect(replace).toHaveBeenCalledWith('send', ['token'], 'abc', '{{ secrets.TOKEN }}');
    expect(notes[0]).toContain('ask an admin');
  });
});
