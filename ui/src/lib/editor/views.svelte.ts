// What the editor's centre shows: the canvas, one old version (read-only) or
// two versions compared; the choice is kept in the address (?version=,
// ?compare=a..b) so a view can be linked and survives a reload.
import { describeError } from '../api/client';
import type { CompareView, VersionView } from '../versionViews';

export type EditorMode = { kind: 'edit' } | VersionView | CompareView;

export interface ViewsDeps {
  loadVersion: (number: number) => Promise<VersionView>;
  loadCompare: (from: number, to: number) => Promise<CompareView>;
  setQuery: (query: Record<string, string | null>) => void;
  onerror: (message: string) => void;
}

export class HistoryViews {
  mode = $state.raw<EditorMode>({ kind: 'edit' });
  loading = $state(false);
  private readonly deps: ViewsDeps;

  constructor(deps: ViewsDeps) {
    this.deps = deps;
  }

  get editing(): boolean {
    return this.mode.kind === 'edit';
  }

  viewVersion(number: number): Promise<void> {
    return this.show(() => this.deps.loadVersion(number), { version: String(number), compare: null });
  }

  compare(from: number, to: number): Promise<void> {
    return this.show(() => this.deps.loadCompare(from, to), { compare: `${from}..${to}`, version: null });
  }

  leave(): void {
    this.mode = { kind: 'edit' };
    this.deps.setQuery({ version: null, compare: null });
  }

  /** Open the view the address asks for (`?version=3` or `?compare=2..5`), if any. */
  openFromQuery(search: string): Promise<void> | null {
    const query = new URLSearchParams(search);
    const version = Number(query.get('version'));
    const pair = /^(\d+)\.\.(\d+)$/.exec(query.get('compare') ?? '');
    if (pair) return this.compare(Number(pair[1]), Number(pair[2]));
    if (Number.isInteger(version) && version > 0) return this.viewVersion(version);
    return null;
  }

  private async show(load: () => Promise<VersionView | CompareView>, query: Record<string, string | null>): Promise<void> {
    this.loading = true;
    try {
      this.mode = await load();
      this.deps.setQuery(query);
    } catch (failure) {
      this.deps.onerror(describeError(failure));
    } finally {
      this.loading = false;
    }
  }
}
