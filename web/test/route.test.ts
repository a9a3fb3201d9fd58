import assert from 'node:assert/strict';
import { test } from 'node:test';
import { href, parse, type Route } from '../src/route.js';

test('the links the API and e-mails send open their pages', () => {
  assert.deepEqual(parse('#/organizations/acme/issues/42/'), { name: 'issue', org: 'acme', id: '42' });
  assert.deepEqual(parse('#/accept-invite/s3cret/'), { name: 'invite', token: 's3cret' });
  assert.deepEqual(parse('#/settings/acme/projects/web/alerts/r1/'), { name: 'settings', org: 'acme', project: 'web', section: 'alerts', id: 'r1' });
  // The API's e-mails write `WEB_URL` + `/accept-invite/<token>` and `/reset-password/<token>`.
  assert.deepEqual(parse('#/accept-invite/errata_AbC-12_x'), { name: 'invite', token: 'errata_AbC-12_x' });
  assert.deepEqual(parse('#/reset-password/errata_AbC-12_x'), { name: 'resetPassword', token: 'errata_AbC-12_x' });
});

test('the pages without a session and the account page', () => {
  assert.deepEqual(parse('#/forgot-password'), { name: 'forgotPassword' });
  assert.deepEqual(parse('#/forgot-password/'), { name: 'forgotPassword' });
  assert.deepEqual(parse('#/account'), { name: 'account' });
  assert.deepEqual(parse('#/account/'), { name: 'account' });
  assert.equal(parse('#/reset-password/').name, 'notFound', 'a reset link without its secret');
  assert.equal(parse('#/reset-password/a/b').name, 'notFound');
  // The account page's older address under an organization's settings opens it too.
  assert.deepEqual(parse('#/settings/acme/account/'), { name: 'account' });
});

test('organization settings sections', () => {
  assert.deepEqual(parse('#/settings/acme/audit-log/'), { name: 'settings', org: 'acme', section: 'audit-log' });
  assert.deepEqual(parse('#/settings/acme/members/'), { name: 'settings', org: 'acme', section: 'members' });
  assert.equal(parse('#/settings/acme/bogus/').name, 'notFound');
});

test('every route survives href then parse', () => {
  const routes: Route[] = [
    { name: 'home' },
    { name: 'login', next: '#/organizations/a/issues/1/' },
    { name: 'setup' },
    { name: 'invite', token: 'a b/c' },
    { name: 'forgotPassword' },
    { name: 'resetPassword', token: 'errata_x/y z' },
    { name: 'account' },
    { name: 'stream', org: 'acme', params: { project: 'web', query: 'is:unresolved level:"a b"', cursor: 'k:1:0' } },
    { name: 'issue', org: 'acme', id: '7', eventId: 'abc' },
    { name: 'releases', org: 'acme', params: { project: 'web' } },
    { name: 'settings', org: 'acme', section: 'members' },
    { name: 'settings', org: 'acme', section: 'audit-log' },
    { name: 'settings', org: 'acme', project: 'web', section: 'keys' },
  ];
  for (const r of routes) assert.deepEqual(parse(href(r)), r, href(r));
});

test('unknown and malformed paths are not found, never a crash', () => {
  assert.equal(parse('#/organizations/acme/nothing/').name, 'notFound');
  assert.equal(parse('#/settings/acme/projects/web/bogus/').name, 'notFound');
  assert.equal(parse('#/organizations/%E0%A4%A/issues/').name, 'stream');
  assert.deepEqual(parse(''), { name: 'home' });
});
