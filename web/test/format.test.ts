import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bars, browserOf, compact, frameLocation, installSnippet, sparkline, timeAgo, visibleFrames } from '../src/format.js';

test('timeAgo', () => {
  const now = new Date('2026-01-02T00:00:00Z');
  assert.equal(timeAgo('2026-01-01T23:59:30Z', now), 'just now');
  assert.equal(timeAgo('2026-01-01T23:00:00Z', now), '1 hour ago');
  assert.equal(timeAgo('2025-12-30T00:00:00Z', now), '3 days ago');
  assert.equal(timeAgo('garbage', now), '—');
  assert.equal(timeAgo(null, now), '—');
});

test('compact counts', () => {
  assert.deepEqual(['999', 1000, 1250, 25000, 2_500_000, 'x'].map(compact), ['999', '1k', '1.3k', '25k', '2.5M', 'x']);
});

test('sparkline and bars scale to the box, zero at the bottom', () => {
  assert.equal(sparkline([[0, 0], [1, 5], [2, 10]], 100, 20), '0,19 50,10 100,1');
  assert.equal(sparkline([], 100, 20), '');
  const b = bars([[0, 0], [1, 4], [2, 8]], 30, 10);
  assert.deepEqual(b.map((x) => [x.x, x.h]), [[0, 0], [10, 5], [20, 10]]);
});

test('frames: most recent first, in-app only unless all (or none is in-app)', () => {
  const frames = [
    { function: 'main', inApp: true },
    { function: 'lib', inApp: false },
    { function: 'handler', inApp: true },
  ];
  assert.deepEqual(visibleFrames(frames, false).map((f) => f.function), ['handler', 'main']);
  assert.deepEqual(visibleFrames(frames, true).map((f) => f.function), ['handler', 'lib', 'main']);
  assert.deepEqual(visibleFrames([{ function: 'x', inApp: false }], false).map((f) => f.function), ['x']);
  assert.equal(frameLocation({ filename: 'app.py', lineNo: 3, colNo: 7 }), 'app.py:3:7');
  assert.equal(frameLocation({ instructionAddr: '0x1000' }), '0x1000');
});

test('install snippets carry the DSN as a string literal', () => {
  const dsn = 'http://k@localhost:4566/_aws/execute-api/x/1';
  for (const p of ['python', 'javascript', 'node', 'rust'] as const) {
    const s = installSnippet(p, dsn);
    assert.ok(s.code.includes(JSON.stringify(dsn)), p);
    assert.ok(s.install.length > 0);
  }
});

test('sign-ins name their browser', () => {
  const ua = {
    chrome: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36',
    edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
    firefox: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0',
    safari: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    android: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  };
  assert.equal(browserOf(ua.chrome), 'Chrome on Linux');
  assert.equal(browserOf(ua.headless), 'Chrome on Linux');
  assert.equal(browserOf(ua.edge), 'Edge on Windows');
  assert.equal(browserOf(ua.firefox), 'Firefox on macOS');
  assert.equal(browserOf(ua.safari), 'Safari on iOS');
  assert.equal(browserOf(ua.android), 'Chrome on Android');
  assert.equal(browserOf('python-requests/2.32.3'), 'python-requests');
  assert.equal(browserOf(null), 'Unknown browser');
  assert.equal(browserOf('  '), 'Unknown browser');
});
