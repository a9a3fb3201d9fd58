// Alert rules: the list (mute, delete) and the editor for conditions, filters and actions.
import { useEffect, useState } from 'preact/hooks';
import { go, href } from '../route.js';
import type { Action, Condition, Rule, RuleFilter } from '../types.js';
import { attempt, Empty, ErrorBox, Skeleton, useApp, useLoad } from '../ui.js';
import { enc } from './common.js';


function describeCondition(c: Condition): string {
  switch (c.id) {
    case 'first_seen':
      return 'a new issue is created';
    case 'regression':
      return 'a resolved issue comes back';
    case 'escalation':
      return 'an ignored issue escalates';
    case 'event_frequency':
      return `an issue has more than ${c.value} events in ${c.interval_minutes} minutes`;
    case 'unique_users':
      return `an issue affects more than ${c.value} users in ${c.interval_minutes} minutes`;
  }
}

function describeAction(a: Action): string {
  if (a.id === 'email') return a.addresses.length ? `e-mail ${a.addresses.join(', ')}` : 'e-mail the members';
  // A Slack webhook's URL is a credential the API does not show: its host is enough to know it.
  const where = a.url ?? (a.host ? `at ${a.host}` : '');
  return `${a.format === 'slack' ? 'Slack' : 'webhook'} ${where}`.trim();
}

export function Rules({ org, project, admin }: { org: string; project: string; admin: boolean }) {
  const app = useApp();
  const path = `projects/${enc(org)}/${enc(project)}/rules/`;
  const rules = useLoad<Rule[]>(`rules:${org}:${project}`, () => app.api.get(path), () => app.api.cached(path));
  if (rules.error) return <ErrorBox error={rules.error} retry={rules.reload} />;
  if (!rules.data) return <Skeleton rows={3} />;
  return (
    <>
      {rules.data.length === 0 && <Empty title="No alert rules">Nobody is told about new issues. Add a rule.</Empty>}
      <ul class="rules">
        {rules.data.map((r) => (
          <li key={r.id} class={`panel${r.muted ? ' disabled' : ''}`}>
            <div class="panel-head">
              <h2>
                <a href={href({ name: 'settings', org, project, section: 'alerts', id: r.id })}>{r.name}</a>
                {r.muted && <span class="badge">muted</span>}
              </h2>
              {admin && (
                <div class="row-actions">
                  <button
                    type="button"
                    onClick={async () => {
                      if (await attempt(app, () => app.api.put(`${path}${enc(r.id)}/`, { muted: !r.muted }), r.muted ? 'Rule unmuted' : 'Rule muted')) rules.reload();
                    }}
                  >
                    {r.muted ? 'Unmute' : 'Mute'}
                  </button>
                  <button
                    type="button"
                    class="danger"
                    onClick={async () => {
                      if (confirm(`Delete the rule "${r.name}"?`) && (await attempt(app, () => app.api.del(`${path}${enc(r.id)}/`), 'Rule deleted'))) rules.reload();
                    }}
                  >
                    Delete
                  </button>
                </div>
              )}
            </div>
            <p>
              When {r.conditions.map(describeCondition).join(r.action_match === 'all' ? ' and ' : ' or ')}: {r.actions.map(describeAction).join('; ')}, at most every {r.frequency} minutes per issue.
            </p>
          </li>
        ))}
      </ul>
      {admin && <a class="button primary" href={href({ name: 'settings', org, project, section: 'alerts', id: 'new' })}>New alert rule</a>}
    </>
  );
}

interface RuleForm {
  name: string;
  action_match: 'any' | 'all';
  first_seen: boolean;
  regression: boolean;
  escalation: boolean;
  events: string;
  users: string;
  interval: string;
  level: string;
  environment: string;
  emails: string;
  email: boolean;
  /** The webhook URL typed; empty while a stored one the API does not show (`urlSet`) is kept. */
  webhook: string;
  format: 'slack' | 'generic';
  /** A stored Slack webhook URL exists (write-only), and the host it goes to. */
  urlSet: boolean;
  host: string;
  /** A new signing secret; empty keeps the stored one (`secretSet`) unless `clearSecret`. */
  secret: string;
  secretSet: boolean;
  clearSecret: boolean;
  frequency: string;
  muted: boolean;
}

