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

export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
