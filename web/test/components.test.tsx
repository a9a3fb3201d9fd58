import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'preact-render-to-string';
import { Api } from '../src/api.js';
import { EventView } from '../src/pages/issue.js';
import { ruleBody, ruleForm, WebhookFields, withoutSecret, withoutWebhook } from '../src/pages/alert-rules.js';
import { Account } from '../src/pages/account.js';
import { actorName, AuditLog } from '../src/pages/audit-log.js';
import { Login, Setup } from '../src/pages/auth.js';
import { SearchBar } from '../src/pages/stream.js';
import type { AuditEntry, Event, Issue, Rule } from '../src/types.js';
import { AppContext, KeyValues, LevelBadge, Sparkline, type App } from '../src/ui.js';

const HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

const app: App = {
  api: new Api('/api-base', () => new Promise<Response>(() => {})),
  config: { api: '/api-base' },
  me: { email: 'ann@acme.test', name: 'Ann', organizations: [{ slug: 'acme', name: 'Acme', role: 'owner' }] },
  refreshMe: async () => {},
  notify: () => {},
};

const issue = {
  id: '7', shortId: 'WEB-7', title: HOSTILE, culprit: HOSTILE, level: 'error', status: 'unresolved', statusDetails: {},
  platform: 'python', count: '3', userCount: 1, firstSeen: '2026-01-01T00:00:00Z', lastSeen: '2026-01-01T00:00:00Z',
  firstRelease: null, lastRelease: null, assignedTo: null, project: { id: '1', slug: 'web', name: 'web' }, metadata: {},
} as Issue;

const event: Event = {
  id: 'e'.repeat(32), eventID: 'e'.repeat(32), title: HOSTILE, message: HOSTILE, platform: 'python',
  dateCreated: '2026-01-01T00:00:00Z', dateReceived: null, release: HOSTILE, environment: 'production',
  previousEventID: 'a'.repeat(32), nextEventID: null,
  entries: [
    {
      type: 'exception',
      data: {
        hasSystemFrames: true,
        values: [
          { type: 'KeyError', value: 'inner', module: null, mechanism: null, rawStacktrace: null, stacktrace: { frames: [{ function: 'cause', inApp: true }] } },
          {
            type: HOSTILE, value: HOSTILE, module: null, mechanism: { type: 'generic', handled: false }, rawStacktrace: null,
            stacktrace: {
              frames: [
                { function: 'stdlib_call', filename: 'lib.py', lineNo: 1, inApp: false },
                { function: HOSTILE, filename: 'app.py', lineNo: 12, inApp: true, context: [[11, 'a = 1'], [12, HOSTILE], [13, 'b = 2']], vars: { x: HOSTILE } },
              ],
            },
          },
        ],
      },
    },
    { type: 'breadcrumbs', data: { values: [{ timestamp: 1767225600, category: HOSTILE, message: HOSTILE, level: 'error' }] } },
    { type: 'request', data: { method: 'POST', url: HOSTILE, headers: [['X-Evil', HOSTILE]] } },
  ],
  tags: [{ key: HOSTILE, value: HOSTILE }],
  user: { email: HOSTILE },
  contexts: { os: { type: 'os', name: HOSTILE } },
  context: { extra: HOSTILE },
  sdk: { name: 'sentry.python', version: '2.0' },
};

test('event data renders as text only: no markup from the event reaches the page', () => {
  const html = render(
    <AppContext.Provider value={app}>
      <EventView org="acme" issue={issue} event={event} />
    </AppContext.Provider>,
  );
  assert.ok(!html.includes('<img'), 'no <img> element from event data');
  assert.ok(!html.includes('<script'), 'no <script> element from event data');
  assert.ok(!/<[^<>]*\sonerror=/.test(html), 'no event handler attribute on any element');
  assert.ok(html.includes('&lt;img src=x onerror=&quot;window.__xss=1&quot;>') || html.includes('&lt;img src=x onerror="window.__xss=1">'), html.slice(0, 400));
});