/** The editor's fields for a rule (a new rule: new issues and regressions, e-mail the members). */
export function ruleForm(r: Rule | undefined): RuleForm {
  const c = (id: string) => r?.conditions.find((x) => x.id === id);
  const ev = c('event_frequency') as Extract<Condition, { id: 'event_frequency' }> | undefined;
  const us = c('unique_users') as Extract<Condition, { id: 'unique_users' }> | undefined;
  const lvl = r?.filters.find((f) => f.id === 'level') as Extract<RuleFilter, { id: 'level' }> | undefined;
  const env = r?.filters.find((f) => f.id === 'environment') as Extract<RuleFilter, { id: 'environment' }> | undefined;
  const mail = r?.actions.find((a) => a.id === 'email') as Extract<Action, { id: 'email' }> | undefined;
  const hook = r?.actions.find((a) => a.id === 'webhook') as Extract<Action, { id: 'webhook' }> | undefined;
  return {
    name: r?.name ?? '',
    action_match: r?.action_match ?? 'any',
    first_seen: r ? !!c('first_seen') : true,
    regression: r ? !!c('regression') : true,
    escalation: !!c('escalation'),
    events: ev?.value.toString() ?? '',
    users: us?.value.toString() ?? '',
    interval: (ev ?? us)?.interval_minutes.toString() ?? '60',
    level: lvl?.at_least ?? '',
    environment: env?.value ?? '',
    emails: mail?.addresses.join(', ') ?? '',
    email: r ? !!mail : true,
    webhook: hook?.url ?? '',
    format: hook?.format ?? 'generic',
    urlSet: !hook?.url && !!hook?.urlSet,
    host: hook?.host ?? '',
    secret: '',
    secretSet: !!hook?.secretSet,
    clearSecret: false,
    frequency: r?.frequency.toString() ?? '30',
    muted: r?.muted ?? false,
  };
}

/** The fields after "Remove the secret": saving sends `"secret": ""` unless a new one is typed. */
export function withoutSecret(f: RuleForm): RuleForm {
  return { ...f, secret: '', secretSet: false, clearSecret: f.secretSet || f.clearSecret };
}

/** The fields after "Remove the webhook" (whose URL the form cannot empty when it is not shown):
 * no webhook action is sent; a new URL typed afterwards does not inherit the old secret. */
export function withoutWebhook(f: RuleForm): RuleForm {
  return { ...withoutSecret(f), webhook: '', urlSet: false, host: '' };
}

/** The webhook action of the fields, if any. The stored URL and secret are never shown, so they
 * are left out to keep them: only what the person typed (or removed) is sent. A new rule has
 * nothing stored, so whatever was typed is sent. */
export function webhookAction(f: RuleForm): Action | undefined {
  const url = f.webhook.trim();
  if (!url && !f.urlSet) return undefined;
  const action: Extract<Action, { id: 'webhook' }> = { id: 'webhook', format: f.format };
  if (url) action.url = url;
  if (f.secret) action.secret = f.secret;
  else if (f.clearSecret) action.secret = '';
  return action;
}

/** The API body for the editor's fields; the API validates it and says what is wrong. */
export function ruleBody(f: RuleForm): Record<string, unknown> {
  const conditions: Condition[] = [];
  if (f.first_seen) conditions.push({ id: 'first_seen' });
  if (f.regression) conditions.push({ id: 'regression' });
  if (f.escalation) conditions.push({ id: 'escalation' });
  const interval = Number(f.interval);
  if (f.events.trim()) conditions.push({ id: 'event_frequency', value: Number(f.events), interval_minutes: interval });
  if (f.users.trim()) conditions.push({ id: 'unique_users', value: Number(f.users), interval_minutes: interval });
  const filters: RuleFilter[] = [];
  if (f.level) filters.push({ id: 'level', at_least: f.level });
  if (f.environment.trim()) filters.push({ id: 'environment', value: f.environment.trim() });
  const actions: Action[] = [];
  if (f.email) actions.push({ id: 'email', addresses: f.emails.split(/[\s,]+/).filter(Boolean) });
  const hook = webhookAction(f);
  if (hook) actions.push(hook);
  return { name: f.name, actionMatch: f.action_match, conditions, filters, actions, frequency: Number(f.frequency), muted: f.muted };
}

