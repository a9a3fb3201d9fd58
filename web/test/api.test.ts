import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Api, ApiError, nextCursor, withQuery } from '../src/api.js';

test('the next cursor comes from Sentry Link headers only when results exist', () => {
  const link = '<http://x/?cursor=a>; rel="previous"; results="false"; cursor="a", <http://x/?cursor=b>; rel="next"; results="true"; cursor="k:9:0"';
  assert.equal(nextCursor(link), 'k:9:0');
  assert.equal(nextCursor(link.replace('results="true"', 'results="false"')), undefined);
  assert.equal(nextCursor(null), undefined);
});

test('query strings repeat list values and drop empty ones', () => {
  assert.equal(withQuery('p/', { id: ['1', '2'], q: '', n: 3, u: undefined }), 'p/?id=1&id=2&n=3');
});

test('changes send JSON, errors carry the detail, 401 signs out', async () => {
  const calls: [string, RequestInit | undefined][] = [];
  let unauthorized = 0;
  const api = new Api('/base/', async (url, init) => {
    calls.push([url, init]);
    if (url.includes('missing')) return new Response(JSON.stringify({ detail: 'No such issue' }), { status: 404 });
    if (url.includes('gone')) return new Response('{}', { status: 401 });
    return new Response(JSON.stringify({ ok: true }), { status: 200, headers: { link: '<x>; rel="next"; results="true"; cursor="c1"' } });
  });
  api.onUnauthorized = () => unauthorized++;
  await api.put('issues/1/', { status: 'resolved' });
  assert.equal(calls[0][0], '/base/api/0/issues/1/');
  assert.equal((calls[0][1]?.headers as Record<string, string>)['Content-Type'], 'application/json');
  assert.equal(calls[0][1]?.body, '{"status":"resolved"}');
  await assert.rejects(api.get('issues/missing/'), (e: unknown) => e instanceof ApiError && e.status === 404 && e.detail === 'No such issue');
  await assert.rejects(api.get('gone/'));
  assert.equal(unauthorized, 1);
  const page = await api.page('list/', { limit: 2 });
  assert.equal(page.next, 'c1');
  assert.deepEqual(api.cached('list/', { limit: 2 }), page);
  await api.post('x/');
  assert.equal(api.cached('list/', { limit: 2 }), undefined, 'a change clears the cache');
});

test('an object answer carries the next cursor of its Link header', async () => {
  // The audit log's cursors are `<13 digits>#<32 hex>`: they travel percent-encoded.
  const cursor = `1767225600000#${'a'.repeat(32)}`;
  const urls: string[] = [];
  const api = new Api('', async (url) => {
    urls.push(url);
    const link = `</api/0/organizations/acme/audit-logs/?event=member.invite&cursor=>; rel="previous"; results="false"; cursor="", </api/0/organizations/acme/audit-logs/?event=member.invite&cursor=${cursor}>; rel="next"; results="true"; cursor="${cursor}"`;
    return new Response(JSON.stringify({ rows: [], options: ['member.invite'] }), { status: 200, headers: { link } });
  });
  const first = await api.withNext<{ rows: unknown[]; options: string[] }>('organizations/acme/audit-logs/', { event: 'member.invite', cursor: undefined });
  assert.deepEqual(first, { body: { rows: [], options: ['member.invite'] }, next: cursor });
  await api.withNext('organizations/acme/audit-logs/', { event: '', cursor });
  assert.deepEqual(urls, [
    '/api/0/organizations/acme/audit-logs/?event=member.invite',
    `/api/0/organizations/acme/audit-logs/?cursor=1767225600000%23${'a'.repeat(32)}`,
  ]);
  assert.equal(nextCursor(`<x>; rel="next"; results="false"; cursor="${cursor}"`), undefined, 'the last page');
});

test('deletions may carry a body; a wrong password is not a lost session', async () => {
  const calls: [string, RequestInit | undefined][] = [];
  let unauthorized = 0;
  const api = new Api('', async (url, init) => {
    calls.push([url, init]);
    if (url.endsWith('accept-invite/')) return new Response(JSON.stringify({ detail: 'An account exists for this address: send its password, or sign in.' }), { status: 401 });
    return new Response(null, { status: 204 });
  });
  api.onUnauthorized = () => unauthorized++;
  await api.del('auth/', undefined, { all: true });
  assert.equal(calls[0][1]?.method, 'DELETE');
  assert.equal(calls[0][1]?.body, '{"all":true}');
  await api.del('users/me/sessions/s1/');
  assert.equal(calls[1][1]?.body, '{}');
  await assert.rejects(api.post('accept-invite/', { token: 't', password: 'wrong' }), (e: unknown) => e instanceof ApiError && e.status === 401);
  assert.equal(unauthorized, 0);
  assert.ok(!calls.some(([url]) => url.includes('/t/') || url.endsWith('/t')), 'the token is never in a URL');
});
