// How much the V8 heap may grow between full collections. By default V8 lets the old generation
// reach up to four times the data that survived the last full collection when collecting is cheap
// next to allocating, which it is here: a gigabyte trace is millions of short-lived records. With
// a reader thread feeding the replay (ingest/worker-read.ts), that put the peak RSS of the 1 GiB
// bench between 220 and 380 MiB (live data after each full collection: 20-40 MiB). At 1.75 times
// the live data it stayed at 187-214 MiB over 14 interleaved runs (at 2 times: 183-279 MiB), with
// no time difference beyond this machine's run-to-run noise (same script, same file).
// The flag is read at each collection, so setting it at start-up is enough.
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 75;

/**
 * V8 flags the bin starts node with (its `#!` line, src/cli/main.ts; they cannot be set once the
 * heap exists). The old generation starts at 64 MiB and is not collected below that: with growth
 * capped as above, the 16-25 MB of live data a long trace keeps meant a full collection every
 * ~100 ms (86-99 on the 1 GiB ftrace bench trace, 48 on the log). Measured, 2 interleaved rounds
 * each: 1 GiB log 6.5-6.9 -> 5.6 s and 11.8-12.2 -> 10.0-10.1 CPU s, peak RSS 211 -> 222-227 MiB;
 * ftrace 9.4-9.6 -> 7.3-7.6 s (26-27 full collections); 10,000 migrations 171-194 MiB; at 96 MiB
 * the ftrace check was faster again but peaked at 281-288 MiB.
 */
export const V8_STARTUP_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
