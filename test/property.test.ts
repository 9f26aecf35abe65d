// Property tests (fast-check): whatever bytes come in, the parsers and the replay never throw, and
// every line is accounted for exactly once. Bounded: a few hundred cases, a few seconds.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { splitLines } from '../src/ingest/lines.js';
import { newByteEvent, newScratch, parseInto, parseLogLine, scanEventBytes } from '../src/ingest/log-format.js';
import { loadCatalog } from '../src/model/catalog.js';
import { analyzeRun } from '../src/replay/run.js';
import { RULES } from '../src/rules/index.js';
import { InputError } from '../src/ingest/trace-input.js';
import { ROOT, tempRun } from './helpers.js';

const KINDS = new Set(['event', 'message', 'unparsed', 'blank']);
const catalog = loadCatalog();

/** `bytes` cut at the given lengths (the rest in one last piece). */
function cutInto(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const c of cuts) {
    if (at >= bytes.length) break;
    chunks.push(bytes.subarray(at, at + c));
    at += c;
  }
  if (at < bytes.length) chunks.push(bytes.subarray(at));
  return chunks;
}

/** Lines as bytes without strings (strings: false), each with its offset in the input. */
async function collectBytes(chunks: Uint8Array[], maxLineBytes = 64): Promise<Array<{ offset: number; line: Buffer; cut: boolean }>> {
  async function* src() {
    for (const c of chunks) yield Buffer.from(c);
  }
  const out: Array<{ offset: number; line: Buffer; cut: boolean }> = [];
  for await (const b of splitLines(src(), { maxLineBytes, batchLines: 3, strings: false })) {
    assert.equal(b.lines.length, 0, 'no strings asked');
    const lb = b.bytes!;
    for (let j = 0; j < b.count; j++) out.push({ offset: lb.offsets[j]!, line: Buffer.from(lb.bytes.subarray(lb.starts[j], lb.ends[j])), cut: b.overlong.includes(b.firstLine + j) });
  }
  return out;
}

async function collect(chunks: Uint8Array[], maxLineBytes = 64): Promise<{ lines: string[]; overlong: number[] }> {
  async function* src() {
    for (const c of chunks) yield Buffer.from(c);
  }
  const lines: string[] = [];
  const overlong: number[] = [];
  for await (const b of splitLines(src(), { maxLineBytes, batchLines: 3 })) {
    lines.push(...b.lines);
    overlong.push(...b.overlong);
  }
  return { lines, overlong };
}

