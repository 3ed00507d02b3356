// The workflow being edited, apart from its drawing: the version it started
// from, unsaved changes, saving (PUT, or a JSON Patch when smaller), a stale
// save's conflict, live validation and the local draft. The canvas itself
// (nodes and edges) stays in the Workbench, which hands this class a way to
// read it (`current`) and to redraw it (`show`); the server calls are injected
// so all of this is tested without a browser or a server.
import { describeError } from '../api/client';
import type { Conflict, Definition, Problem, ProblemDetails, ValidationResult, WorkflowDetail, WorkflowSaved } from '../api/types';
import { fingerprint, hasUnsavedChanges } from '../dirty';
import type { DraftStore, LocalDraft } from '../drafts';
import { normalizeDefinition } from '../graph';
import { smallerPatch, type PatchOperation } from '../jsonPatch';
import { locateProblems, type LocatedProblem } from '../problems';

export type Notify = (text: string, kind: 'success' | 'error' | 'info', ms?: number) => void;

/**
 * What a save request answered: the saved workflow, or the error body with the
 * status. Saves ask for `Prefer: return=minimal`, so `data.definition` is left
 * out unless the save was merged: what was saved is then what was sent.
 */
export interface SaveResponse {
  data?: WorkflowSaved;
  error?: unknown;
  status: number;
  statusText: string;
}

export interface SaveBody {
  definition: Record<string, unknown>;
  message: string;
}

export interface DocumentApi {
  /** PUT the whole definition, If-Match the version it started from. */
  put: (workflowId: string, ifMatch: number, body: SaveBody) => Promise<SaveResponse>;
  /** PATCH the definition with a JSON Patch, If-Match the version it started from. */
  patch: (workflowId: string, ifMatch: number, patch: PatchOperation[], message: string) => Promise<SaveResponse>;
  /** The workflow's head as the server holds it now. */
  load: (workflowId: string) => Promise<WorkflowDetail>;
  validate: (definition: Definition) => Promise<ValidationResult>;
}

export interface DocumentDeps {
  project: string;
  api: DocumentApi;
  drafts: DraftStore;
  /** The canvas as a definition. */
  current: () => Definition;
  /** Draw a definition on the canvas (keeping the selected steps selected when asked). */
  show: (definition: Definition, keepSelection: boolean) => void;
  notify: Notify;
  /** How long live validation waits after an edit (longer for big workflows). */
  validateDelay?: () => number;
  now?: () => Date;
}

export class EditorDocument {
  meta = $state<WorkflowDetail>() as WorkflowDetail;
  /** The version the canvas's edits started from (an If-Match of the save). */
  baseVersion = $state(0);
  dirty = $state(false);
  /** The save's message. */
  message = $state('');
  saving = $state(false);
  /** A stale save's conflicting paths, until the user chooses what to do. */
  conflict = $state<{ conflicts: Conflict[]; head: number | null } | null>(null);
  problems = $state.raw<LocatedProblem[]>([]);
  checking = $state(false);
  checkError = $state<string | null>(null);
  /** A draft of unsaved changes found on this device, offered back. */
  recoverable = $state<LocalDraft | null>(null);
  /** Another open tab holds unsaved edits of this workflow (its draft is its own). */
  elsewhere = $state(false);
  /** Bumped whenever the history may have changed (the history panel reloads). */
  historyKey = $state(0);

  /** What the server holds as the base version: a save patches it when that is smaller. */
  private savedDefinition: { version: number; definition: unknown } | null = null;
  /** The saved version's definition, to tell "unsaved changes" by content. */
  private savedFingerprint = '';
  private draftTimer: ReturnType<typeof setTimeout> | undefined;
  private validateTimer: ReturnType<typeof setTimeout> | undefined;
  private validation = 0;
  private readonly deps: DocumentDeps;

  constructor(initial: WorkflowDetail, deps: DocumentDeps) {
    this.deps = deps;
    this.adopt(initial);
  }

  get project(): string {
    return this.deps.project;
  }

