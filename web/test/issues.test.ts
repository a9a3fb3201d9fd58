import { test } from 'node:test';
import assert from 'node:assert/strict';
import { issuesUrl, rows, timeAgo } from '../src/issues.js';

test('issue list URL is built from the config and escapes its parts', () => {
  assert.equal(
    issuesUrl({ api: '/_aws/execute-api/abc/', org: 'demo', project: 'my app' }),
    '/_aws/execute-api/abc/api/0/projects/demo/my%20app/issues/?query=is%3Aunresolved',
  );
  assert.ok(issuesUrl({ api: 'x', org: 'o', project: 'p' }, 'level:error "a b"').endsWith('?query=level%3Aerror%20%22a%20b%22'));
});

test('relative times', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  assert.equal(timeAgo('2026-11-25T11:59:30Z', now), 'just now');
  assert.equal(timeAgo('2026-11-25T11:57:00Z', now), '3 minutes ago');
  assert.equal(timeAgo('2026-11-25T11:00:00Z', now), '1 hour ago');
  assert.equal(timeAgo('2026-11-20T12:00:00Z', now), '5 days ago');
  assert.equal(timeAgo('garbage', now), 'unknown');
});

test('rows keep untrusted text as data', () => {
  const r = rows([{ id: '1', title: '<img src=x onerror=alert(1)>', culprit: 'app in f', level: 'error', count: '2', lastSeen: '2026-11-25T11:00:00Z' }], new Date('2026-11-25T12:00:00Z'));
  assert.deepEqual(r, [['<img src=x onerror=alert(1)>\napp in f', 'error', '2', '1 hour ago']]);
});
