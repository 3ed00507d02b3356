// Unsaved edits kept in localStorage, so a refresh, a crash or a closed tab
// offers them back. Keyed by project + workflow + the version the edits start
// from: restoring keeps that base, so the save merges with anything newer.
import type { Definition } from './api/types';

const PREFIX = 'meshhook:draft:';

export interface LocalDraft {
  project: string;
  workflowId: string;
  baseVersion: number;
  definition: Definition;
  message: string;
  savedAt: string;
}

export function draftKey(project: string, workflowId: string, baseVersion: number): string {
  return `${PREFIX}${project}:${workflowId}:${baseVersion}`;
}

export class DraftStore {
  constructor(private readonly storage: Storage) {}

  save(draft: LocalDraft): boolean {
    try {
      this.storage.setItem(draftKey(draft.project, draft.workflowId, draft.baseVersion), JSON.stringify(draft));
      return true;
    } catch {
      // Quota exceeded or storage disabled: keeping drafts is best effort.
      return false;
    }
  }

  /** Every draft of a workflow, newest base first. */
  list(project: string, workflowId: string): LocalDraft[] {
    const prefix = `${PREFIX}${project}:${workflowId}:`;
    // Keys first: reading may remove a corrupt entry, which shifts the indexes.
    const keys: string[] = [];
    for (let i = 0; i < this.storage.length; i += 1) {
      const key = this.storage.key(i);
      if (key?.startsWith(prefix)) keys.push(key);
    }
    const found: LocalDraft[] = [];
    for (const key of keys) {
      const draft = this.read(key);
      if (draft) found.push(draft);
    }
    return found.sort((a, b) => b.baseVersion - a.baseVersion || b.savedAt.localeCompare(a.savedAt));
  }

  /** The draft to offer when a workflow opens: the newest one, if any. */
  recoverable(project: string, workflowId: string): LocalDraft | null {
    return this.list(project, workflowId)[0] ?? null;
  }

  /** Forget every draft of a workflow (after a save, or when the user discards them). */
  discard(project: string, workflowId: string): void {
    for (const draft of this.list(project, workflowId)) {
      this.storage.removeItem(draftKey(project, workflowId, draft.baseVersion));
    }
  }

  private read(key: string): LocalDraft | null {
    try {
      const value = JSON.parse(this.storage.getItem(key) ?? 'null') as LocalDraft | null;
      if (value && Array.isArray(value.definition?.nodes) && typeof value.baseVersion === 'number') return value;
    } catch {
      // A corrupt entry is dropped below.
    }
    this.storage.removeItem(key);
    return null;
  }
}
