// Builds a large `simple` binary trace pair from the real .simple files of the self-built QEMU
// 10.0.13 run (traces/10.0.13-selfbuilt/*compat-simple*): the header and the mapping records once
// (QEMU writes every mapping when it opens the file), then the event records again and again, each
// repetition shifted in time after the previous one ended (both files by the same amount: one
// host's CLOCK_MONOTONIC), byte order and process ids kept. The result reads like one long-lived
// pair of QEMU processes migrating over and over. The build's trace-events-all goes beside them.
import { copyFileSync, createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MadeSimple {
  src: string;
  dst: string;
  bytes: number;
  /** Records of both files, header included: events, mappings. */
  events: number;
  mappings: number;
  repetitions: number;
}

interface Parsed {
  head: Buffer; // header and mapping records
  events: Buffer[]; // event records, each its own bytes
  mappings: number;
  t0: bigint;
  t1: bigint;
}

/** Splits a little-endian simple trace (as x86 QEMU writes it) into its mapping part and events. */
function parse(path: string): Parsed {
  const b = readFileSync(path);
  let o = 24;
  let mappings = 0;
  const events: Buffer[] = [];
  let headEnd = 24;
  let t0 = -1n;
  let t1 = 0n;
  while (o + 8 <= b.length) {
    const type = b.readUInt32LE(o);
    const len = type === 0 ? 20 + b.readUInt32LE(o + 16) : 8 + b.readUInt32LE(o + 24);
    if (type === 0) {
      if (events.length) throw new Error(`${path}: a mapping record after events (the generator writes mappings once, up front)`);
      mappings++;
      headEnd = o + len;
    } else {
      const ts = b.readBigUInt64LE(o + 16);
      if (t0 < 0n || ts < t0) t0 = ts;
      if (ts > t1) t1 = ts;
      events.push(b.subarray(o, o + len));
    }
    o += len;
  }
  if (o !== b.length) throw new Error(`${path}: ${b.length - o} trailing bytes`);
  return { head: b.subarray(0, headEnd), events, mappings, t0, t1 };
}

async function write(stream: NodeJS.WritableStream, b: Buffer): Promise<void> {
  if (!stream.write(b)) await new Promise((r) => stream.once('drain', r));
}

/** `runDir` holds src.simple, dst.simple and trace-events-all; the pair grows to about `targetBytes`. */
export async function makeSimpleTrace(runDir: string, outDir: string, targetBytes: number): Promise<MadeSimple> {
  const sides = { src: parse(join(runDir, 'src.simple')), dst: parse(join(runDir, 'dst.simple')) };
  copyFileSync(join(runDir, 'trace-events-all'), join(outDir, 'trace-events-all'));
  const t0 = sides.src.t0 < sides.dst.t0 ? sides.src.t0 : sides.dst.t0;
  const t1 = sides.src.t1 > sides.dst.t1 ? sides.src.t1 : sides.dst.t1;
  const period = t1 - t0 + 1_000_000_000n; // a second between repetitions
  const out = { src: createWriteStream(join(outDir, 'src.simple')), dst: createWriteStream(join(outDir, 'dst.simple')) };
  let bytes = 0;
  let events = 0;
  for (const side of ['src', 'dst'] as const) {
    await write(out[side], sides[side].head);
    bytes += sides[side].head.length;
  }
  const perRep = sides.src.events.reduce((a, e) => a + e.length, 0) + sides.dst.events.reduce((a, e) => a + e.length, 0);
  const reps = Math.max(1, Math.round((targetBytes - bytes) / perRep));
  for (let rep = 0; rep < reps; rep++) {
    const shift = BigInt(rep) * period;
    for (const side of ['src', 'dst'] as const) {
      const evs = sides[side].events;
      const chunk = Buffer.allocUnsafe(evs.reduce((a, e) => a + e.length, 0));
      let o = 0;
      for (const e of evs) {
        e.copy(chunk, o);
        chunk.writeBigUInt64LE(e.readBigUInt64LE(16) + shift, o + 16);
        o += e.length;
      }
      await write(out[side], chunk);
      bytes += chunk.length;
      events += evs.length;
    }
  }
  await Promise.all([out.src, out.dst].map((s) => new Promise((r) => s.end(r))));
  return { src: join(outDir, 'src.simple'), dst: join(outDir, 'dst.simple'), bytes, events, mappings: sides.src.mappings + sides.dst.mappings, repetitions: reps };
}
