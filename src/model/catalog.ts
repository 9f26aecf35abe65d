// The event catalog (catalog.csv beside this file): which thread emits each event, which QEMUFile
// it touches and how, for which versions, and what the model does with it. Loaded and validated
// once; extra catalogs (--catalog) add events or replace all rows of an event they name.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import type { Role } from '../types.js';
import { ACCESSES, QEMUFILES, ROLES, SIGNALS, WINDOWS, type QemuFileName, type Signal } from './signals.js';
import { intersect, isEmpty, overlaps, parseRange, type VersionRange } from './versions.js';

export interface CatalogRow {
  event: string;
  match: RegExp | null;
  side: 'src' | 'dst' | 'both';
  role: Role | '*';
  /**
   * The role that emits the event depends on the QEMU version (role column `rp>=8.0|migration<=7.2`):
   * each entry holds for its range. `role` is then '*'. Used to tell threads apart by event names.
   */
  roleByVersion: Array<{ role: Role; versions: VersionRange }> | null;
  identifies: 'anchor' | 'secondary' | null;
  qemufile: QemuFileName | null;
  access: (typeof ACCESSES)[number];
  window: (typeof WINDOWS)[number];
  versions: VersionRange;
  versionsText: string;
  signal: Signal;
  /** Index of `signal` in SIGNALS (what an episode records as seen, per side). */
  signalIndex: number;
  ref: string;
  /** Where the row was defined, for messages. */
  origin: string;
  /** Literal prefix of `match` (e.g. "chan=1"), tested before the regex. */
  matchPrefix: string | null;
  /** Named groups of `match`: the argument fields this row gives (fieldOf). */
  captures: string[];
  /** `match` is exactly `^<matchPrefix>`: no regex needed. */
  matchIsPrefix: boolean;
  /** Literal the match must end with (e.g. " flags=0x10" of `... flags=0x10$`), tested before the regex. */
  matchSuffix: string | null;
}

