// How much of a run the timeline keeps, per view, and the collector `check --html` gives each run.
import { TimelineCollector } from './collect.js';

/** Caps of the terminal view: a few thousand events are more than 80 columns can show anyway. */
export const TEXT_LIMITS = { maxFocusEvents: 5000, maxContextEvents: 0 } as const;
/** Caps of the HTML report: the browser stays responsive with this many (per-pixel buckets beyond). */
export const HTML_LIMITS = { maxFocusEvents: 50_000, maxContextEvents: 100_000 } as const;
export const DEFAULT_MARGIN_MS = 3;

/**
 * The HTML report's collector: the HTML caps, zoomed on the findings and the end of postcopy. In a
 * report of several runs (`several`) each run keeps the events of its windows and its lifecycle
 * events one by one, the rest as counts: every event of every run made the report of traces/ 54 MB
 * (10 MB so); a run's own report keeps them all.
 */
export function htmlCollector(several: boolean, marginMs = DEFAULT_MARGIN_MS): TimelineCollector {
  const limits = several ? { ...HTML_LIMITS, maxContextEvents: 0 } : HTML_LIMITS;
  const notes = several ? ['in a report of several runs, events outside the selected windows are shown as counts: this run alone (check RUN --html) keeps them one by one'] : [];
  return new TimelineCollector({ select: { kind: 'auto', marginUs: Math.round(marginMs * 1000) }, ...limits, notes });
}

/**
 * The HTML report's collector for one test of a suite's log: the HTML caps, the events outside the
 * test's windows as counts (a suite has many tests; every event of each made the page heavy).
 */
export function testHtmlCollector(marginMs = DEFAULT_MARGIN_MS): TimelineCollector {
  const notes = ["one test of a suite's log: events outside the selected windows are shown as counts"];
  return new TimelineCollector({ select: { kind: 'auto', marginUs: Math.round(marginMs * 1000) }, ...HTML_LIMITS, maxContextEvents: 0, notes });
}