test('processing errors say what could not be done and why, as text', () => {
  const withErrors: Event = {
    ...event,
    errors: [{ type: 'symbolication_timeout', message: 'Symbolication timed out; stored unsymbolicated', data: { reason: HOSTILE } }],
  };
  const html = render(
    <AppContext.Provider value={app}>
      <EventView org="acme" issue={issue} event={withErrors} />
    </AppContext.Provider>,
  );
  assert.ok(html.includes('There was a problem processing this event'));
  assert.ok(html.includes('Symbolication timed out; stored unsymbolicated'));
  assert.ok(!html.includes('<img'), 'the reason is text');
  const clean = render(
    <AppContext.Provider value={app}>
      <EventView org="acme" issue={issue} event={event} />
    </AppContext.Provider>,
  );
  assert.ok(!clean.includes('problem processing'), 'nothing shown without errors');
});

test('the stack trace: newest exception first, in-app frames first, error line highlighted', () => {
  const html = render(
    <AppContext.Provider value={app}>
      <EventView org="acme" issue={issue} event={event} />
    </AppContext.Provider>,
  );
  assert.ok(html.indexOf('This was caused by') > html.indexOf('unhandled'), 'the raised exception comes before its cause');
  assert.ok(!html.includes('stdlib_call'), 'system frames hidden in the in-app view');
  assert.match(html, /<li class="error-line" aria-current="true"><span class="ln">12<\/span>/);
  assert.match(html, /href="#\/organizations\/acme\/issues\/7\/events\/a{32}\/"[^>]*rel="prev"/);
  assert.ok(html.includes('aria-disabled="true" rel="next"'), 'no newer event');
});

test('level badges only take known class names; sparklines draw their series', () => {
  assert.equal(render(<LevelBadge level={'x" onclick="y'} />), '<span class="level level-unknown">x&quot; onclick=&quot;y</span>');
  assert.match(render(<Sparkline series={[[0, 1], [1, 2]]} width={10} height={10} />), /<polyline points="0,5 10,1"/);
  assert.match(render(<KeyValues data={{ a: { b: 1 } }} />), /<code>\{\n {2}&quot;b&quot;: 1\n\}<\/code>|<code>\{\n {2}"b": 1\n\}<\/code>/);
});

test('the alert rule editor round-trips a rule through its fields', () => {
  const rule: Rule = {
    id: 'r', name: 'Spikes', action_match: 'all', muted: false, frequency: 15,
    conditions: [{ id: 'first_seen' }, { id: 'event_frequency', value: 100, interval_minutes: 60 }],
    filters: [{ id: 'level', at_least: 'error' }, { id: 'environment', value: 'production' }],
    actions: [{ id: 'email', addresses: ['oncall@acme.test'] }, { id: 'webhook', url: 'https://hooks.example/x', format: 'generic', secretSet: false }],
  };
  assert.deepEqual(ruleBody(ruleForm(rule)), {
    name: 'Spikes', actionMatch: 'all', frequency: 15, muted: false,
    conditions: rule.conditions, filters: rule.filters,
    actions: [{ id: 'email', addresses: ['oncall@acme.test'] }, { id: 'webhook', url: 'https://hooks.example/x', format: 'generic' }],
  });
  const fresh = ruleBody(ruleForm(undefined));
  assert.deepEqual(fresh.conditions, [{ id: 'first_seen' }, { id: 'regression' }]);
  assert.deepEqual(fresh.actions, [{ id: 'email', addresses: [] }]);
});

// What the API answers for a Slack webhook with a secret: neither the URL nor the secret.
const slackRule: Rule = {
  id: 'r', name: 'To Slack', action_match: 'any', muted: false, frequency: 30,
  conditions: [{ id: 'first_seen' }], filters: [],
  actions: [{ id: 'webhook', format: 'slack', urlSet: true, host: 'hooks.slack.com', secretSet: true }],
};

test('saving a rule leaves out the write-only URL and secret it keeps', () => {
  const form = ruleForm(slackRule);
  assert.equal(form.webhook, '');
  assert.equal(form.secret, '');
  assert.deepEqual(ruleBody(form).actions, [{ id: 'webhook', format: 'slack' }]);
  // What is typed replaces what is stored.
  assert.deepEqual(ruleBody({ ...form, webhook: ' https://hooks.slack.com/services/T/B/new ', secret: 's2' }).actions, [
    { id: 'webhook', format: 'slack', url: 'https://hooks.slack.com/services/T/B/new', secret: 's2' },
  ]);
  // Removing the secret sends it empty; removing the webhook sends no webhook at all.
  assert.deepEqual(ruleBody(withoutSecret(form)).actions, [{ id: 'webhook', format: 'slack', secret: '' }]);
  assert.deepEqual(ruleBody(withoutWebhook(form)).actions, []);
  // …and a URL typed after removing it does not take the old secret.
  assert.deepEqual(ruleBody({ ...withoutWebhook(form), webhook: 'https://example.com/hook' }).actions, [
    { id: 'webhook', format: 'slack', url: 'https://example.com/hook', secret: '' },
  ]);
});