export class CatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid event catalog:\n  ${problems.join('\n  ')}`);
  }
}

export interface Catalog {
  /** Rows per event name, in file order (more specific match first). */
  byEvent: Map<string, CatalogRow[]>;
  /** The same rows prepared for lookup on the hot path: one map access per event. */
  lookup: Map<string, LookupEntry>;
  sources: string[];
}

interface LookupEntry {
  rows: CatalogRow[];
  /** No row has a match regex: the rows apply as they are, no filtering, no allocation. */
  unconditional: boolean;
  /** Which subset of the rows matched (bitmask) → that subset, built once. */
  subsets: Map<number, CatalogRow[]>;
}

export const BUILTIN_CATALOG = fileURLToPath(new URL('../../../src/model/catalog.csv', import.meta.url));

const COLUMNS = ['event', 'match', 'side', 'role', 'identifies', 'qemufile', 'access', 'window', 'versions', 'signal', 'ref'];
const EVENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string, problems: string[], at: string): T | null {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  problems.push(`${at}: ${what} '${value}' is not one of ${allowed.join(', ')}`);
  return null;
}

/** Parses catalog text; every bad row is reported with file:line, none is skipped silently. */
export function parseCatalog(text: string, file: string): CatalogRow[] {
  const problems: string[] = [];
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(text, {
      columns: (header: string[]) => {
        const h = header.map((c) => c.trim());
        if (h.join(',') !== COLUMNS.join(',')) {
          throw new Error(`${file}:1: header must be '${COLUMNS.join(',')}', got '${h.join(',')}'`);
        }
        return h;
      },
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
    });
  } catch (e) {
    const msg = (e as Error).message;
    throw new CatalogError([msg.startsWith(file) ? msg : `${file}: ${msg}`]);
  }
  const rows: CatalogRow[] = [];
  for (const { record: r, info } of records) {
    const at = `${file}:${info.lines}`;
    const before = problems.length;
    if (!EVENT_NAME.test(r.event ?? '')) problems.push(`${at}: event '${r.event}' is not a trace event name`);
    let match: RegExp | null = null;
    if (r.match) {
      try {
        match = new RegExp(r.match);
      } catch (e) {
        problems.push(`${at}: match /${r.match}/ is not a valid regex (${(e as Error).message})`);
      }
    }
    const side = oneOf(r.side ?? '', ['src', 'dst', 'both'] as const, 'side', problems, at);
    const byVersion = r.role?.includes('|') ? parseRoleByVersion(r.role, problems, at) : null;
    const role = r.role === '*' || byVersion ? '*' : oneOf(r.role ?? '', ROLES, 'role', problems, at);
    const identifies = r.identifies ? oneOf(r.identifies, ['anchor', 'secondary'] as const, 'identifies', problems, at) : null;
    if (identifies && role === '*') problems.push(`${at}: a row that identifies a thread needs a role, not '*'`);
    const qemufile = r.qemufile ? oneOf(r.qemufile, QEMUFILES, 'qemufile', problems, at) : null;
    const access = oneOf(r.access ?? '', ACCESSES, 'access', problems, at);
    const window = oneOf(r.window || 'point', WINDOWS, 'window', problems, at);
    const versions = parseRange(r.versions ?? '*');
    if (!versions) problems.push(`${at}: versions '${r.versions}' is not a range (*, <=7.2, >=8.0, 8.0-9.2)`);
    const signal = oneOf(r.signal || 'none', SIGNALS, 'signal', problems, at);
    if (signal === 'fingerprint' && versions && versions.lo === null && versions.hi === null) {
      problems.push(`${at}: a fingerprint row must name the versions the event proves`);
    }
    if (problems.length > before) continue;
    const lp = match ? literalAffixes(r.match as string) : NO_AFFIXES;
    rows.push({
      matchPrefix: lp.prefix,
      captures: [...(r.match ?? '').matchAll(/\(\?<([A-Za-z]\w*)>/g)].map((m) => m[1]!),
      matchIsPrefix: lp.whole,
      matchSuffix: lp.suffix,
      event: r.event as string,
      match,
      side: side!,
      role: role!,
      roleByVersion: byVersion,
      identifies,
      qemufile,
      access: access!,
      window: window!,
      versions: versions!,
      versionsText: r.versions || '*',
      signal: signal!,
      signalIndex: SIGNALS.indexOf(signal!),
      ref: r.ref ?? '',
      origin: at,
    });
  }
  if (problems.length) throw new CatalogError(problems);
  return rows;
}

/** `rp>=8.0|migration<=7.2`: a role per version range (the ranges must not overlap). */
function parseRoleByVersion(text: string, problems: string[], at: string): CatalogRow['roleByVersion'] {
  const out: NonNullable<CatalogRow['roleByVersion']> = [];
  for (const part of text.split('|')) {
    const m = /^([a-z-]+)(.*)$/.exec(part.trim());
    const role = m ? oneOf(m[1]!, ROLES, 'role', problems, at) : null;
    const versions = m ? parseRange(m[2]!) : null;
    if (!role || !versions) {
      if (role) problems.push(`${at}: role '${part}' is not role<range> (e.g. rp>=8.0)`);
      return null;
    }
    if (out.some((o) => !isEmpty(intersect(o.versions, versions)))) problems.push(`${at}: role ranges in '${text}' overlap`);
    out.push({ role, versions });
  }
  return out;
}

export function buildCatalog(layers: Array<{ file: string; rows: CatalogRow[] }>): Catalog {
  const byEvent = new Map<string, CatalogRow[]>();
  for (const layer of layers) {
    // A later layer replaces every row of the events it names (override), and adds new events.
    const named = new Map<string, CatalogRow[]>();
    for (const row of layer.rows) {
      const list = named.get(row.event) ?? [];
      list.push(row);
      named.set(row.event, list);
    }
    for (const [event, rows] of named) byEvent.set(event, rows);
  }
  const lookup = new Map<string, LookupEntry>();
  for (const [event, rows] of byEvent) lookup.set(event, { rows, unconditional: rows.every((r) => r.match === null), subsets: new Map() });
  return { byEvent, lookup, sources: layers.map((l) => l.file) };
}

export function loadCatalog(extraFiles: string[] = []): Catalog {
  const layers = [BUILTIN_CATALOG, ...extraFiles].map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CatalogError([`${file}: cannot read catalog (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
    }
    return { file, rows: parseCatalog(text, file) };
  });
  return buildCatalog(layers);
}

