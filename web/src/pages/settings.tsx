// Settings: the organization's members, and per project its general options, DSN keys with
// install snippets and rate limits, alert rules, inbound filters, data scrubbing and debug files.
import { useEffect, useState } from 'preact/hooks';
import { installSnippet, type Platform } from '../format.js';
import { go, href, PROJECT_SECTIONS } from '../route.js';
import type { Action, Condition, Filter, Key, Member, ProjectDetail, Rule, RuleFilter } from '../types.js';
import { attempt, CopyButton, Empty, ErrorBox, Skeleton, Time, useApp, useLoad } from '../ui.js';
import { pickProject, useMembers, useProjects } from './common.js';

const TITLES: Record<string, string> = {
  members: 'Members',
  general: 'General',
  keys: 'Client keys (DSN)',
  alerts: 'Alert rules',
  filters: 'Inbound filters',
  scrubbing: 'Data scrubbing',
  'debug-files': 'Debug files and source maps',
};

export function Settings({ org, project, section, id }: { org: string; project?: string; section: string; id?: string }) {
  const app = useApp();
  const projects = useProjects(org);
  const current = pickProject(projects.data, project, app.config.project);
  const role = app.me.organizations.find((o) => o.slug === org)?.role ?? 'member';
  const admin = role !== 'member';
  let body;
  if (section === 'members') body = <Members org={org} role={role} />;
  else if (!project) body = <Skeleton rows={4} />;
  else if (section === 'general') body = <General org={org} project={project} admin={admin} />;
  else if (section === 'keys') body = <Keys org={org} project={project} admin={admin} />;
  else if (section === 'alerts') body = id ? <RuleEditor org={org} project={project} id={id} admin={admin} /> : <Rules org={org} project={project} admin={admin} />;
  else if (section === 'filters') body = <Filters org={org} project={project} admin={admin} />;
  else if (section === 'scrubbing') body = <Scrubbing org={org} project={project} admin={admin} />;
  else body = <DebugFiles org={org} project={project} admin={admin} />;
  return (
    <div class="settings">
      <nav class="side-nav" aria-label="Settings">
        <h2>Organization</h2>
        <a href={href({ name: 'settings', org, section: 'members' })} aria-current={section === 'members' ? 'page' : undefined}>Members</a>
        <h2>Project</h2>
        {projects.data && projects.data.length > 1 && current && (
          <select
            aria-label="Project"
            value={project ?? current.slug}
            onChange={(e) => go({ name: 'settings', org, project: (e.target as HTMLSelectElement).value, section: section === 'members' ? 'general' : section })}
          >
            {projects.data.map((p) => (
              <option key={p.slug} value={p.slug}>{p.name}</option>
            ))}
          </select>
        )}
        {current &&
          PROJECT_SECTIONS.map((s) => (
            <a key={s} href={href({ name: 'settings', org, project: project ?? current.slug, section: s })} aria-current={project && section === s ? 'page' : undefined}>
              {TITLES[s]}
            </a>
          ))}
      </nav>
      <section class="settings-body">
        <h1>{TITLES[section] ?? section}{project && <span class="muted"> · {project}</span>}</h1>
        {!admin && section !== 'members' && <p class="note">You are a member: admins and owners change these settings.</p>}
        {body}
      </section>
    </div>
  );
}

const enc = encodeURIComponent;

