import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CatalogError, buildCatalog, literalAffixes, loadCatalog, matchMask, bytesMatcherOf, parseCatalog, rowsFor } from '../src/model/catalog.js';
import { tempRun } from './helpers.js';
import { join } from 'node:path';

const HEADER = 'event,match,side,role,identifies,qemufile,access,window,versions,signal,ref\n';

describe('event catalog', () => {
  it('loads the built-in catalog and matches rows by argument regex', () => {
    const c = loadCatalog();
    const eos = rowsFor(c, 'ram_load_postcopy_loop', 'chan=1 addr=0x0 flags=0x10').map((r) => r.signal);
    assert.ok(eos.includes('preempt-eos'));
    const page = rowsFor(c, 'ram_load_postcopy_loop', 'chan=1 addr=0x1000 flags=0x8').map((r) => r.signal);
    assert.ok(!page.includes('preempt-eos'));
    assert.equal(rowsFor(c, 'ram_load_postcopy_loop', 'chan=0 addr=0x0 flags=0x10')[0]?.role, 'listen');
    assert.deepEqual(rowsFor(c, 'no_such_event', ''), []);
  });
  it('migrate_error belongs to either side (10.0 logs it from migrate_set_error on the destination too)', () => {
    const c = loadCatalog();
    assert.deepEqual(rowsFor(c, 'migrate_error', 'error=load of migration failed').map((r) => r.side), ['both', 'both']);
  });
  it('reports every bad row with file:line', () => {
    const text = `${HEADER}# comment\ngood_event,,src,rp,anchor,,read,point,*,none,A\nbad-name,,src,rp,,,read,point,*,none,A\nx_y,,sideways,rp,,,read,point,*,none,A\nx_z,([,src,rp,,,read,point,>=8,none,A\n`;
    assert.throws(
      () => parseCatalog(text, 'extra.csv'),
      (e: unknown) => {
        assert.ok(e instanceof CatalogError);
        const p = e.problems.join('\n');
        assert.match(p, /extra\.csv:4: event 'bad-name'/);
        assert.match(p, /extra\.csv:5: side 'sideways'/);
        assert.match(p, /extra\.csv:6: match \/\(\[\/ is not a valid regex/);
        assert.match(p, /extra\.csv:6: versions '>=8'/);
        return true;
      },
    );
  });
  it('rejects a wrong header', () => {
    assert.throws(() => parseCatalog('event,side\nx_y,src\n', 'h.csv'), /h\.csv:1: header must be/);
  });
  it('lets an extra catalog teach a renamed event and override an existing one', () => {
    const dir = tempRun({ 'extra.csv': `${HEADER}mig_rp_thread_begin,,src,rp,anchor,,lifecycle,point,*,thread-start,A.2\npostcopy_preempt_thread_exit,,dst,preempt,secondary,,lifecycle,point,*,none,X\n` });
    const c = loadCatalog([join(dir, 'extra.csv')]);
    assert.equal(rowsFor(c, 'mig_rp_thread_begin', '')[0]?.role, 'rp');
    const exit = rowsFor(c, 'postcopy_preempt_thread_exit', '');
    assert.equal(exit.length, 1);
    assert.equal(exit[0]?.signal, 'none');
    assert.equal(buildCatalog([]).byEvent.size, 0);
  });
  it('says which catalog file cannot be read', () => {
    assert.throws(() => loadCatalog(['/nonexistent/x.csv']), /\/nonexistent\/x\.csv: cannot read catalog \(ENOENT\)/);
  });
});

describe('match regexes: literal checks before the regex', () => {
  it('finds the literals a match must start and end with, and none where an alternation or escape forbids', () => {
    assert.deepEqual(literalAffixes('^chan=1 addr=\\S+ flags=0x10$'), { prefix: 'chan=1 addr=', whole: false, suffix: ' flags=0x10' });
    assert.deepEqual(literalAffixes('^chan=1'), { prefix: 'chan=1', whole: true, suffix: null });
    assert.deepEqual(literalAffixes('^a|b$'), { prefix: null, whole: false, suffix: null });
    assert.deepEqual(literalAffixes('^ab+c$'), { prefix: 'a', whole: false, suffix: 'c' });
    assert.deepEqual(literalAffixes('x\\d$'), { prefix: null, whole: false, suffix: null });
    assert.deepEqual(literalAffixes('^new state (\\S+)'), { prefix: 'new state ', whole: false, suffix: null });
    assert.deepEqual(literalAffixes('^1\\.5'), { prefix: '1', whole: false, suffix: null });
  });

  // null: a row without a regex (it always applies). The second list shares a lead ("chan="),
  // which the byte matcher compares once.
  const lists: Array<Array<string | null>> = [
    ['^chan=1 addr=\\S+ flags=0x10$', '^chan=0', '^a|b$', '^ab+c$', 'x\\d$', '^1\\.5', 'state (\\w+)$', '^$'],
    ['^chan=0', '^chan=1 addr=\\S+ flags=0x10$', null, '^chan=1', '^chan=12$'],
  ];
  it('gives the regex\'s own answer, on strings and on bytes', () => {
    const inputs = ['chan=1 addr=0x10 flags=0x10', 'chan=1 addr=0x10 flags=0x8', 'chan=1 addr= flags=0x10', 'chan=0 x', 'chan=12', 'chan=', 'chan', 'a', 'b', 'xb', 'abbc', 'ac', 'x1', '1.5', '105', 'state active', '', ' flags=0x10'];
    for (const sources of lists) {
      const rows = sources.map((src) => {
        if (src === null) return { match: null, matchPrefix: null, matchIsPrefix: false, matchSuffix: null };
        const lp = literalAffixes(src);
        return { match: new RegExp(src), matchPrefix: lp.prefix, matchIsPrefix: lp.whole, matchSuffix: lp.suffix };
      });
      for (const s of inputs) {
        const want = sources.reduce((m, src, i) => (src === null || new RegExp(src).test(s) ? m | (1 << i) : m), 0);
        assert.equal(matchMask(rows, s), want, s);
        const b = Buffer.from(`pre ${s} post`, 'latin1');
        assert.equal(bytesMatcherOf(rows).mask(b, 4, 4 + s.length), want, `bytes: ${s}`);
      }
    }
  });
});