export function RuleEditor({ org, project, id, admin }: { org: string; project: string; id: string; admin: boolean }) {
  const app = useApp();
  const base = `projects/${enc(org)}/${enc(project)}/rules/`;
  const isNew = id === 'new';
  const rule = useLoad<Rule>(isNew ? null : `rule:${id}`, () => app.api.get(`${base}${enc(id)}/`));
  const [f, setF] = useState<RuleForm | null>(isNew ? ruleForm(undefined) : null);
  // The API's reason for refusing the rule (a webhook URL to a private address…), shown by the
  // form rather than in a notice that fades while the person reads the form.
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (rule.data) setF(ruleForm(rule.data));
  }, [rule.data]);
  if (rule.error) return <ErrorBox error={rule.error} retry={rule.reload} />;
  if (!f) return <Skeleton rows={6} />;
  const text = (k: keyof RuleForm) => ({ value: f[k] as string, onInput: (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value }) });
  const check = (k: keyof RuleForm) => ({ checked: f[k] as boolean, onChange: (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).checked }) });
  return (
    <form
      class="stack-form rule-editor"
      onSubmit={async (e) => {
        e.preventDefault();
        const body = ruleBody(f);
        setError(undefined);
        setBusy(true);
        try {
          await (isNew ? app.api.post(base, body) : app.api.put(`${base}${enc(id)}/`, body));
        } catch (err) {
          setError(err instanceof Error ? err.message : String(err));
          return;
        } finally {
          setBusy(false);
        }
        app.notify('Rule saved');
        go({ name: 'settings', org, project, section: 'alerts' });
      }}
    >
      <fieldset disabled={!admin}>
        <label>Name <input required {...text('name')} /></label>
        <fieldset>
          <legend>
            When{' '}
            <select aria-label="Match" value={f.action_match} onChange={(e) => setF({ ...f, action_match: (e.target as HTMLSelectElement).value as 'any' | 'all' })}>
              <option value="any">any</option>
              <option value="all">all</option>
            </select>{' '}
            of these happen
          </legend>
          <label class="check"><input type="checkbox" {...check('first_seen')} /> A new issue is created</label>
          <label class="check"><input type="checkbox" {...check('regression')} /> A resolved issue comes back</label>
          <label class="check"><input type="checkbox" {...check('escalation')} /> An ignored issue escalates</label>
          <label>An issue has more than <input type="number" min={1} class="short" placeholder="—" {...text('events')} /> events</label>
          <label>An issue affects more than <input type="number" min={1} class="short" placeholder="—" {...text('users')} /> users</label>
          <label>… within <input type="number" min={1} class="short" {...text('interval')} /> minutes</label>
        </fieldset>
        <fieldset>
          <legend>Only if</legend>
          <label>
            Level is at least{' '}
            <select value={f.level} onChange={(e) => setF({ ...f, level: (e.target as HTMLSelectElement).value })}>
              <option value="">any level</option>
              {['debug', 'info', 'warning', 'error', 'fatal'].map((l) => <option key={l} value={l}>{l}</option>)}
            </select>
          </label>
          <label>Environment is <input placeholder="any" {...text('environment')} /></label>
        </fieldset>
        <fieldset>
          <legend>Then</legend>
          <label class="check"><input type="checkbox" {...check('email')} /> Send an e-mail</label>
          <label>To (empty: the organization's members) <input placeholder="oncall@example.com" {...text('emails')} /></label>
          <WebhookFields f={f} setF={setF} />
        </fieldset>
        <label>At most one notification per issue every <input type="number" min={1} class="short" {...text('frequency')} /> minutes</label>
        <label class="check"><input type="checkbox" {...check('muted')} /> Muted</label>
        {error && <p class="form-error" role="alert">{error}</p>}
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>{isNew ? 'Create rule' : 'Save rule'}</button>
          <a href={href({ name: 'settings', org, project, section: 'alerts' })}>Cancel</a>
        </div>
      </fieldset>
    </form>
  );
}

/** The webhook's URL, body format and signing secret. What is stored but never shown (a Slack
 * URL, any secret) is said to be set; leaving its field empty keeps it. */
export function WebhookFields({ f, setF }: { f: RuleForm; setF: (f: RuleForm) => void }) {
  const input = (k: 'webhook' | 'secret') => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  return (
    <>
      <label>
        Call a webhook
        <input
          type="url"
          placeholder={f.urlSet ? 'leave empty to keep the stored URL' : 'https://hooks.slack.com/…'}
          aria-describedby={f.urlSet ? 'webhook-url-hint' : undefined}
          value={f.webhook}
          onInput={input('webhook')}
        />
      </label>
      {f.urlSet && (
        <p id="webhook-url-hint" class="muted small hint row-hint">
          <span>Slack webhook URL set{f.host ? ` (${f.host})` : ''} — leave empty to keep it.</span>
          <button type="button" class="small" onClick={() => setF(withoutWebhook(f))}>Remove the webhook</button>
        </p>
      )}
      <label>
        Body{' '}
        <select value={f.format} onChange={(e) => setF({ ...f, format: (e.target as HTMLSelectElement).value as 'slack' | 'generic' })}>
          <option value="generic">generic JSON</option>
          <option value="slack">Slack</option>
        </select>
      </label>
      <label>
        Signing secret (optional)
        <input
          autoComplete="off"
          placeholder={f.secretSet ? 'leave empty to keep the stored secret' : undefined}
          aria-describedby={f.secretSet || f.clearSecret ? 'webhook-secret-hint' : undefined}
          value={f.secret}
          onInput={input('secret')}
        />
      </label>
      {f.secretSet && (
        <p id="webhook-secret-hint" class="muted small hint row-hint">
          <span>A signing secret is set — leave empty to keep it.</span>
          <button type="button" class="small" onClick={() => setF(withoutSecret(f))}>Remove the secret</button>
        </p>
      )}
      {f.clearSecret && !f.secret && (
        <p id="webhook-secret-hint" class="muted small hint">The signing secret is removed when the rule is saved.</p>
      )}
    </>
  );
}
