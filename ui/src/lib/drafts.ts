// Unsaved edits kept in localStorage, so a refresh, a crash or a closed tab
// offers them back. Keyed by project + workflow + the version the edits start
// from + the tab that wrote them: restoring keeps that base, so the save
// merges with anything newer.
//
// A draft belongs to the tab that wrote it. While that tab is open (it beats
// a heartbeat into localStorage), other tabs neither offer its edits as
// "recovered" nor delete them; once it is closed or crashed its drafts are
// orphans that any tab may offer back, take over or discard.
import type { Definition } from './api/types';

const PREFIX = 'meshhook:draft:';
const TAB_PREFIX = 'meshhook:tab:';
/** A tab that has not beaten for this long is gone (closed, crashed, frozen). */
export const TAB_TIMEOUT_MS = 60_000;
export const HEARTBEAT_MS = 10_000;

export interface LocalDraft {
  project: string;
  workflowId: string;
  baseVersion: number;
  definition: Definition;
  message: string;
  savedAt: string;
  /** The tab that wrote it (absent in drafts written before tabs owned them). */
  owner?: string;
}

export function draftKey(project: string, workflowId: string, baseVersion: number, owner = ''): string {
  return `${PREFIX}${project}:${workflowId}:${baseVersion}${owner ? `:${owner}` : ''}`;
}

/** This tab's id: kept in sessionStorage, so a reload of the tab keeps it. */
export function tabId(session: Storage | null, random: () => string = () => crypto.randomUUID()): string {
  const existing = session?.getItem('meshhook:tab-id');
  if (existing) return existing;
  const made = random().replace(/-/g, '').slice(0, 12);
  try {
    session?.setItem('meshhook:tab-id', made);
  } catch {
    // Storage disabled: the id lives as long as the page.
  }
  return made;
}

export class DraftStore {
  constructor(
    private readonly storage: Storage,
    /** The tab this store writes for. */
    readonly owner: string = '',
    private readonly now: () => number = () => Date.now(),
  ) {}

  save(draft: Omit<LocalDraft, 'owner'>): boolean {
    const mine: LocalDraft = { ...draft, owner: this.owner };
    try {
      this.storage.setItem(draftKey(draft.project, draft.workflowId, draft.baseVersion, this.owner), JSON.stringify(mine));
      return true;
    } catch {
      // Quota exceeded or storage disabled: keeping drafts is best effort.
      return false;
    }
  }

  /** Say this tab is alive (called every HEARTBEAT_MS while the editor is open). */
  beat(): void {
    if (!this.owner) return;
    try {
      this.storage.setItem(TAB_PREFIX + this.owner, String(this.now()));
    } catch {
      // Best effort, as drafts are.
    }
  }

  /** This tab is closing: its drafts become orphans other tabs may recover. */
  leave(): void {
    if (this.owner) this.storage.removeItem(TAB_PREFIX + this.owner);
  }

  /** Whether another tab that is still open wrote this draft. */
  ownedByOtherLiveTab(draft: LocalDraft): boolean {
    if (!draft.owner || draft.owner === this.owner) return false;
    const beat = Number(this.storage.getItem(TAB_PREFIX + draft.owner));
    return Number.isFinite(beat) && beat > 0 && this.now() - beat < TAB_TIMEOUT_MS;
  }

  /** Every draft of a workflow, newest base first (any tab's). */
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

  /** Drafts this tab may offer back: its own and those of tabs that are gone. */
  recoverableList(project: string, workflowId: string): LocalDraft[] {
    return this.list(project, workflowId).filter((draft) => !this.ownedByOtherLiveTab(draft));
  }

  /** The draft to offer when a workflow opens: the newest one this tab may take, if any. */
  recoverable(project: string, workflowId: string): LocalDraft | null {
    return this.recoverableList(project, workflowId)[0] ?? null;
  }

  /** Whether another open tab holds unsaved edits of this workflow. */
  editedElsewhere(project: string, workflowId: string): boolean {
    return this.list(project, workflowId).some((draft) => this.ownedByOtherLiveTab(draft));
  }

  /**
   * Forget the drafts of a workflow this tab may touch (after a save, or when
   * the user discards them): its own and orphans, never another open tab's.
   */
  discard(project: string, workflowId: string): void {
    for (const draft of this.recoverableList(project, workflowId)) this.remove(draft);
  }

  /** Forget this tab's own drafts of a workflow (saved, or undone back to the saved state). */
  discardOwn(project: string, workflowId: string): void {
    for (const draft of this.list(project, workflowId)) {
      if ((draft.owner ?? '') === this.owner) this.remove(draft);
    }
  }

  /** Forget one draft (after restoring it: the tab now keeps it under its own name). */
  remove(draft: LocalDraft): void {
    this.storage.removeItem(draftKey(draft.project, draft.workflowId, draft.baseVersion, draft.owner ?? ''));
  }

  /** Forget every draft on this device (signing out). */
  clearAll(): void {
    const keys: string[] = [];
    for (let i = 0; i < this.storage.length; i += 1) {
      const key = this.storage.key(i);
      if (key?.startsWith(PREFIX) || key?.startsWith(TAB_PREFIX)) keys.push(key);
    }
    for (const key of keys) this.storage.removeItem(key);
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