  /** Show a version as saved: the canvas, its fingerprint, its problems. */
  adopt(detail: WorkflowDetail, options: { keepSelection?: boolean; keepProblems?: boolean } = {}): void {
    const def = normalizeDefinition(detail.definition);
    this.meta = detail;
    this.baseVersion = detail.version;
    this.savedDefinition = { version: detail.version, definition: detail.definition };
    this.deps.show(def, options.keepSelection ?? false);
    this.savedFingerprint = fingerprint(this.deps.current());
    // The stored problems omit the checks that depend on the project (secrets):
    // callers that keep the current ones ask the server again right after.
    if (!options.keepProblems) this.problems = locateProblems(def, detail.problems);
    this.dirty = false;
  }

  /** After every change of the canvas: dirty flag, then (debounced) local draft and validation. */
  changed(): void {
    this.dirty = this.baseVersion !== this.meta.version || hasUnsavedChanges(this.deps.current(), this.savedFingerprint);
    clearTimeout(this.draftTimer);
    this.draftTimer = setTimeout(() => this.keepDraft(), 300);
    clearTimeout(this.validateTimer);
    this.validateTimer = setTimeout(() => void this.validate(), this.deps.validateDelay?.() ?? 500);
  }

  /** Write this tab's draft now (or drop it when the canvas is back to the saved state). */
  keepDraft(): void {
    const { drafts, project } = this.deps;
    if (!this.dirty) {
      // Back to the saved state (undo): the draft has nothing to offer any more.
      drafts.discardOwn(project, this.meta.id);
      return;
    }
    drafts.save({
      project,
      workflowId: this.meta.id,
      baseVersion: this.baseVersion,
      definition: this.deps.current(),
      message: this.message,
      savedAt: (this.deps.now?.() ?? new Date()).toISOString(),
    });
  }

  /** Write the draft now instead of later (leaving the page). */
  flushDraft(): void {
    clearTimeout(this.draftTimer);
    if (this.dirty) this.keepDraft();
  }

  /** Ask the server for the canvas's problems; only the latest answer is shown. */
  async validate(): Promise<void> {
    const ticket = ++this.validation;
    const def = this.deps.current();
    this.checking = true;
    try {
      const result = await this.deps.api.validate(def);
      if (ticket !== this.validation) return;
      this.problems = locateProblems(def, [...result.errors, ...result.warnings]);
      this.checkError = null;
    } catch (failure) {
      if (ticket === this.validation) this.checkError = describeError(failure);
    } finally {
      if (ticket === this.validation) this.checking = false;
    }
  }

  /** Problems the server reported for the canvas (a failed publish of the head). */
  showProblems(errors: Problem[]): void {
    this.problems = locateProblems(this.deps.current(), errors);
  }

  cancelValidation(): void {
    clearTimeout(this.validateTimer);
  }

  /** Stop the pending draft and validation (the editor closes). */
  stop(): void {
    clearTimeout(this.draftTimer);
    clearTimeout(this.validateTimer);
  }