function Members({ org, role }: { org: string; role: string }) {
  const app = useApp();
  const members = useMembers(org);
  const [email, setEmail] = useState('');
  const [newRole, setNewRole] = useState('member');
  const path = `organizations/${enc(org)}/members/`;
  if (members.error) return <ErrorBox error={members.error} retry={members.reload} />;
  if (!members.data) return <Skeleton rows={3} />;
  return (
    <>
      <table class="table">
        <thead>
          <tr><th>Member</th><th>Role</th><th /></tr>
        </thead>
        <tbody>
          {members.data.map((m: Member) => (
            <tr key={m.id}>
              <td>
                {m.email}
                {m.pending && <span class="badge">{m.expired ? 'invitation expired' : 'invited'}</span>}
              </td>
              <td>
                {role === 'owner' && !m.pending ? (
                  <select
                    aria-label={`Role of ${m.email}`}
                    value={m.role}
                    onChange={async (e) => {
                      const r = (e.target as HTMLSelectElement).value;
                      if (await attempt(app, () => app.api.put(`${path}${enc(m.id)}/`, { role: r }), `${m.email} is now ${r}`)) members.reload();
                      else members.reload();
                    }}
                  >
                    {['member', 'admin', 'owner'].map((r) => <option key={r} value={r}>{r}</option>)}
                  </select>
                ) : (
                  m.role
                )}
              </td>
              <td>
                <div class="row-actions">
                {(role !== 'member' || m.email === app.me.email) && (
                  <button
                    type="button"
                    class="danger small"
                    onClick={async () => {
                      const self = m.email === app.me.email;
                      if (!confirm(self ? `Leave ${org}?` : `Remove ${m.email} from ${org}?`)) return;
                      if (!(await attempt(app, () => app.api.del(`${path}${enc(m.id)}/`), self ? `You left ${org}` : `Removed ${m.email}`))) return;
                      if (self) {
                        await app.refreshMe();
                        location.hash = '#/';
                      } else {
                        members.reload();
                      }
                    }}
                  >
                    {m.email === app.me.email ? 'Leave' : 'Remove'}
                  </button>
                )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {role !== 'member' && (
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await attempt(app, () => app.api.post(path, { email, role: newRole }), `Invitation sent to ${email}`)) {
              setEmail('');
              members.reload();
            }
          }}
        >
          <h2>Invite someone</h2>
          <input type="email" required aria-label="E-mail address" placeholder="name@example.com" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
          <select aria-label="Role" value={newRole} onChange={(e) => setNewRole((e.target as HTMLSelectElement).value)}>
            <option value="member">member</option>
            <option value="admin">admin</option>
            {role === 'owner' && <option value="owner">owner</option>}
          </select>
          <button type="submit" class="primary">Send invitation</button>
        </form>
      )}
    </>
  );
}

function useProject(org: string, project: string) {
  const { api } = useApp();
  const path = `projects/${enc(org)}/${enc(project)}/`;
  return { path, loaded: useLoad<ProjectDetail>(`project:${org}:${project}`, () => api.get(path), () => api.cached(path)) };
}

function General({ org, project, admin }: { org: string; project: string; admin: boolean }) {
  const app = useApp();
  const { path, loaded } = useProject(org, project);
  const [form, setForm] = useState<{ name: string; rules: string; retention: string } | null>(null);
  useEffect(() => {
    if (loaded.data) setForm({ name: loaded.data.name, rules: loaded.data.fingerprintingRules ?? '', retention: loaded.data.settings?.retention_days?.toString() ?? '' });
  }, [loaded.data]);
  if (loaded.error) return <ErrorBox error={loaded.error} retry={loaded.reload} />;
  if (!form) return <Skeleton rows={4} />;
  return (
    <form
      class="stack-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const retention = form.retention.trim() ? Number(form.retention) : null;
        if (await attempt(app, () => app.api.put(path, { name: form.name, fingerprintingRules: form.rules, settings: { retention_days: retention } }), 'Saved')) loaded.reload();
      }}
    >
      <fieldset disabled={!admin}>
        <label>
          Name
          <input required value={form.name} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          Keep events for (days; empty: the stack's retention)
          <input type="number" min={1} value={form.retention} onInput={(e) => setForm({ ...form, retention: (e.target as HTMLInputElement).value })} />
        </label>
        <label>
          Fingerprint rules (Sentry's syntax, one per line)
          <textarea
            rows={6}
            spellcheck={false}
            placeholder={'error.type:DatabaseError -> database-errors\nmessage:"*timeout*" -> timeouts, {{ default }}'}
            value={form.rules}
            onInput={(e) => setForm({ ...form, rules: (e.target as HTMLTextAreaElement).value })}
          />
        </label>
        <button type="submit" class="primary">Save</button>
      </fieldset>
    </form>
  );
}

const PLATFORMS: [Platform, string][] = [
  ['python', 'Python'],
  ['javascript', 'JavaScript'],
  ['node', 'Node.js'],
  ['rust', 'Rust'],
];

function Keys({ org, project, admin }: { org: string; project: string; admin: boolean }) {
  const app = useApp();
  const path = `projects/${enc(org)}/${enc(project)}/keys/`;
  const keys = useLoad<Key[]>(`keys:${org}:${project}`, () => app.api.get(path), () => app.api.cached(path));
  const [platform, setPlatform] = useState<Platform>('python');
  if (keys.error) return <ErrorBox error={keys.error} retry={keys.reload} />;
  if (!keys.data) return <Skeleton rows={3} height={80} />;
  const active = keys.data.find((k) => k.isActive);
  const snippet = active ? installSnippet(platform, active.dsn.public) : undefined;
  const change = async (work: () => Promise<unknown>, done: string) => {
    if (await attempt(app, work, done)) keys.reload();
  };
  return (
    <>
      {snippet && (
        <section class="panel">
          <h2>Send errors from your app</h2>
          <div class="segmented" role="tablist" aria-label="Platform">
            {PLATFORMS.map(([p, label]) => (
              <button key={p} type="button" role="tab" aria-selected={platform === p} onClick={() => setPlatform(p)}>{label}</button>
            ))}
          </div>
          <div class="snippet">
            <pre><code>{snippet.install}</code></pre>
            <CopyButton text={snippet.install} />
          </div>
          <div class="snippet">
            <pre><code>{snippet.code}</code></pre>
            <CopyButton text={snippet.code} />
          </div>
        </section>
      )}
      {keys.data.length === 0 && <Empty title="No keys">Create one to get a DSN.</Empty>}
      {keys.data.map((k) => (
        <KeyPanel key={k.id} k={k} admin={admin} change={change} path={`${path}${enc(k.id)}/`} />
      ))}
      {admin && (
        <button type="button" class="primary" onClick={() => void change(() => app.api.post(path, { name: `Key ${keys.data!.length + 1}` }), 'Key created')}>
          New key
        </button>
      )}
    </>
  );
}

function KeyPanel({ k, admin, change, path }: { k: Key; admin: boolean; change: (w: () => Promise<unknown>, done: string) => Promise<void>; path: string }) {
  const app = useApp();
  const [name, setName] = useState(k.name);
  const [count, setCount] = useState(k.rateLimit?.count?.toString() ?? '');
  const [window, setWindow] = useState(k.rateLimit?.window?.toString() ?? '60');
  return (
    <section class={`panel key${k.isActive ? '' : ' disabled'}`}>
      <div class="panel-head">
        <h2>{k.name}{!k.isActive && <span class="badge">disabled</span>}</h2>
      </div>
      <div class="snippet">
        <pre aria-label="DSN"><code class="dsn">{k.dsn.public}</code></pre>
        <CopyButton text={k.dsn.public} label="Copy DSN" />
      </div>
      {admin && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const rateLimit = count.trim() ? { count: Number(count), window: Number(window) } : null;
            void change(() => app.api.put(path, { name, rateLimit }), 'Key saved');
          }}
        >
          <label>Name <input value={name} required onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
          <label>
            Rate limit: at most <input type="number" min={1} class="short" value={count} placeholder="∞" onInput={(e) => setCount((e.target as HTMLInputElement).value)} /> events per{' '}
            <input type="number" min={1} class="short" value={window} onInput={(e) => setWindow((e.target as HTMLInputElement).value)} /> seconds
          </label>
          <button type="submit">Save</button>
          <button type="button" onClick={() => void change(() => app.api.put(path, { isActive: !k.isActive }), k.isActive ? 'Key disabled' : 'Key enabled')}>
            {k.isActive ? 'Disable' : 'Enable'}
          </button>
          <button
            type="button"
            onClick={() => {
              if (confirm('Rotate: a new key replaces this one, which is disabled. Update your apps with the new DSN.')) void change(() => app.api.post(`${path}rotate/`), 'Key rotated');
            }}
          >
            Rotate
          </button>
          <button
            type="button"
            class="danger"
            onClick={() => {
              if (confirm(`Delete ${k.name}? Apps using its DSN stop being heard.`)) void change(() => app.api.del(path), 'Key deleted');
            }}
          >
            Delete
          </button>
        </form>
      )}
    </section>
  );
}

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
  return `${a.format === 'slack' ? 'Slack' : 'webhook'} ${a.url}`;
}

