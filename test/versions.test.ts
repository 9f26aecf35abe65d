import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRange, intersect, isEmpty, isWithin, overlaps, parseRange } from '../src/model/versions.js';

const r = (s: string) => parseRange(s)!;

describe('version ranges', () => {
  it('parses and formats', () => {
    assert.equal(formatRange(r('>=8.0')), '>=8.0');
    assert.equal(formatRange(r('<=7.2')), '<=7.2');
    assert.equal(formatRange(r('8.0-9.2')), '8.0-9.2');
    assert.equal(formatRange(r('*')), 'unknown');
    assert.equal(parseRange('>=8'), null);
    assert.equal(parseRange('9.2-8.0'), null);
  });
  it('intersects fingerprint claims', () => {
    assert.equal(formatRange(intersect(r('>=8.0'), r('<=10.1'))), '8.0-10.1');
    assert.ok(isEmpty(intersect(r('<=7.2'), r('>=8.0'))));
    assert.equal(formatRange(intersect(r('<=7.2'), r('>=8.0'))), 'contradictory');
  });
  it('compares minor versions numerically (10.0 > 9.2 > 8.10 > 8.2)', () => {
    assert.ok(isWithin(r('10.0'), r('>=9.2')));
    assert.ok(isWithin(r('8.10'), r('>=8.2')));
    assert.ok(!overlaps(r('<=7.2'), r('8.0-9.0')));
    assert.ok(!isWithin(r('*'), r('<=7.2')));
  });
});