test('creating a rule sends the webhook URL and secret typed', () => {
  const form = { ...ruleForm(undefined), email: false, webhook: 'https://example.com/hook', secret: 'shh' };
  assert.deepEqual(ruleBody(form).actions, [{ id: 'webhook', format: 'generic', url: 'https://example.com/hook', secret: 'shh' }]);
  assert.deepEqual(ruleBody({ ...form, secret: '' }).actions, [{ id: 'webhook', format: 'generic', url: 'https://example.com/hook' }]);
  assert.deepEqual(ruleBody({ ...form, webhook: '  ' }).actions, [], 'no URL, no webhook');
});

test('the webhook fields say what is stored and never show it', () => {
  const html = render(<WebhookFields f={ruleForm(slackRule)} setF={() => {}} />);
  assert.ok(html.includes('Slack webhook URL set (hooks.slack.com) — leave empty to keep it.'), html);
  assert.ok(html.includes('A signing secret is set — leave empty to keep it.'), html);
  assert.ok(html.includes('Remove the secret') && html.includes('Remove the webhook'));
  const plain = render(<WebhookFields f={ruleForm(undefined)} setF={() => {}} />);
  assert.ok(!plain.includes('is set') && !plain.includes('URL set'), plain);
  const removed = render(<WebhookFields f={withoutSecret(ruleForm(slackRule))} setF={() => {}} />);
  assert.ok(removed.includes('The signing secret is removed when the rule is saved.'), removed);
});

test('the sign-in page offers a password reset; setup asks for the deploy\'s secret', () => {
  const api = new Api('', () => new Promise<Response>(() => {}));
  const login = render(<Login api={api} onDone={async () => {}} />);
  assert.match(login, /<a href="#\/forgot-password">Forgot your password\?<\/a>/);
  const setup = render(<Setup api={api} onDone={async () => {}} />);
  assert.match(setup, /<label>Setup secret<input type="password"[^>]*aria-describedby="setup-secret-hint"/);
  assert.ok(setup.includes('terraform output -raw setup_secret') && setup.includes('SetupSecretCommand'));
});

test('audit log entries name who made the change', () => {
  const entry = (actor: AuditEntry['actor']): AuditEntry => ({
    id: '1', actor, event: 'member.invite', ipAddress: null, note: 'invited member b@acme.test as member',
    targetObject: null, targetUser: { email: 'b@acme.test' }, data: {}, dateCreated: null,
  });
  assert.equal(actorName(entry({ email: 'ann@acme.test', name: 'ann@acme.test' })), 'ann@acme.test');
  assert.equal(actorName(entry({ email: 'ann@acme.test', name: 'Ann' })), 'Ann (ann@acme.test)');
  assert.equal(actorName(entry(null)), 'Errata');
});

test('the account page asks for the current password and offers to sign out everywhere', () => {
  const html = render(
    <AppContext.Provider value={app}>
      <Account />
    </AppContext.Provider>,
  );
  for (const label of ['Current password', 'New password', 'Repeat the new password']) {
    assert.match(html, new RegExp(`<label>${label}<input type="password"`), label);
  }
  assert.ok(html.includes('Sign out everywhere'));
});

test('the audit log filters by event and pages to older entries', () => {
  const html = render(
    <AppContext.Provider value={app}>
      <AuditLog org="acme" />
    </AppContext.Provider>,
  );
  assert.match(html, /<label for="audit-event">Event<\/label><select id="audit-event"/);
  assert.ok(html.includes('Older →'));
});

test('the search bar starts with the current query', () => {
  const html = render(<SearchBar initial="is:unresolved level:error" onSearch={() => {}} context={{ tagKeys: [], environments: [], releases: [], members: [] }} />);
  assert.match(html, /value="is:unresolved level:error"/);
});