function Rules({ org, project, admin }: { org: string; project: string; admin: boolean }) {
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
  webhook: string;
  format: 'slack' | 'generic';
  secret: string;
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
    secret: hook?.secret ?? '',
    frequency: r?.frequency.toString() ?? '30',
    muted: r?.muted ?? false,
  };
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
  if (f.webhook.trim()) actions.push({ id: 'webhook', url: f.webhook.trim(), format: f.format, ...(f.secret ? { secret: f.secret } : {}) });
  return { name: f.name, actionMatch: f.action_match, conditions, filters, actions, frequency: Number(f.frequency), muted: f.muted };
}

function RuleEditor({ org, project, id, admin }: { org: string; project: string; id: string; admin: boolean }) {
  const app = useApp();
  const base = `projects/${enc(org)}/${enc(project)}/rules/`;
  const isNew = id === 'new';
  const rule = useLoad<Rule>(isNew ? null : `rule:${id}`, () => app.api.get(`${base}${enc(id)}/`));
  const [f, setF] = useState<RuleForm | null>(isNew ? ruleForm(undefined) : null);
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
        const ok = await attempt(app, () => (isNew ? app.api.post(base, body) : app.api.put(`${base}${enc(id)}/`, body)), 'Rule saved');
        if (ok) go({ name: 'settings', org, project, section: 'alerts' });
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
          <label>Call a webhook <input type="url" placeholder="https://hooks.slack.com/…" {...text('webhook')} /></label>
          <label>
            Body{' '}
            <select value={f.format} onChange={(e) => setF({ ...f, format: (e.target as HTMLSelectElement).value as 'slack' | 'generic' })}>
              <option value="generic">generic JSON</option>
              <option value="slack">Slack</option>
            </select>
          </label>
          <label>Signing secret (optional) <input {...text('secret')} /></label>
        </fieldset>
        <label>At most one notification per issue every <input type="number" min={1} class="short" {...text('frequency')} /> minutes</label>
        <label class="check"><input type="checkbox" {...check('muted')} /> Muted</label>
        <div class="form-actions">
          <button type="submit" class="primary">{isNew ? 'Create rule' : 'Save rule'}</button>
          <a href={href({ name: 'settings', org, project, section: 'alerts' })}>Cancel</a>
        </div>
      </fieldset>
    </form>
  );
}

