// Publishing a version and reverting to one, from the editor's toolbar and
// history panel: the dialogs' state and what happens to the workflow being
// edited afterwards. Server calls are injected (tested without a server).
import { describeError } from '../api/client';
import type { Problem, WorkflowDetail } from '../api/types';
import type { EditorDocument, Notify } from './document.svelte';

export interface PublishResponse {
  ok: boolean;
  error?: unknown;
  statusText: string;
}

export interface PublishDeps {
  doc: EditorDocument;
  publish: (version: number, tag: string | null, note: string | null) => Promise<PublishResponse>;
  /** Save the canvas (with the editor's own checks first); true when saved. */
  save: () => Promise<boolean>;
  notify: Notify;
}

export interface PublishDialogState {
  version: number;
  busy: boolean;
  error: string | null;
  /** The head is being published while the canvas holds unsaved edits. */
  unsaved: boolean;
}

export class PublishFlow {
  dialog = $state<PublishDialogState | null>(null);
  private readonly deps: PublishDeps;

  constructor(deps: PublishDeps) {
    this.deps = deps;
  }

  open(version: number, canEdit: boolean): void {
    const { doc } = this.deps;
    // Publishing the head with edits on the canvas must not silently leave them out.
    this.dialog = { version, busy: false, error: null, unsaved: doc.dirty && version === doc.meta.version && canEdit };
  }

  close(): void {
    this.dialog = null;
  }

  /** Save the canvas, then publish the version that saving made. */
  async saveAndPublish(tag: string, note: string): Promise<void> {
    if (!this.dialog) return;
    const { doc } = this.deps;
    this.dialog = { ...this.dialog, busy: true, error: null };
    const saved = await this.deps.save();
    if (!saved || doc.dirty) {
      if (this.dialog) {
        this.dialog = { ...this.dialog, busy: false, error: 'Not saved, so nothing was published: see the message above the canvas.' };
      }
      return;
    }
    this.dialog = { version: doc.meta.version, busy: false, error: null, unsaved: false };
    await this.publish(tag, note);
  }

  async publish(tag: string, note: string): Promise<void> {
    if (!this.dialog) return;
    const { doc } = this.deps;
    const version = this.dialog.version;
    this.dialog = { ...this.dialog, busy: true, error: null };
    const { ok, error, statusText } = await this.deps.publish(version, tag || null, note || null);
    if (ok) {
      this.dialog = null;
      doc.meta = { ...doc.meta, published_version: version } as WorkflowDetail;
      doc.historyKey += 1;
      void doc.validate();
      this.deps.notify(`Published version ${version}${tag ? ` as ${tag}` : ''}`, 'success');
      return;
    }
    const problem = error as { detail?: string; errors?: Problem[] } | undefined;
    const count = problem?.errors?.length ?? 0;
    this.dialog = {
      version,
      unsaved: this.dialog?.unsaved ?? false,
      busy: false,
      error: `${problem?.detail ?? statusText}${count ? ' — see the problems panel' : ''}`,
    };
    // The refusal is about what the canvas shows: list why in the problems panel.
    if (count && version === doc.baseVersion && !doc.dirty && problem?.errors) {
      doc.showProblems(problem.errors);
    }
  }
}

export interface RevertDeps {
  doc: EditorDocument;
  /** Make a new head with the content of version `number`. */
  revert: (number: number) => Promise<WorkflowDetail>;
  /** Back to the canvas, with no undo history (the revert replaced it). */
  reset: () => void;
  notify: Notify;
}

/** Revert asks first, in the app's own dialog. */
export class RevertFlow {
  dialog = $state<{ number: number; busy: boolean } | null>(null);
  private readonly deps: RevertDeps;

  constructor(deps: RevertDeps) {
    this.deps = deps;
  }

  ask(number: number): void {
    this.dialog = { number, busy: false };
  }

  cancel(): void {
    this.dialog = null;
  }

  async confirm(): Promise<boolean> {
    if (!this.dialog) return false;
    const number = this.dialog.number;
    this.dialog = { number, busy: true };
    try {
      const detail = await this.deps.revert(number);
      this.deps.reset();
      this.deps.doc.replaced(detail);
      this.deps.notify(`Reverted to version ${number}: now version ${detail.version}`, 'success');
      return true;
    } catch (failure) {
      this.deps.notify(describeError(failure), 'error');
      return false;
    } finally {
      this.dialog = null;
    }
  }
}
