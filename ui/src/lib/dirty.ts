// "Unsaved changes" means the canvas differs from the saved version, not that
// something was edited: undoing back to the saved state is clean again.
import type { Definition } from './api/types';

/** JSON with object keys sorted, so two equal definitions give the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(item).sort()) sorted[key] = (item as Record<string, unknown>)[key];
      return sorted;
    }
    return item;
  });
}

/** A fingerprint of a definition to compare the canvas against. */
export function fingerprint(definition: Definition): string {
  return canonicalJson(definition);
}

/** Whether the canvas holds changes that the saved version does not. */
export function hasUnsavedChanges(current: Definition, saved: string): boolean {
  return fingerprint(current) !== saved;
}