function Filters({ org, project, admin }: { org: string; project: string; admin: boolean }) {
  const app = useApp();
  const path = `projects/${enc(org)}/${enc(project)}/filters/`;
  const filters = useLoad<Filter[]>(`filters:${org}:${project}`, () => app.api.get(path), () => app.api.cached(path));
  if (filters.error) return <ErrorBox error={filters.error} retry={filters.reload} />;
  if (!filters.data) return <Skeleton rows={6} height={36} />;
  return (
    <ul class="filter-list">
      {filters.data.map((f) => (
        <FilterRow key={f.id} f={f} admin={admin} save={async (body) => {
          if (await attempt(app, () => app.api.put(`${path}${enc(f.id)}/`, body), 'Filter saved')) filters.reload();
        }} />
      ))}
    </ul>
  );
}

function FilterRow({ f, admin, save }: { f: Filter; admin: boolean; save: (body: Record<string, unknown>) => Promise<void> }) {
  const [patterns, setPatterns] = useState((f.patterns ?? []).join('\n'));
  return (
    <li class="panel">
      <label class="check">
        <input type="checkbox" disabled={!admin} checked={f.active} onChange={(e) => void save({ active: (e.target as HTMLInputElement).checked })} />
        {f.name}
      </label>
      {f.patterns && (
        <form
          class="patterns"
          onSubmit={(e) => {
            e.preventDefault();
            void save({ active: true, patterns: patterns.split('\n').map((p) => p.trim()).filter(Boolean) });
          }}
        >
          <textarea rows={3} disabled={!admin} aria-label={`Patterns: ${f.name}`} placeholder="One glob per line, like *ConnectionResetError*" value={patterns} onInput={(e) => setPatterns((e.target as HTMLTextAreaElement).value)} />
          {admin && <button type="submit">Save patterns</button>}
        </form>
      )}
    </li>
  );
}

