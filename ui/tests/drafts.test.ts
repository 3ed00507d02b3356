import { beforeEach, describe, expect, it } from 'vitest';
import type { Definition } from '../src/lib/api/types';
import { DraftStore, TAB_TIMEOUT_MS, draftKey, tabId, type LocalDraft } from '../src/lib/drafts';

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
    expect(drafts.recoverable('alpha', 'wf-1')).toMatchObject(draft(3));
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

  it('never offers or deletes the live edits of another open tab', () => {
    let now = 1_000_000;
    const clock = () => now;
    const tabA = new DraftStore(storage, 'tab-a', clock);
    const tabB = new DraftStore(storage, 'tab-b', clock);
    tabA.beat();
    tabA.save(draft(3));
    expect(storage.getItem(draftKey('alpha', 'wf-1', 3, 'tab-a'))).not.toBeNull();
    // B sees that A is editing, but is not offered A's edits and cannot discard them.
    expect(tabB.recoverable('alpha', 'wf-1')).toBeNull();
    expect(tabB.editedElsewhere('alpha', 'wf-1')).toBe(true);
    tabB.discard('alpha', 'wf-1');
    expect(tabA.recoverable('alpha', 'wf-1')?.owner).toBe('tab-a');
    // A reload of A (same tab id) still finds them.
    expect(new DraftStore(storage, 'tab-a', clock).recoverable('alpha', 'wf-1')).not.toBeNull();
    // Once A is gone (closed, or silent for too long) its drafts are B's to recover.
    now += TAB_TIMEOUT_MS + 1;
    expect(tabB.recoverable('alpha', 'wf-1')?.owner).toBe('tab-a');
    tabB.discard('alpha', 'wf-1');
    expect(tabB.list('alpha', 'wf-1')).toEqual([]);
  });

  it('frees the drafts of a tab that leaves', () => {
    const tabA = new DraftStore(storage, 'tab-a');
    const tabB = new DraftStore(storage, 'tab-b');
    tabA.beat();
    tabA.save(draft(3));
    expect(tabB.recoverable('alpha', 'wf-1')).toBeNull();
    tabA.leave();
    expect(tabB.recoverable('alpha', 'wf-1')?.baseVersion).toBe(3);
  });

  it('a save forgets only the drafts of the tab that saved', () => {
    const tabA = new DraftStore(storage, 'tab-a');
    const tabB = new DraftStore(storage, 'tab-b');
    tabA.beat();
    tabB.beat();
    tabA.save(draft(3));
    tabB.save(draft(3));
    tabB.discard('alpha', 'wf-1');
    expect(tabA.list('alpha', 'wf-1').map((d) => d.owner)).toEqual(['tab-a']);
  });

  it('signing out forgets every draft on the device', () => {
    const tabA = new DraftStore(storage, 'tab-a');
    tabA.beat();
    tabA.save(draft(3));
    storage.setItem('other', 'kept');
    tabA.clearAll();
    expect(storage.length).toBe(1);
  });
});

describe('tabId', () => {
  it('is kept for the tab across reloads', () => {
    const session = new MemoryStorage();
    const first = tabId(session, () => 'aaaa-bbbb-cccc-dddd');
    expect(first).toBe('aaaabbbbcccc');
    expect(tabId(session, () => 'other')).toBe(first);
  });
});