/**
 * An argument field of an event: the named group `name` of the first of its rows that captures it
 * (`new state (?<state>\S+)`), or null. A renamed field is taught with --catalog, not code.
 */
export function fieldOf(rows: readonly CatalogRow[], args: string, name: string): string | null {
  // The episode, the state history, the mode and the preempt lifecycle each ask for one event's
  // state: the regex runs once per event, not once per asker.
  if (rows === last.rows && args === last.args && name === last.name) return last.value;
  let value: string | null = null;
  for (const r of rows) {
    if (r.match === null || !r.captures.includes(name)) continue;
    const v = r.match.exec(args)?.groups?.[name];
    if (v !== undefined) {
      value = v;
      break;
    }
  }
  // One object, updated in place: a new one per call was an allocation per page request.
  last.rows = rows;
  last.args = args;
  last.name = name;
  last.value = value;
  return value;
}
const last: { rows: readonly CatalogRow[]; args: string; name: string; value: string | null } = { rows: [], args: '', name: '', value: null };

/**
 * How the replay reads an event's arguments: `fields` — a row captures a named field, or a rule
 * reads them (`signals`: Rule.readsArgs); its rows — only to tell which of them apply, which a
 * reader may do on the line's bytes (the rows' mask, TraceRecord.rowsMask). An event not listed:
 * never read. A reader's events may then come without their argument string (text-reader.ts,
 * record-codec.ts RecordDecoder).
 */
export type ArgsUse = ReadonlyMap<string, 'fields' | readonly CatalogRow[]>;

export function argsUse(catalog: Catalog, signals: ReadonlySet<string>): ArgsUse {
  const out = new Map<string, 'fields' | readonly CatalogRow[]>();
  for (const [event, rows] of catalog.byEvent) {
    if (rows.some((r) => r.captures.length > 0 || signals.has(r.signal))) out.set(event, 'fields');
    else if (rows.some((r) => r.match !== null)) out.set(event, rows);
  }
  return out;
}

/** The rows that apply to one event occurrence (the match regex is tested on its arguments). */
export function rowsFor(catalog: Catalog, name: string, args: string): CatalogRow[] {
  const entry = catalog.lookup.get(name);
  if (!entry) return NONE;
  if (entry.unconditional) return entry.rows; // hot path: no allocation
  return subsetOf(entry, matchMask(entry.rows, args));
}

/**
 * The same rows from a mask a reader thread computed (matchMask over patternsOf's matchers):
 * the regexes then run on that thread, not the replay's.
 */
export function rowsForMask(catalog: Catalog, name: string, mask: number): CatalogRow[] {
  const entry = catalog.lookup.get(name);
  if (!entry) return NONE;
  if (entry.unconditional) return entry.rows;
  return subsetOf(entry, mask);
}

/** Conditional rows: one shared array per combination that matched. */
function subsetOf(entry: LookupEntry, mask: number): CatalogRow[] {
  if (mask === 0) return NONE;
  let subset = entry.subsets.get(mask);
  if (!subset) entry.subsets.set(mask, (subset = rowsInMask(entry.rows, mask, true)));
  return subset;
}

/**
 * Rows i with bit i of `mask` set (`keep`) or clear. Its own function: a closure over `mask` in
 * the callers, which run per event, made V8 allocate their context on every call (one in four of
 * the replay thread's allocations on the bench slice), not only on a cache miss.
 */
function rowsInMask<R>(rows: readonly R[], mask: number, keep: boolean): R[] {
  return rows.filter((_, i) => (i < 31 && (mask & (1 << i)) !== 0) === keep);
}

// Per shared row array: which rows hold only for some versions (bit i: row i), and the subsets
// kept for a version range, so the per-event cost is a property load when no row is versioned.
const BOUND = Symbol('version-bound rows');
const KEPT = Symbol('rows kept per version range');
type VersionedRows = CatalogRow[] & { [BOUND]?: number; [KEPT]?: Map<number, CatalogRow[]> };

/**
 * The rows that hold for a process whose version is within `range` (the `versions` column, on every
 * row): a row whose versions the range excludes does not apply. Fingerprint rows always apply:
 * their versions are what the event proves, not where it holds. Before the version is known
 * (`*`), every row applies.
 */