  /**
   * Save the canvas as a new version: a JSON Patch from the version the edit
   * started from when smaller than the document, else a PUT; both If-Match
   * that version. True when saved.
   */
  async save(): Promise<boolean> {
    if (this.saving) return false;
    clearTimeout(this.validateTimer);
    const { api, notify } = this.deps;
    const def = this.deps.current();
    this.saving = true;
    try {
      const body: SaveBody = { definition: def as unknown as Record<string, unknown>, message: this.message.trim() };
      const base = this.baseVersion;
      const saved = this.savedDefinition;
      const patch = saved?.version === base ? smallerPatch(saved.definition, def, body) : null;
      const response = patch
        ? await api.patch(this.meta.id, base, patch, body.message)
        : await api.put(this.meta.id, base, body);
      const data = response.data;
      if (response.status >= 200 && response.status < 300 && data) {
        const wasHead = this.meta.version;
        // Left out (return=minimal) unless merged: then it is what was sent.
        const savedDef = data.definition ?? (def as unknown as Record<string, unknown>);
        this.adopt({ ...data, definition: savedDef }, { keepSelection: true, keepProblems: true });
        this.deps.drafts.discardOwn(this.deps.project, this.meta.id);
        this.recoverable = null;
        this.message = '';
        this.historyKey += 1;
        // What publishing will say about the saved version (secrets included).
        void this.validate();
        if (data.merged) {
          notify(`Merged with changes saved since version ${base}: saved as version ${data.version}`, 'success', 8000);
        } else if (data.version === wasHead) {
          notify('Nothing changed since the last version', 'info');
        } else {
          notify(`Saved version ${data.version}`, 'success');
        }
        return true;
      }
      // The declared error body (`Problem`), with a stale save's members.
      const problem = typeof response.error === 'object' && response.error ? (response.error as ProblemDetails) : undefined;
      if (response.status === 409 && problem?.conflicts) {
        this.conflict = { conflicts: problem.conflicts, head: problem.head_version ?? null };
      } else if (response.status === 422 && problem?.errors) {
        this.problems = locateProblems(def, problem.errors);
        notify(`Not saved: ${problem.detail ?? 'the definition has structural problems'}`, 'error', 8000);
      } else if (response.status === 412) {
        notify('The version you started from no longer exists: reload to continue', 'error', 8000);
      } else {
        notify(`Not saved: ${problem?.detail ?? response.statusText}`, 'error', 8000);
      }
    } catch (failure) {
      notify(`Not saved: ${describeError(failure)}. Your changes are kept on this device.`, 'error', 8000);
    } finally {
      this.saving = false;
    }
    return false;
  }

  /**
   * The conflict's "reload": show the head, keeping the dropped edits as this
   * tab's draft, offered back right away. True when the head was loaded.
   */
  async reloadLatest(): Promise<boolean> {
    this.conflict = null;
    clearTimeout(this.draftTimer);
    this.keepDraft();
    try {
      const detail = await this.deps.api.load(this.meta.id);
      this.adopt(detail);
      this.historyKey += 1;
      void this.validate();
      this.recoverable = this.deps.drafts.recoverable(this.deps.project, this.meta.id);
      this.deps.notify(`Showing the latest version (${detail.version}); your changes are kept as a draft`, 'info');
      return true;
    } catch (failure) {
      this.deps.notify(describeError(failure), 'error');
      return false;
    }
  }

  /** The conflict's "overwrite": save again on top of the head. */
  overwrite(): Promise<boolean> {
    if (!this.conflict?.head) return Promise.resolve(false);
    this.baseVersion = this.conflict.head;
    this.conflict = null;
    return this.save();
  }

  /** A new head made elsewhere (a revert): show it, nothing unsaved any more. */
  replaced(detail: WorkflowDetail): void {
    this.adopt(detail);
    this.deps.drafts.discardOwn(this.deps.project, this.meta.id);
    this.historyKey += 1;
    void this.validate();
  }

  /** On opening: a draft of this workflow that differs from the saved version is offered back. */
  recover(): void {
    const { drafts, project } = this.deps;
    const found = drafts.recoverable(project, this.meta.id);
    if (found && hasUnsavedChanges(normalizeDefinition(found.definition), this.savedFingerprint)) {
      this.recoverable = found;
    } else if (found) {
      drafts.remove(found);
    }
    this.elsewhere = drafts.editedElsewhere(project, this.meta.id);
  }

  /** Put the offered draft on the canvas; this tab keeps it from now on. */
  restoreDraft(): boolean {
    const taken = this.recoverable;
    if (!taken) return false;
    this.deps.show(normalizeDefinition(taken.definition), false);
    this.baseVersion = taken.baseVersion;
    this.message = taken.message;
    this.recoverable = null;
    this.changed();
    // This tab keeps the edits from now on (under its own name).
    this.deps.drafts.remove(taken);
    this.keepDraft();
    this.deps.notify(
      this.baseVersion === this.meta.version
        ? 'Unsaved changes restored'
        : `Unsaved changes restored; they started from version ${this.baseVersion} and will be merged when you save`,
      'success',
      8000,
    );
    return true;
  }

  discardDraft(): void {
    this.deps.drafts.discard(this.deps.project, this.meta.id);
    this.recoverable = null;
  }
}
