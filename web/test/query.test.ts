import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apply, setTerm, suggest, termValue, terms } from '../src/query.js';

const ctx = { tagKeys: ['browser', 'customer', 'level'], environments: ['production', 'staging'], releases: ['app@1.0', 'app@2.0 beta'], members: ['ann@acme.test'] };

test('terms: keys, negation, quotes and free text', () => {
  const t = terms('is:unresolved !level:info "connection reset" message:"a b" timeout');
  assert.deepEqual(
    t.map(({ key, value, negated }) => [key, value, negated]),
    [['is', 'unresolved', false], ['level', 'info', true], [undefined, 'connection reset', false], ['message', 'a b', false], [undefined, 'timeout', false]],
  );
  assert.equal(termValue('is:resolved level:error', 'level'), 'error');
  assert.equal(termValue('!level:error', 'level'), undefined);
});

test('setTerm replaces, adds and removes one key', () => {
  assert.equal(setTerm('is:unresolved level:error boom', 'level', 'fatal'), 'level:fatal is:unresolved boom');
  assert.equal(setTerm('is:unresolved level:error', 'level', ''), 'is:unresolved');
  assert.equal(setTerm('', 'environment', 'prod east'), 'environment:"prod east"');
  assert.equal(setTerm('is:ignored x', 'is', undefined), 'x');
});

test('suggests keys, then the values of the key being typed', () => {
  const keys = suggest('is:unresolved le', 16, ctx);
  assert.deepEqual(keys.items.map((s) => s.text), ['level:']);
  assert.deepEqual([keys.from, keys.to], [14, 16]);
  assert.deepEqual(suggest('b', 1, ctx).items.map((s) => s.text), ['browser:']);
  assert.deepEqual(suggest('is:', 3, ctx).items.slice(0, 3).map((s) => s.label), ['unresolved', 'resolved', 'ignored']);
  assert.deepEqual(suggest('!level:e', 8, ctx).items.map((s) => s.text), ['!level:error ']);
  assert.deepEqual(suggest('environment:s', 13, ctx).items.map((s) => s.label), ['staging']);
  assert.deepEqual(suggest('release:', 8, ctx).items.map((s) => s.text), ['release:app@1.0 ', 'release:"app@2.0 beta" ']);
  assert.deepEqual(suggest('assigned:', 9, ctx).items.map((s) => s.label), ['me', 'ann@acme.test']);
  assert.deepEqual(suggest('"quoted text', 5, ctx).items, []);
  // A complete value needs no suggestion.
  assert.deepEqual(suggest('level:error', 11, ctx).items, []);
});

test('applying a suggestion replaces the word and places the cursor after it', () => {
  const q = 'is:unresolved le boom';
  const s = suggest(q, 16, ctx);
  assert.deepEqual(apply(q, s, s.items[0]), ['is:unresolved level: boom', 20]);
  const v = suggest('level:er', 8, ctx);
  assert.deepEqual(apply('level:er', v, v.items[0]), ['level:error ', 12]);
});
