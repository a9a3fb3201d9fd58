// Project settings: name, retention and fingerprint rules; DSN keys with install snippets and
// rate limits; inbound filters; data scrubbing.
import { useEffect, useState } from 'preact/hooks';
import { installSnippet, type Platform } from '../format.js';
import type { Filter, Key, ProjectDetail } from '../types.js';
import { attempt, CopyButton, Empty, ErrorBox, Skeleton, useApp, useLoad } from '../ui.js';
import { enc } from './common.js';


function useProject(org: string, project: string) {
  const { api } = useApp();
  const path = `projects/${enc(org)}/${enc(project)}/`;
  return { path, loaded: useLoad<ProjectDetail>(`project:${org}:${project}`, () => api.get(path), () => api.cached(path)) };
}

export function General({ org, project, admin }: { org: string; project: string; admin: boolean }) {
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

export function Keys({ org, project, admin }: { org: string; project: string; admin: boolean }) {
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

export function Filters({ org, project, admin }: { org: string; project: string; admin: boolean }) {
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

export function Scrubbing({ org, project, admin }: { org: string; project: string; admin: boolean }) {
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