export function rowsAt(rows: CatalogRow[], range: VersionRange): CatalogRow[] {
  const r = rows as VersionedRows;
  let bound = r[BOUND];
  if (bound === undefined) {
    bound = 0;
    for (let i = 0; i < rows.length && i < 31; i++) {
      const row = rows[i]!;
      if (row.signal !== 'fingerprint' && (row.versions.lo !== null || row.versions.hi !== null)) bound |= 1 << i;
    }
    r[BOUND] = bound;
  }
  if (bound === 0) return rows;
  let drop = 0;
  for (let i = 0; i < rows.length && i < 31; i++) if (bound & (1 << i) && !overlaps(range, rows[i]!.versions)) drop |= 1 << i;
  if (drop === 0) return rows;
  const kept = (r[KEPT] ??= new Map<number, CatalogRow[]>());
  let subset = kept.get(drop);
  if (!subset) kept.set(drop, (subset = rowsInMask(rows, drop, false)));
  return subset;
}

/** What matching needs of a row; a CatalogRow is one, and so is what matchersOf rebuilds. */
export type RowMatcher = Pick<CatalogRow, 'match' | 'matchPrefix' | 'matchIsPrefix' | 'matchSuffix'>;

/** Which of the rows (bit i: row i, first 31) apply to these arguments. */
export function matchMask(rows: readonly RowMatcher[], args: string): number {
  let mask = 0;
  for (let i = 0; i < rows.length && i < 31; i++) {
    const row = rows[i] as RowMatcher;
    if (row.match === null || matches(row, args)) mask |= 1 << i;
  }
  return mask;
}

/** The conditional events' row patterns (regex source and flags, or null), as a thread can be sent them. */
export type RowPatterns = Array<[event: string, patterns: Array<[source: string, flags: string] | null>]>;

export function patternsOf(catalog: Catalog): RowPatterns {
  const out: RowPatterns = [];
  for (const [event, entry] of catalog.lookup) if (!entry.unconditional) out.push([event, entry.rows.map((r) => (r.match ? [r.match.source, r.match.flags] : null))]);
  return out;
}

export function matchersOf(patterns: RowPatterns): Map<string, RowMatcher[]> {
  return new Map(
    patterns.map(([event, rows]) => [
      event,
      rows.map((p) => {
        if (!p) return { match: null, matchPrefix: null, matchIsPrefix: false, matchSuffix: null };
        // Flags (say, i) would make a literal compare wrong: then the regex alone decides.
        const lp = p[1] === '' ? literalAffixes(p[0]) : NO_AFFIXES;
        return { match: new RegExp(p[0], p[1]), matchPrefix: lp.prefix, matchIsPrefix: lp.whole, matchSuffix: lp.suffix };
      }),
    ]),
  );
}

/** Tests a row's regex, with cheap literal checks first (most are `^literal...`, some `...literal$`). */
function matches(row: RowMatcher, args: string): boolean {
  if (row.matchPrefix !== null) {
    if (!args.startsWith(row.matchPrefix)) return false;
    if (row.matchIsPrefix) return true;
  }
  if (row.matchSuffix !== null && !args.endsWith(row.matchSuffix)) return false;
  return (row.match as RegExp).test(args);
}

const COMPILED = new WeakMap<readonly RowMatcher[], BytesMatcher>();

/** One compiled matcher per row list (the catalog's, or matchersOf's on a reader thread). */
export function bytesMatcherOf(rows: readonly RowMatcher[]): BytesMatcher {
  let m = COMPILED.get(rows);
  if (!m) COMPILED.set(rows, (m = new BytesMatcher(rows)));
  return m;
}

/**
 * An event's rows compiled for matching on bytes, the hot path of a reader thread (9 in 10 of a
 * postcopy destination's lines are ram_load_postcopy_loop, with three conditional rows): the
 * literal prefix the rows share is compared once, then each row's own rest, all as byte arrays; a
 * string is made only for a regex that must run. (Matching was ~70 of a reader's ~330 ns a line
 * when each row's literals were compared one by one as strings; ~30 ns less now, measured.)
 */
