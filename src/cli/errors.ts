// Errors the user can act on: printed as one line (file:line where known), exit 2. Anything else
// is a bug in migtrace: printed as such, with the stack only under --debug.
import { PathError } from '../assembly/folders.js';
import { InputError } from '../ingest/trace-input.js';
import { CatalogError } from '../model/catalog.js';

export class UsageError extends Error {}

export function isKnownError(e: unknown): e is Error {
  return e instanceof UsageError || e instanceof PathError || e instanceof InputError || e instanceof CatalogError;
}

export function describeError(e: unknown, debug: boolean): string {
  if (isKnownError(e)) return `migtrace: error: ${e.message}`;
  const err = e instanceof Error ? e : new Error(String(e));
  return `migtrace: internal error: ${err.message}${debug ? `\n${err.stack}` : '\n(run again with --debug for the stack; please report it)'}`;
}
