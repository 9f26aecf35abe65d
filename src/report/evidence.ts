// How every report shows a finding's evidence and heads its locations, so the formats agree.
import type { Finding, FindingEvidence, LocationHeadings } from '../types.js';

/** `pause-after-quit, cleanup hung`: the kind, then what this run adds. */
export function evidenceText(e: FindingEvidence): string {
  return e.qualifier ? `${e.kind}, ${e.qualifier}` : e.kind;
}

const DEFAULT_HEADINGS: LocationHeadings = { first: 'Access', second: 'Conflicts with' };

/** The rule's headings for the first two locations: an access and the one it conflicts with, unless it says otherwise. */
export function headings(f: Finding): LocationHeadings {
  return f.headings ?? DEFAULT_HEADINGS;
}