export class BytesMatcher {
  /** Rows without a regex: they always apply. */
  private readonly always: number = 0;
  /** The literal every conditional row starts with (empty when one has no literal prefix). */
  private readonly lead: Uint8Array;
  private readonly bits: number[] = [];
  /** Each conditional row's literal prefix after `lead`. */
  private readonly rest: Uint8Array[] = [];
  private readonly whole: boolean[] = [];
  private readonly suffix: Array<Uint8Array | null> = [];
  private readonly re: RegExp[] = [];

  constructor(rows: readonly RowMatcher[]) {
    const conditional: Array<RowMatcher & { match: RegExp }> = [];
    for (let i = 0; i < rows.length && i < 31; i++) {
      const row = rows[i] as RowMatcher;
      if (row.match === null) this.always |= 1 << i;
      else {
        conditional.push(row as RowMatcher & { match: RegExp });
        this.bits.push(1 << i);
      }
    }
    const prefixes = conditional.map((r) => r.matchPrefix ?? '');
    let n = prefixes.length > 0 ? Math.min(...prefixes.map((p) => p.length)) : 0;
    for (const p of prefixes) while (n > 0 && p.slice(0, n) !== (prefixes[0] as string).slice(0, n)) n--;
    this.lead = Buffer.from((prefixes[0] ?? '').slice(0, n), 'latin1');
    for (const r of conditional) {
      this.rest.push(Buffer.from((r.matchPrefix ?? '').slice(n), 'latin1'));
      this.whole.push(r.matchIsPrefix);
      this.suffix.push(r.matchSuffix === null ? null : Buffer.from(r.matchSuffix, 'latin1'));
      this.re.push(r.match);
    }
  }

  /** Which rows apply to the arguments b[from, to). */
  mask(b: Buffer, from: number, to: number): number {
    let mask = this.always;
    const lead = this.lead;
    if (!startsWith(b, from, to, lead)) return mask;
    const at = from + lead.length;
    let args: string | null = null;
    for (let i = 0; i < this.bits.length; i++) {
      if (!startsWith(b, at, to, this.rest[i] as Uint8Array)) continue;
      if (!this.whole[i]) {
        const suffix = this.suffix[i] as Uint8Array | null;
        if (suffix !== null && (to - from < suffix.length || !startsWith(b, to - suffix.length, to, suffix))) continue;
        args ??= b.toString('latin1', from, to);
        if (!(this.re[i] as RegExp).test(args)) continue;
      }
      mask |= this.bits[i] as number;
    }
    return mask;
  }
}

/** Whether b[at, limit) starts with the bytes `s`. */
function startsWith(b: Uint8Array, at: number, limit: number, s: Uint8Array): boolean {
  const n = s.length;
  if (limit - at < n) return false;
  for (let k = 0; k < n; k++) if (b[at + k] !== s[k]) return false;
  return true;
}

const NO_AFFIXES = { prefix: null, whole: false, suffix: null };
const LITERAL = /[A-Za-z0-9=_:, -]/;
const QUANTIFIER = /[*+?{]/;

/**
 * The literals a match regex starts and ends with: `^chan=1 addr=\S+ flags=0x10$` → prefix
 * "chan=1 addr=", suffix " flags=0x10"; `whole`: the regex is nothing but `^prefix`. A regex with
 * an alternation has neither (`^a|b$` does not need "a").
 */
export function literalAffixes(source: string): { prefix: string | null; whole: boolean; suffix: string | null } {
  if (source.includes('|')) return NO_AFFIXES;
  let prefix = '';
  let i = 1;
  if (source.startsWith('^')) {
    // a literal followed by a quantifier is not a literal
    for (; i < source.length && LITERAL.test(source[i] as string) && !QUANTIFIER.test(source[i + 1] ?? ''); i++) prefix += source[i];
  }
  const whole = prefix.length > 0 && i === source.length;
  let suffix = '';
  if (!whole && source.endsWith('$') && source[source.length - 2] !== '\\') {
    // backwards from before '$': a char escaped by '\\' (\d, \S) ends it; a quantifier is no literal
    for (let j = source.length - 2; j >= 0 && LITERAL.test(source[j] as string) && source[j - 1] !== '\\'; j--) suffix = source[j] + suffix;
  }
  return { prefix: prefix || null, whole, suffix: suffix || null };
}
const NONE: CatalogRow[] = [];
