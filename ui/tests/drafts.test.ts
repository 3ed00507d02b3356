import { beforeEach, describe, expect, it } from 'vitest';
import type { Definition } from '../src/lib/api/types';
import { DraftStore, draftKey, type LocalDraft } from '../src/lib/drafts';

class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  quota = Infinity;
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
    if (value.length > this.quota) throw new DOMException('full', 'QuotaExceededError');
    this.items.set(key, value);
  }
}

const definition: Definition = { nodes: [{ id: 'a', type: 'manual', config: {} }], edges: [], settings: {} };

function draft(baseVersion: number, workflowId = 'wf-1', project = 'alpha'): LocalDraft {
  return { project, workflowId, baseVersion, definition, message: 'wip', savedAt: `2030-01-0${baseVersion}T00:00:00Z` };
}

describe('DraftStore', () => {
  let storage: MemoryStorage;
  let drafts: DraftStore;
  beforeEach(() => {
    storage = new MemoryStorage();
    drafts = new DraftStore(storage);
  });

  it('offers back the edits of a workflow, keyed by project, workflow and base version', () => {
    drafts.save(draft(3));
    expect(storage.getItem(draftKey('alpha', 'wf-1', 3))).not.toBeNull();
    expect(drafts.recoverable('alpha', 'wf-1')).toEqual(draft(3));
    expect(drafts.recoverable('alpha', 'wf-2')).toBeNull();
    expect(drafts.recoverable('beta', 'wf-1')).toBeNull();
  });

  it('prefers the draft started from the newest version', () => {
    drafts.save(draft(2));
    drafts.save(draft(5));
    drafts.save(draft(4));
    expect(drafts.recoverable('alpha', 'wf-1')?.baseVersion).toBe(5);
  });

  it('forgets every draft of a workflow once it is saved', () => {
    drafts.save(draft(2));
    drafts.save(draft(3));
    drafts.save(draft(1, 'wf-other'));
    drafts.discard('alpha', 'wf-1');
    expect(drafts.list('alpha', 'wf-1')).toEqual([]);
    expect(drafts.recoverable('alpha', 'wf-other')).not.toBeNull();
  });

  it('drops corrupt entries instead of failing', () => {
    storage.setItem(draftKey('alpha', 'wf-1', 7), '{not json');
    storage.setItem(draftKey('alpha', 'wf-1', 8), JSON.stringify({ baseVersion: 8 }));
    expect(drafts.recoverable('alpha', 'wf-1')).toBeNull();
    expect(storage.length).toBe(0);
  });

  it('reports a full storage instead of throwing', () => {
    storage.quota = 10;
    expect(drafts.save(draft(1))).toBe(false);
  });
});
