// Turn a failed call into what a settings form shows: one readable sentence,
// and a message per field (from the problem's JSON Pointers) to highlight it.

export interface FormProblem {
  message: string;
  fields: Record<string, string>;
}

interface ProblemLike {
  status?: number;
  problem?: { detail?: string; title?: string; errors?: { path: string; message: string }[] } | null;
  message?: string;
}

/** The top-level field a JSON Pointer names (`/value` → `value`), or '' for the whole body. */
export function fieldOf(pointer: string): string {
  const first = pointer.split('/')[1] ?? '';
  return first.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function formProblem(error: unknown): FormProblem {
  const failure = (error ?? {}) as ProblemLike;
  const fields: Record<string, string> = {};
  for (const item of failure.problem?.errors ?? []) {
    const field = fieldOf(item.path);
    if (field && !(field in fields)) fields[field] = item.message;
  }
  const message =
    failure.problem?.detail ||
    failure.problem?.title ||
    (error instanceof Error ? error.message : null) ||
    String(error);
  return { message, fields };
}

/** A date for a table cell, or a dash when there is none. */
export function when(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
}
