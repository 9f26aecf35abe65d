// The model reference is the project's own: every section a rule, a catalog row, an ownership row
// or a comment cites exists in docs/model.md as a heading or a bold label, so a citation can never
// dangle; and nothing shipped sends the reader to a document outside the repository.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { loadCatalog } from '../src/model/catalog.js';
import { OWNERSHIP } from '../src/model/ownership.js';
import { MODEL_DOC_PATH, citationIds, modelAnchors, resolveId } from '../src/model/reference.js';
import { RULES } from '../src/rules/index.js';
import { cli, ROOT } from './helpers.js';

const anchors = modelAnchors(readFileSync(MODEL_DOC_PATH, 'utf8'));

interface Cited {
  where: string;
  citation: string;
}

/** Each citation that names no heading or label of the document, as one line. */
function dangling(cited: readonly Cited[]): string[] {
  const out: string[] = [];
  for (const c of cited) {
    const ids = citationIds(c.citation);
    if (!ids.length) out.push(`${c.where}: '${c.citation}' is not a model citation`);
    for (const id of ids) if (resolveId(id, anchors) === null) out.push(`${c.where}: §${id} is not in docs/model.md`);
  }
  return out;
}

/** Files that ship or document the project (src, docs, README) and the tests' own comments. */
function projectFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
  return [
    ...walk(join(ROOT, 'src')).filter((f) => /\.(ts|csv)$/.test(f)),
    ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f)),
    ...readdirSync(join(ROOT, 'test')).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, 'test', f)),
    join(ROOT, 'README.md'),
  ];
}

/** Citations: a § followed by something section-like, and bare `E #n`, with file:line. */
function citationsIn(file: string): Cited[] {
  const out: Cited[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const where = `${relative(ROOT, file)}:${i + 1}`;
      for (const m of line.matchAll(/§([0-9A-Z][^§]{0,40})/g)) out.push({ where, citation: m[1]! });
      for (const m of line.matchAll(/(?<![§\w])E #\d+(?:\s*-\s*#?\d+)?/g)) out.push({ where, citation: m[0] });
    });
  return out;
}

describe('model reference (docs/model.md)', () => {
  it('reads headings and labelled items, and expands ranges and alternatives', () => {
    assert.match(anchors.get('C.3 S4') ?? '', /EOS/);
    assert.match(anchors.get('E #12') ?? '', /preempt channel is ready/);
    assert.ok(anchors.has('A.2 item 3') && anchors.has('D.2 I1') && anchors.has('0.1') && anchors.has('F'));
    assert.equal(resolveId('A.2.4', anchors), anchors.get('A.2 item 4'));
    assert.equal(resolveId('C.3 S11', anchors), null);
    assert.equal(resolveId('Z.9', anchors), null);
    assert.deepEqual(citationIds('C.3 S5-S6'), ['C.3 S5', 'C.3 S6']);
    assert.deepEqual(citationIds('E #8-10'), ['E #8', 'E #9', 'E #10']);
    assert.deepEqual(citationIds('E #8-#10'), ['E #8', 'E #9', 'E #10']);
    assert.deepEqual(citationIds('C.3 S9/D8'), ['C.3 S9', 'C.3 D8']);
    assert.deepEqual(citationIds('A.2 item 3, §G.6'), ['A.2 item 3']);
    assert.deepEqual(citationIds('C.3 S9 (10.0: logged by migrate_set_error on either side)'), ['C.3 S9']);
    assert.deepEqual(citationIds('D.0 (a): compat'), ['D.0']);
    assert.deepEqual(citationIds('anchors.md'), []);
  });

  it("every rule's refs are in the document", () => {
    const cited = RULES.flatMap((r) => {
      assert.ok(r.refs.length > 0, `${r.id} cites no model section`);
      return r.refs.map((citation) => ({ where: `rule ${r.id}`, citation }));
    });
    assert.deepEqual(dangling(cited), []);
  });

  it("every built-in catalog row's ref, and every ownership row's, is in the document", () => {
    const rows = [...loadCatalog().byEvent.values()].flat();
    assert.ok(rows.length > 50);
    const cited = [
      ...rows.map((r) => ({ where: `catalog ${relative(ROOT, r.origin)} (${r.event})`, citation: r.ref })),
      ...OWNERSHIP.map((o) => ({ where: `ownership ${o.file} ${o.versionsText}`, citation: o.ref })),
    ];
    assert.deepEqual(dangling(cited), []);
  });

  it('every § citation in the sources, the catalog, the docs, the README and the tests is in the document', () => {
    const cited = projectFiles().flatMap(citationsIn);
    assert.ok(cited.length > 100, `only ${cited.length} citations found: is the scan broken?`);
    assert.deepEqual(dangling(cited), []);
  });

  it('nothing shipped points at a document outside the repository', () => {
    const outside = /\.\.\/shared|shared\/reference|anchors\.md/;
    const hits = projectFiles()
      .filter((f) => !f.startsWith(join(ROOT, 'test')))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => (outside.test(line) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])),
      );
    assert.deepEqual(hits, []);
  });

  it('explain names the document and the title of each section a rule cites', async () => {
    const r = await cli(['explain', 'qemufile-nonowner-close']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Model sections, in docs\/model\.md \(.*docs\/model\.md\):/);
    assert.match(r.stdout, /§C\.3 S5-S6 +source completion joins the rp thread; source postcopy_qemufile_src shutdown and close/);
    assert.doesNotMatch(r.stdout, /not in the document/);
  });
});
