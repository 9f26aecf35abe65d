// Worker-thread entry: reads one input with its format's reader (any format, .gz included) and
// posts the records in encoded batches (record-codec.ts), so parsing runs beside the replay on
// another core. At most WINDOW batches are in flight: the reader waits for the replay, and memory
// stays bounded whatever the input's size. The thread may start before its input is known
// (worker-read.ts warmReaders): its first message is the input's spec, the others are credits.
import { parentPort } from 'node:worker_threads';
import { RecordEncoder } from './record-codec.js';
import type { EncodedBatch } from './records.js';
import { InputError, newCounters, withFormatOptions } from './records.js';
import { loadFormat } from './format-modules.js';
import type { UnparsedSample } from '../types.js';
import { matchersOf } from '../model/catalog.js';
import type { WorkerReadSpec } from './worker-read.js';

const port = parentPort!;
let credits = 0;
let wake: (() => void) | null = null;
port.on('message', (m: WorkerReadSpec | number) => {
  if (typeof m === 'number') credits += m;
  else {
    credits = m.window;
    main(m).catch((e: unknown) => {
      const err = e as Error;
      port.postMessage({ type: 'error', input: e instanceof InputError, message: err.message });
    });
  }
  wake?.();
  wake = null;
});

async function main(spec: WorkerReadSpec): Promise<void> {
  const counters = newCounters(spec.path);
  let samples: UnparsedSample[] = [];
  const format = withFormatOptions(await loadFormat(spec.format), { ...(spec.traceEvents ? { traceEvents: spec.traceEvents } : {}), ...(spec.tid !== undefined ? { tid: spec.tid } : {}) });
  const enc = new RecordEncoder(matchersOf(spec.patterns));
  const readOpts = { maxSamples: spec.maxSamples, onUnparsed: (s: UnparsedSample) => samples.push(s) };
  // Line-based formats fill the encoder as they read (no record objects for what it can scan as
  // bytes); others yield records, encoded here.
  const batches: AsyncIterable<EncodedBatch> = format.readEncoded
    ? format.readEncoded(spec.path, spec.input, spec.side, counters, readOpts, enc)
    : (async function* () {
        for await (const records of format.read(spec.path, spec.input, spec.side, counters, readOpts)) yield enc.encode(records);
      })();
  for await (const batch of batches) {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
    const { notes: _n, ...counts } = counters;
    const transfer = [batch.meta.buffer as ArrayBuffer];
    // The line bytes' buffer is the batch's own (lines.ts allocates one per batch).
    if (batch.lineBytes) transfer.push(batch.lineBytes.bytes.buffer as ArrayBuffer, batch.lineBytes.starts.buffer as ArrayBuffer, batch.lineBytes.ends.buffer as ArrayBuffer);
    if (batch.lineBytes?.offsets) transfer.push(batch.lineBytes.offsets.buffer as ArrayBuffer);
    port.postMessage({ type: 'batch', batch, counters: counts, samples }, transfer);
    samples = [];
  }
  port.postMessage({ type: 'end', counters, samples });
}