describe('properties: parsing', () => {
  it('parseLogLine never throws and always classifies', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^\d{1,7}@\d{1,10}\.\d{0,8}:[a-z_]{0,12}( .{0,20})?$/)), (line) => {
        assert.ok(KINDS.has(parseLogLine(line).kind));
      }),
      { numRuns: 2000 },
    );
  });

  it('a well-formed TID@sec.usec line always parses to its fields', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4_000_000 }),
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.stringMatching(/^[a-z][a-z0-9]{0,8}_[a-z0-9_]{0,12}$/),
        fc.stringMatching(/^[ -~]{0,40}$/),
        (tid, sec, us, name, args) => {
          const p = parseLogLine(`${tid}@${sec}.${String(us).padStart(6, '0')}:${name} ${args}`);
          assert.equal(p.kind, 'event');
          if (p.kind !== 'event') return;
          assert.equal(p.tid, tid);
          assert.equal(p.ts, sec * 1e6 + us);
          assert.equal(p.name, name);
          assert.equal(p.args, args.trimEnd());
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("the byte scanner (reader threads' hot path) reads a line exactly as parseInto does, or leaves it to it", () => {
    // Lines near the hot form, damaged in the ways that must send them to parseInto: non-ASCII,
    // ESC, NUL, CR, a missing piece, a name without '_', trailing blanks.
    const piece = fc.oneof(fc.constantFrom('12', '0', '@', '.', ':', '_', ' ', '\t', '\x1b[0m', '\r', '\0', 'é', '✓', '\uFFFD', 'migrate_set_state', 'ram', 'x', 'chan=1 addr=0x10'), fc.string({ maxLength: 6 }));
    const nearHot = fc.tuple(fc.integer({ min: 0, max: 9_999_999 }), fc.integer({ min: 0, max: 99_999 }), fc.stringMatching(/^\d{0,9}$/), fc.array(piece, { maxLength: 8 })).map(([t, s, f, rest]) => `${t}@${s}.${f}:${rest.join('')}`);
    const s = newScratch();
    const e = newByteEvent();
    let scanned = 0;
    fc.assert(
      fc.property(fc.oneof(nearHot, fc.string(), fc.stringMatching(/^\d{1,7}@\d{1,10}\.\d{1,8}:[a-z][a-z0-9_]{0,12}( [ -~]{0,20})? {0,3}$/)), (line) => {
        const bytes = Buffer.from(line, 'utf8');
        const taken = scanEventBytes(bytes, 0, bytes.length, e);
        if (!/[^\x00-\x7f]|\x1b/.test(line)) {
          // A batch known to be ASCII without ESC skips the argument check: same answer.
          const e2 = newByteEvent();
          assert.equal(scanEventBytes(bytes, 0, bytes.length, e2, true), taken, line);
          if (taken) assert.deepEqual(e2, e);
        }
        if (!taken) return;
        scanned++;
        s.argsAt = -1;
        assert.equal(parseInto(line, s), 'event', line);
        assert.deepEqual([e.tid, e.ts, line.slice(e.nameStart, e.nameEnd), line.slice(e.argsAt, e.argsEnd), e.argsAt], [s.tid, s.ts, s.name, s.args, s.argsAt], line);
        assert.equal(s.embedded, false);
      }),
      { numRuns: 4000 },
    );
    assert.ok(scanned > 500, `the hot form was generated (${scanned})`);
  });

  it('the byte scanner reads an ISO-prefixed line (QEMU >= 10.1) exactly as parseInto does, damaged ones included, or leaves it to it', () => {
    // Fields in and out of range (month 13, day 31 of a 30-day month, 29 February of leap and
    // common years, hour 24, second 60, year 0050: parseInto takes them as Date.UTC does), the
    // fraction QEMU writes (6 digits, none on a whole second) and others (1-10 digits, a bare '.'),
    // a missing or other zone, damaged separators, and the pieces after it that the TID form gets.
    // Each piece is mostly right, so that a line usually has just one or two things wrong with it.
    const mostly = <T>(right: fc.Arbitrary<T>, wrong: fc.Arbitrary<T>) => fc.oneof({ arbitrary: right, weight: 6 }, { arbitrary: wrong, weight: 1 });
    const two = mostly(fc.oneof(fc.constantFrom('00', '01', '02', '09', '12', '13', '23', '24', '28', '29', '30', '31', '59', '60', '99'), fc.stringMatching(/^\d\d$/)), fc.constantFrom('1', '123', 'x1', ' 1', ''));
    const year = mostly(fc.oneof(fc.constantFrom('2026', '2024', '2023', '2000', '1900', '1970', '1969', '0050', '0000', '9999'), fc.stringMatching(/^\d{4}$/)), fc.stringMatching(/^\d{0,6}$/));
    const frac = fc.oneof(fc.stringMatching(/^\d{6}$/).map((f) => `.${f}`), fc.constant(''), fc.stringMatching(/^\d{0,11}$/).map((f) => `.${f}`), fc.constantFrom('.', ',123456', '.12a'));
    const zone = mostly(fc.constant('Z '), fc.constantFrom('Z', 'z ', ' ', '+00:00 ', 'Z\t', 'ZZ ', 'Z  '));
    const sep = (c: string) => mostly(fc.constant(c), fc.constantFrom('-', ':', 'T', ' ', '.', '', '/', 't'));
    const piece = fc.oneof(fc.constantFrom('_', ' ', '\t', '\x1b[0m', '\r', '\0', 'é', '✓', 'migrate_set_state', 'qemu-system-x86_64: ', 'ram', 'x', 'chan=1 addr=0x10', 'prog(12:main): ', '3@1.000001:a_b'), fc.string({ maxLength: 6 }));
    const event = fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,6}_[A-Za-z0-9_]{0,8}$/), fc.stringMatching(/^( [ -~]{0,20})?[ \t]{0,2}$/)).map(([n, a]) => n + a);
    const rest = mostly(event, fc.array(piece, { maxLength: 6 }).map((ps) => ps.join('')));
    const nearIso = fc
      .tuple(year, sep('-'), two, sep('-'), two, sep('T'), two, sep(':'), two, sep(':'), two, frac, zone, rest)
      .map(([y, s1, mo, s2, d, s3, h, s4, mi, s5, sec, f, z, r]) => `${y}${s1}${mo}${s2}${d}${s3}${h}${s4}${mi}${s5}${sec}${f}${z}${r}`);
    const wellFormed = fc
      .tuple(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2199-12-31T23:59:59Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 999_999 }), fc.boolean(), fc.stringMatching(/^[a-z][a-z0-9]{0,8}_[a-z0-9_]{0,12}$/), fc.stringMatching(/^( [ -~]{0,30})? {0,2}$/))
      .map(([d, us, whole, name, args]) => `${d.toISOString().slice(0, 19)}${whole ? '' : `.${String(us).padStart(6, '0')}`}Z ${name}${args}`);
    const s = newScratch();
    const e = newByteEvent();
    let scanned = 0;
    fc.assert(
      fc.property(fc.oneof(nearIso, nearIso, nearIso, wellFormed), (line) => {
        const bytes = Buffer.from(line, 'utf8');
        const taken = scanEventBytes(bytes, 0, bytes.length, e);
        if (!/[^\x00-\x7f]|\x1b/.test(line)) {
          const e2 = newByteEvent();
          assert.equal(scanEventBytes(bytes, 0, bytes.length, e2, true), taken, line);
          if (taken) assert.deepEqual(e2, e);
        }
        s.argsAt = -1;
        const kind = parseInto(line, s);
        // A plain ASCII ISO-prefixed event line is never left to the string parser: that is the speed.
        if (kind === 'event' && s.tid === null && s.ts !== null && !s.embedded && s.argsAt >= 0 && !/[^\x00-\x7f]|\x1b/.test(line)) assert.ok(taken, `not scanned: ${JSON.stringify(line)}`);
        if (!taken) return;
        scanned++;
        assert.equal(kind, 'event', line);
        assert.deepEqual([e.tid, e.ts, line.slice(e.nameStart, e.nameEnd), line.slice(e.argsAt, e.argsEnd), e.argsAt], [s.tid, s.ts, s.name, s.args, s.argsAt], line);
        assert.equal(s.embedded, false);
      }),
      { numRuns: 6000 },
    );
    assert.ok(scanned > 1000 && scanned < 5000, `the ISO form was generated, and damaged (${scanned} of 6000 scanned)`);
  });

  it('an ISO line and the same event as TID@sec.usec: get the same time, in and out of the minute cache', () => {
    // Independent of parseInto: the TID form's µs are plain digits. Times jump back and forth, so
    // the scanner's cached minute is both hit and missed.
    const e = newByteEvent();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 7_258_118_399_999_999 }), { minLength: 1, maxLength: 20 }), fc.boolean(), (times, near) => {
        for (const t0 of times) {
          const t = near ? 1_800_000_000_000_000 + (t0 % 600_000_000) : t0;
          const us = t % 1e6;
          const iso = `${new Date((t - us) / 1000).toISOString().slice(0, 19)}${us === 0 ? '' : `.${String(us).padStart(6, '0')}`}Z mig_x a`;
          const b = Buffer.from(iso);
          assert.ok(scanEventBytes(b, 0, b.length, e), iso);
          assert.equal(e.ts, t, iso);
          assert.equal(e.tid, null);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('splitting bytes into lines does not depend on how the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 20 }), async (bytes, cuts) => {
        const chunks = cutInto(bytes, cuts);
        const whole = await collect([bytes]);
        const pieces = await collect(chunks);
        assert.deepEqual(pieces, whole);
        // One line per '\n', plus a last unterminated one.
        const nl = bytes.filter((b) => b === 10).length;
        const tail = bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? 1 : 0;
        assert.equal(whole.lines.length, nl + tail);
      }),
      { numRuns: 300 },
    );
  });

  it("kept line bytes and their offsets (read back from the file later) do not depend on chunking either", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 20 }), async (bytes, cuts) => {
        const chunks = cutInto(bytes, cuts);
        const whole = await collectBytes([bytes]);
        const pieces = await collectBytes(chunks);
        assert.deepEqual(pieces, whole);
        const all = Buffer.from(bytes);
        whole.forEach(({ offset, line, cut }, i) => {
          // The line starts at its offset in the input: what read-back.ts reads (cut lines: their first bytes).
          if (!cut) assert.deepEqual(all.subarray(offset, offset + line.length), line, `line ${i + 1}`);
          assert.equal(offset === 0 || all[offset - 1] === 10, true, `line ${i + 1} starts after a newline`);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('properties: the whole replay on damaged real traces', () => {
  // A real racy run, cut to its interesting part to keep each case fast.
  const real = (f: string) => readFileSync(join(ROOT, 'traces/10.0.13/c-postcopy-preempt-pre72-1', f), 'utf8').split('\n').filter(Boolean);
  const srcLines = real('src.log');
  const dstLines = real('dst.log').filter((_, i) => i % 5 === 0 || i > 10000);

  const damage = fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('dup' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('swap' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('garbage' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 80 }) }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), keep: fc.nat({ max: 30 }) }),
      fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
    ),
    { maxLength: 12 },
  );

  function apply(lines: string[], ops: Array<{ op: string; at: number; text?: string; keep?: number }>): string[] {
    const out = [...lines];
    for (const o of ops) {
      if (out.length === 0) break;
      const i = o.at % out.length;
      if (o.op === 'drop') out.splice(i, 1);
      else if (o.op === 'dup') out.splice(i, 0, out[i]!);
      else if (o.op === 'swap' && i + 1 < out.length) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
      else if (o.op === 'garbage') out.splice(i, 0, (o.text ?? '').replace(/\n/g, ' '));
      else if (o.op === 'truncate') out[i] = out[i]!.slice(0, o.keep);
      else if (o.op === 'cut') out.length = Math.max(1, i);
    }
    return out;
  }

  it('never throws, keeps line accounting exact, and reaches a verdict', async () => {
    await fc.assert(
      fc.asyncProperty(damage, damage, fc.boolean(), async (ds, dd, crlf) => {
        const eol = crlf ? '\r\n' : '\n';
        const dir = tempRun({});
        const src = apply(srcLines, ds);
        const dst = apply(dstLines, dd);
        const text = (ls: string[]) => (ls.length ? ls.join(eol) + eol : '');
        writeFileSync(join(dir, 'src.log'), text(src));
        writeFileSync(join(dir, 'dst.log'), text(dst));
        let r;
        try {
          r = await analyzeRun(
            { name: 'p', inputs: [{ path: join(dir, 'src.log'), side: 'src' }, { path: join(dir, 'dst.log'), side: 'dst' }] },
            { rules: RULES, catalog, stuckAfterMs: 1000, maxUnparsedSamples: 5 },
          );
        } catch (e) {
          // The one acceptable failure: an input with no trace in it, named (the CLI exits 2).
          assert.ok(e instanceof InputError, String(e));
          assert.match((e as Error).message, /(src|dst)\.log(:\d+)?: not a recognised trace/);
          return;
        }
        assert.ok(['clean', 'findings', 'inconclusive'].includes(r.verdict));
        for (const c of r.dataQuality.perInput) assert.equal(c.events + c.messages + c.unparsed + c.blank, c.lines);
        assert.equal(r.stats.lines, src.length + dst.length);
        // A verdict of "clean" never comes with an undecided rule.
        if (r.verdict === 'clean') assert.equal(r.inconclusive.length, 0);
      }),
      { numRuns: 40 },
    );
  });
});