function Scrubbing({ org, project, admin }: { org: string; project: string; admin: boolean }) {
  const app = useApp();
  const { path, loaded } = useProject(org, project);
  const [f, setF] = useState<{ on: boolean; ip: boolean; sensitive: string; safe: string } | null>(null);
  useEffect(() => {
    const p = loaded.data;
    if (p) setF({ on: p.dataScrubber, ip: p.scrubIPAddresses, sensitive: p.sensitiveFields.join('\n'), safe: p.safeFields.join('\n') });
  }, [loaded.data]);
  if (loaded.error) return <ErrorBox error={loaded.error} retry={loaded.reload} />;
  if (!f) return <Skeleton rows={4} />;
  const lines = (s: string) => s.split('\n').map((x) => x.trim()).filter(Boolean);
  return (
    <form
      class="stack-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const body = { dataScrubber: f.on, scrubIPAddresses: f.ip, sensitiveFields: lines(f.sensitive), safeFields: lines(f.safe) };
        if (await attempt(app, () => app.api.put(path, body), 'Saved')) loaded.reload();
      }}
    >
      <fieldset disabled={!admin}>
        <label class="check"><input type="checkbox" checked={f.on} onChange={(e) => setF({ ...f, on: (e.target as HTMLInputElement).checked })} /> Scrub passwords, tokens, card numbers and other secrets from events</label>
        <label class="check"><input type="checkbox" checked={f.ip} onChange={(e) => setF({ ...f, ip: (e.target as HTMLInputElement).checked })} /> Remove IP addresses</label>
        <label>Also scrub fields named (one per line)<textarea rows={4} value={f.sensitive} onInput={(e) => setF({ ...f, sensitive: (e.target as HTMLTextAreaElement).value })} /></label>
        <label>Never scrub fields named (one per line)<textarea rows={3} value={f.safe} onInput={(e) => setF({ ...f, safe: (e.target as HTMLTextAreaElement).value })} /></label>
        <button type="submit" class="primary">Save</button>
      </fieldset>
    </form>
  );
}

interface DebugFile {
  id: string;
  debugId: string;
  codeId: string | null;
  objectName: string;
  cpuName: string;
  symbolType: string;
  size: number;
  dateCreated: string | null;
  data: { type?: string; features?: string[] };
}

function DebugFiles({ org, project, admin }: { org: string; project: string; admin: boolean }) {
  const app = useApp();
  const path = `projects/${enc(org)}/${enc(project)}/files/dsyms/`;
  const files = useLoad<DebugFile[]>(`difs:${org}:${project}`, () => app.api.get(path), () => app.api.cached(path));
  const upload = `SENTRY_URL=<the API's URL root> SENTRY_AUTH_TOKEN=<a token with project:releases> \\\n  sentry-cli debug-files upload --org ${org} --project ${project} path/to/build`;
  return (
    <>
      <section class="panel">
        <h2>Upload with sentry-cli</h2>
        <div class="snippet">
          <pre><code>{upload}</code></pre>
          <CopyButton text={upload} />
        </div>
        <p class="muted small">ELF/DWARF, Mach-O/dSYM, PE/PDB, Breakpad and source bundles; files are found again by debug id. Source maps arrive with JavaScript symbolication.</p>
      </section>
      {files.error ? (
        <ErrorBox error={files.error} retry={files.reload} />
      ) : !files.data ? (
        <Skeleton rows={3} />
      ) : files.data.length === 0 ? (
        <Empty title="No debug files yet">Upload your builds' debug files with the command above.</Empty>
      ) : (
        <table class="table">
          <thead>
            <tr><th>Debug id</th><th>Name</th><th>Kind</th><th>Features</th><th class="num">Size</th><th>Uploaded</th><th /></tr>
          </thead>
          <tbody>
            {files.data.map((f) => (
              <tr key={f.id}>
                <td><code>{f.debugId}</code></td>
                <td>{f.objectName}</td>
                <td>{f.symbolType} · {f.cpuName}{f.data.type ? ` · ${f.data.type}` : ''}</td>
                <td>{(f.data.features ?? []).join(', ')}</td>
                <td class="num">{(f.size / 1024).toFixed(0)} KiB</td>
                <td><Time iso={f.dateCreated} /></td>
                <td>
                  {admin && (
                    <button
                      type="button"
                      class="danger small"
                      onClick={async () => {
                        if (confirm(`Delete ${f.objectName} (${f.debugId})?`) && (await attempt(app, () => app.api.del(path, { id: f.id }), 'Debug file deleted'))) files.reload();
                      }}
                    >
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
