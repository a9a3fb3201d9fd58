// The issue page: what happened, how often, to whom, and the event itself — exception chain
// with stack traces, breadcrumbs, request, user, contexts, SDK, tags — with triage actions.
import { useState } from 'preact/hooks';
import { compact, dateTime, frameLocation, visibleFrames, type Frame, type Series } from '../format.js';
import { go, href } from '../route.js';
import type { Breadcrumb, Entry, Event, ExceptionValue, GroupingInfo, Issue, TagKey } from '../types.js';
import { attempt, BarChart, Empty, ErrorBox, KeyValues, LevelBadge, Skeleton, Time, useApp, useLoad, type App } from '../ui.js';
import { useMembers } from './common.js';

export function IssuePage({ org, id, eventId }: { org: string; id: string; eventId?: string }) {
  const app = useApp();
  const path = `issues/${encodeURIComponent(id)}/`;
  const issue = useLoad<Issue>(`issue:${id}`, () => app.api.get(path), () => app.api.cached(path));
  const eventPath = eventId ? `${path}events/${encodeURIComponent(eventId)}/` : `${path}events/latest/`;
  const event = useLoad<Event>(`event:${eventPath}`, () => app.api.get(eventPath), () => app.api.cached(eventPath));

  if (issue.error) return <ErrorBox error={issue.error} retry={issue.reload} />;
  if (!issue.data) return <Skeleton rows={10} />;
  const i = issue.data;
  return (
    <article class="issue-page">
      <p class="crumbs">
        <a href={href({ name: 'stream', org, params: { project: i.project.slug } })}>{i.project.name} issues</a> / <span>{i.shortId}</span>
      </p>
      <header class="issue-head">
        <div class="issue-heading">
          <h1>{i.title}</h1>
          <p class="issue-meta">
            <LevelBadge level={i.level} />
            <span class="culprit">{i.culprit}</span>
            <span class={`status status-${i.status}`}>{statusText(i)}</span>
          </p>
        </div>
        <Actions app={app} org={org} issue={i} onChange={issue.reload} />
      </header>
      <div class="issue-grid">
        <div class="issue-main-col">
          <Volume id={id} />
          {event.error ? (
            event.error.status === 404 && !eventId ? (
              <Empty title="No stored event">This issue's events are past the retention period.</Empty>
            ) : (
              <ErrorBox error={event.error} retry={event.reload} />
            )
          ) : !event.data ? (
            <Skeleton rows={8} />
          ) : (
            <EventView org={org} issue={i} event={event.data} />
          )}
        </div>
        <aside class="issue-side">
          <dl class="facts">
            <div><dt>Events</dt><dd>{compact(i.count)}</dd></div>
            <div><dt>Users</dt><dd>{compact(i.userCount)}</dd></div>
            <div>
              <dt>First seen</dt>
              <dd><Time iso={i.firstSeen} />{i.firstRelease && <span class="muted"> in {i.firstRelease.version}</span>}</dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd><Time iso={i.lastSeen} />{i.lastRelease && <span class="muted"> in {i.lastRelease.version}</span>}</dd>
            </div>
          </dl>
          <Tags id={id} org={org} project={i.project.slug} />
          <WhyGrouped id={id} />
        </aside>
      </div>
    </article>
  );
}

function statusText(i: Issue): string {
  const d = i.statusDetails as Record<string, unknown>;
  if (i.status === 'resolved' && d.inNextRelease) return 'resolved in next release';
  if (i.status === 'ignored' && d.ignoreCount) return `ignored until ${String(d.ignoreCount)} more events`;
  if (i.status === 'ignored' && d.ignoreUntil) return `ignored until ${dateTime(String(d.ignoreUntil))}`;
  return i.status;
}

const IGNORE: [string, string, Record<string, unknown>][] = [
  ['forever', 'Forever', {}],
  ['30m', 'For 30 minutes', { ignoreDuration: 30 }],
  ['2h', 'For 2 hours', { ignoreDuration: 120 }],
  ['24h', 'For 24 hours', { ignoreDuration: 1440 }],
  ['7d', 'For a week', { ignoreDuration: 10080 }],
  ['c10', 'Until 10 more events', { ignoreCount: 10 }],
  ['c100', 'Until 100 more events', { ignoreCount: 100 }],
];

function Actions({ app, org, issue, onChange }: { app: App; org: string; issue: Issue; onChange: () => void }) {
  const members = useMembers(org);
  const path = `issues/${encodeURIComponent(issue.id)}/`;
  const change = async (body: Record<string, unknown>, done: string) => {
    if (await attempt(app, () => app.api.put(path, body), done)) onChange();
  };
  const role = app.me.organizations.find((o) => o.slug === org)?.role ?? 'member';
  return (
    <div class="actions" role="toolbar" aria-label="Issue actions">
      {issue.status === 'unresolved' ? (
        <>
          <button type="button" class="primary" onClick={() => void change({ status: 'resolved' }, 'Resolved')}>Resolve</button>
          <button type="button" onClick={() => void change({ status: 'resolvedInNextRelease' }, 'Resolved in the next release')}>
            Resolve in next release
          </button>
          <select
            aria-label="Ignore"
            value=""
            onChange={(e) => {
              const pick = IGNORE.find(([k]) => k === (e.target as HTMLSelectElement).value);
              if (pick) void change({ status: 'ignored', statusDetails: pick[2] }, `Ignored ${pick[1].toLowerCase()}`);
            }}
          >
            <option value="">Ignore…</option>
            {IGNORE.map(([k, label]) => (
              <option key={k} value={k}>{label}</option>
            ))}
          </select>
        </>
      ) : (
        <button type="button" class="primary" onClick={() => void change({ status: 'unresolved' }, 'Unresolved')}>
          {issue.status === 'resolved' ? 'Unresolve' : 'Stop ignoring'}
        </button>
      )}
      <select
        aria-label="Assignee"
        value={issue.assignedTo?.email ?? ''}
        onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          void change({ assignedTo: v || null }, v ? `Assigned to ${v}` : 'Unassigned');
        }}
      >
        <option value="">Unassigned</option>
        {(members.data ?? [])
          .filter((m) => !m.pending)
          .map((m) => (
            <option key={m.email} value={m.email}>{m.email}</option>
          ))}
      </select>
      {role !== 'member' && (
        <button
          type="button"
          class="danger"
          onClick={async () => {
            if (!confirm(`Delete ${issue.shortId} and its events? New events make a new issue.`)) return;
            if (await attempt(app, () => app.api.del(path), `Deleted ${issue.shortId}`)) {
              go({ name: 'stream', org, params: { project: issue.project.slug } });
            }
          }}
        >
          Delete
        </button>
      )}
    </div>
  );
}

function Volume({ id }: { id: string }) {
  const app = useApp();
  const [period, setPeriod] = useState<'24h' | '30d'>('24h');
  const path = `issues/${encodeURIComponent(id)}/stats/`;
  const q = { statsPeriod: period };
  const stats = useLoad<Series>(`stats:${id}:${period}`, () => app.api.get(path, q), () => app.api.cached(path, q));
  return (
    <section class="panel volume">
      <div class="panel-head">
        <h2>Events</h2>
        <div class="segmented" role="radiogroup" aria-label="Period">
          {(['24h', '30d'] as const).map((p) => (
            <button key={p} type="button" role="radio" aria-checked={period === p} onClick={() => setPeriod(p)}>
              {p === '24h' ? 'Last 24 hours' : 'Last 30 days'}
            </button>
          ))}
        </div>
      </div>
      <div class="chart-box">
        {stats.error ? <p class="muted">{stats.error.message}</p> : stats.data ? <BarChart series={stats.data} hourly={period === '24h'} /> : null}
      </div>
    </section>
  );
}

function Tags({ id, org, project }: { id: string; org: string; project: string }) {
  const app = useApp();
  const path = `issues/${encodeURIComponent(id)}/tags/`;
  const tags = useLoad<TagKey[]>(`tags:${id}`, () => app.api.get(path), () => app.api.cached(path));
  return (
    <section class="panel tags">
      <h2>Tags</h2>
      {tags.error ? (
        <p class="muted">{tags.error.message}</p>
      ) : !tags.data ? (
        <Skeleton rows={4} height={28} />
      ) : tags.data.length === 0 ? (
        <p class="muted">No tags.</p>
      ) : (
        tags.data.map((t) => (
          <div key={t.key} class="tag-dist">
            <h3>{t.key}</h3>
            {t.topValues.map((v) => {
              const pct = t.totalValues ? Math.round((v.count / t.totalValues) * 100) : 0;
              return (
                <a
                  key={v.value}
                  class="tag-bar"
                  href={href({ name: 'stream', org, params: { project, query: `is:unresolved ${t.key}:"${v.value.replace(/"/g, '')}"` } })}
                  title={`${v.count} events`}
                >
                  <span class="tag-fill" style={{ width: `${pct}%` }} />
                  <span class="tag-value">{v.value}</span>
                  <span class="tag-pct">{pct}%</span>
                </a>
              );
            })}
          </div>
        ))
      )}
    </section>
  );
}

function WhyGrouped({ id }: { id: string }) {
  const app = useApp();
  const [open, setOpen] = useState(false);
  const path = `issues/${encodeURIComponent(id)}/grouping-info/`;
  const info = useLoad<GroupingInfo>(open ? `grouping:${id}` : null, () => app.api.get(path));
  return (
    <details class="panel grouping" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Why are these events grouped?</summary>
      {info.error ? (
        <p class="muted">{info.error.message}</p>
      ) : info.data ? (
        <div>
          <p>
            By <strong>{info.data.variant}</strong> ({info.data.config.id}), hash <code>{info.data.hash}</code>, from:
          </p>
          <ol class="components">
            {info.data.components.map((c, n) => (
              <li key={n}><code>{c}</code></li>
            ))}
          </ol>
        </div>
      ) : open ? (
        <Skeleton rows={2} height={20} />
      ) : null}
    </details>
  );
}

export function EventView({ org, issue, event }: { org: string; issue: Issue; event: Event }) {
  const step = (eventId: string | null) => (eventId ? href({ name: 'issue', org, id: issue.id, eventId }) : undefined);
  const entries = event.entries;
  const ofType = <T extends Entry['type']>(t: T) => entries.find((e) => e.type === t) as Extract<Entry, { type: T }> | undefined;
  const exception = ofType('exception');
  const message = ofType('message');
  const crumbs = ofType('breadcrumbs');
  const request = ofType('request');
  return (
    <section class="event" aria-label="Event">
      <div class="event-nav">
        <div>
          <h2>Event <code class="event-id">{event.eventID.slice(0, 8)}</code></h2>
          <span class="muted">
            {dateTime(event.dateCreated)}
            {event.release && <> · release <code>{event.release}</code></>}
            {event.environment && <> · {event.environment}</>}
          </span>
        </div>
        <nav aria-label="Events of this issue" class="steps">
          <a href={href({ name: 'issue', org, id: issue.id, eventId: 'oldest' })} aria-disabled={!event.previousEventID}>Oldest</a>
          <a href={step(event.previousEventID)} aria-disabled={!event.previousEventID} rel="prev">← Older</a>
          <a href={step(event.nextEventID)} aria-disabled={!event.nextEventID} rel="next">Newer →</a>
          <a href={href({ name: 'issue', org, id: issue.id, eventId: 'latest' })} aria-disabled={!event.nextEventID}>Latest</a>
        </nav>
      </div>
      {event.errors && event.errors.length > 0 && <ProcessingErrors errors={event.errors} />}
      {exception && <Exceptions values={exception.data.values} hasSystemFrames={exception.data.hasSystemFrames} />}
      {message && !exception && (
        <section class="panel">
          <h3>Message</h3>
          <pre class="message">{message.data.formatted}</pre>
        </section>
      )}
      {message && exception && message.data.formatted && (
        <section class="panel">
          <h3>Message</h3>
          <pre class="message">{message.data.formatted}</pre>
        </section>
      )}
      {crumbs && <Breadcrumbs values={Array.isArray(crumbs.data.values) ? crumbs.data.values : []} />}
      {request && <Request data={request.data} />}
      <section class="panel">
        <h3>Tags</h3>
        <ul class="pills">
          {event.tags.map((t) => (
            <li key={`${t.key}=${t.value}`}>
              <a href={href({ name: 'stream', org, params: { project: issue.project.slug, query: `${t.key}:"${t.value.replace(/"/g, '')}"` } })}>
                <span class="pill-key">{t.key}</span>
                <span class="pill-value">{t.value}</span>
              </a>
            </li>
          ))}
        </ul>
      </section>
      {event.user && (
        <section class="panel">
          <h3>User</h3>
          <KeyValues data={event.user} />
        </section>
      )}
      {Object.entries(event.contexts ?? {}).map(([name, ctx]) => (
        <section key={name} class="panel">
          <h3>{contextTitle(name, ctx)}</h3>
          <KeyValues data={ctx} />
        </section>
      ))}
      {Object.keys(event.context ?? {}).length > 0 && (
        <section class="panel">
          <h3>Additional data</h3>
          <KeyValues data={event.context} />
        </section>
      )}
      <Attachments org={org} project={issue.project.slug} eventId={event.eventID} />
      {event.sdk && (
        <section class="panel">
          <h3>SDK</h3>
          <KeyValues data={{ name: event.sdk.name, version: event.sdk.version, packages: event.sdk.packages?.map((p) => `${p.name}@${p.version}`).join(', ') }} />
        </section>
      )}
    </section>
  );
}

function ProcessingErrors({ errors }: { errors: NonNullable<Event['errors']> }) {
  return (
    <section class="panel processing-errors" aria-label="Processing errors">
      <h3>{errors.length === 1 ? 'There was a problem processing this event' : `There were ${errors.length} problems processing this event`}</h3>
      <ul>
        {errors.map((e, i) => (
          <li key={i}>
            {e.message}
            {typeof e.data.reason === 'string' && <span class="muted"> — {e.data.reason}</span>}
            {typeof e.data.name === 'string' && <span class="muted"> — <code>{e.data.name}</code></span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function contextTitle(name: string, ctx: Record<string, unknown>): string {
  const t = typeof ctx.type === 'string' ? ctx.type : name;
  return ({ os: 'Operating system', runtime: 'Runtime', browser: 'Browser', device: 'Device', trace: 'Trace', app: 'App' } as Record<string, string>)[t] ?? name;
}

function Exceptions({ values, hasSystemFrames }: { values: ExceptionValue[]; hasSystemFrames: boolean }) {
  const [full, setFull] = useState(false);
  const hasRaw = values.some((v) => v.rawStacktrace?.frames?.length);
  const [raw, setRaw] = useState(false);
  // The exception raised last first; the ones that caused it after.
  const chain = [...values].reverse();
  return (
    <section class="panel exceptions">
      <div class="panel-head">
        <h3>Exception</h3>
        <div class="toggles">
          {hasSystemFrames && (
            <div class="segmented" role="radiogroup" aria-label="Frames">
              <button type="button" role="radio" aria-checked={!full} onClick={() => setFull(false)}>In-app</button>
              <button type="button" role="radio" aria-checked={full} onClick={() => setFull(true)}>Full</button>
            </div>
          )}
          {hasRaw && (
            <div class="segmented" role="radiogroup" aria-label="Symbols">
              <button type="button" role="radio" aria-checked={!raw} onClick={() => setRaw(false)}>Symbolicated</button>
              <button type="button" role="radio" aria-checked={raw} onClick={() => setRaw(true)}>Raw</button>
            </div>
          )}
        </div>
      </div>
      {chain.map((v, n) => {
        const frames = (raw && v.rawStacktrace ? v.rawStacktrace.frames : v.stacktrace?.frames) ?? [];
        return (
          <div key={n} class="exception">
            {n > 0 && <p class="caused-by muted">This was caused by:</p>}
            <h4>
              <span class="exc-type">{v.type ?? 'Error'}</span>
              {v.mechanism?.handled === false && <span class="badge unhandled">unhandled</span>}
              {v.mechanism?.type && <span class="badge">{v.mechanism.type}</span>}
            </h4>
            {v.value && <pre class="exc-value">{v.value}</pre>}
            {frames.length > 0 ? <Frames frames={frames} full={full} /> : <p class="muted">No stack trace.</p>}
          </div>
        );
      })}
    </section>
  );
}

function Frames({ frames, full }: { frames: Frame[]; full: boolean }) {
  const shown = visibleFrames(frames, full);
  const firstInApp = shown.findIndex((f) => f.inApp);
  return (
    <ol class="frames">
      {shown.map((f, n) => (
        <FrameRow key={`${n}:${frameLocation(f)}:${f.function ?? ''}`} frame={f} open={n === (firstInApp >= 0 ? firstInApp : 0)} />
      ))}
    </ol>
  );
}

function FrameRow({ frame, open }: { frame: Frame; open: boolean }) {
  const hasDetail = (frame.context?.length ?? 0) > 0 || Object.keys(frame.vars ?? {}).length > 0;
  const summary = (
    <>
      <span class="frame-file">{frameLocation(frame)}</span>
      {frame.function && (
        <>
          <span class="muted"> in </span>
          <span class="frame-fn">{frame.function}</span>
        </>
      )}
      {frame.inApp ? <span class="badge in-app">in app</span> : null}
      {frame.symbolicated === false && <span class="badge">unsymbolicated</span>}
    </>
  );
  if (!hasDetail) return <li class={`frame${frame.inApp ? ' app' : ''}`}><div class="frame-line">{summary}</div></li>;
  return (
    <li class={`frame${frame.inApp ? ' app' : ''}`}>
      <details open={open}>
        <summary class="frame-line">{summary}</summary>
        {frame.context && frame.context.length > 0 && (
          <ol class="context" aria-label="Source">
            {frame.context.map(([line, code]) => (
              <li key={line} class={line === frame.lineNo ? 'error-line' : undefined} aria-current={line === frame.lineNo ? 'true' : undefined}>
                <span class="ln">{line}</span>
                <code>{code ?? ''}</code>
              </li>
            ))}
          </ol>
        )}
        {frame.vars && Object.keys(frame.vars).length > 0 && <KeyValues data={frame.vars} />}
      </details>
    </li>
  );
}

function crumbTime(t: string | number | undefined): string {
  if (t === undefined) return '';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : dateTime(d.toISOString()).slice(11);
}

function Breadcrumbs({ values }: { values: Breadcrumb[] }) {
  const [all, setAll] = useState(false);
  const ordered = [...values].reverse();
  const shown = all ? ordered : ordered.slice(0, 10);
  return (
    <section class="panel">
      <h3>Breadcrumbs</h3>
      {values.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ol class="crumbs-timeline">
          {shown.map((c, n) => (
            <li key={n} class={`crumb level-${/^[a-z]+$/.test(c.level ?? '') ? c.level : 'info'}`}>
              <span class="crumb-time">{crumbTime(c.timestamp)}</span>
              <span class="crumb-cat">{c.category ?? c.type ?? 'default'}</span>
              <span class="crumb-msg">
                {c.message ?? ''}
                {c.data && Object.keys(c.data).length > 0 && <code class="crumb-data">{JSON.stringify(c.data)}</code>}
              </span>
            </li>
          ))}
        </ol>
      )}
      {values.length > 10 && (
        <button type="button" class="link" onClick={() => setAll(!all)}>
          {all ? 'Show the last 10' : `Show all ${values.length}`}
        </button>
      )}
    </section>
  );
}

function Request({ data }: { data: Record<string, unknown> }) {
  const headers = data.headers;
  const headerMap: Record<string, unknown> = Array.isArray(headers) ? Object.fromEntries(headers as [string, unknown][]) : ((headers as Record<string, unknown>) ?? {});
  return (
    <section class="panel">
      <h3>Request</h3>
      <p>
        <code>{String(data.method ?? 'GET')} {String(data.url ?? '')}</code>
      </p>
      {data.query_string ? <KeyValues data={{ query: data.query_string }} /> : null}
      {data.data ? <KeyValues data={{ body: data.data }} /> : null}
      <h4>Headers</h4>
      <KeyValues data={headerMap} />
      {data.env ? (
        <>
          <h4>Environment</h4>
          <KeyValues data={data.env as Record<string, unknown>} />
        </>
      ) : null}
    </section>
  );
}

interface Attachment {
  id: string;
  name: string;
  type: string;
  size: number;
  mimetype: string;
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function Attachments({ org, project, eventId }: { org: string; project: string; eventId: string }) {
  const app = useApp();
  const path = `projects/${encodeURIComponent(org)}/${encodeURIComponent(project)}/events/${encodeURIComponent(eventId)}/attachments/`;
  const list = useLoad<Attachment[]>(`attachments:${eventId}`, () => app.api.get(path), () => app.api.cached(path));
  if (!list.data || list.data.length === 0) return null;
  return (
    <section class="panel">
      <h3>Attachments</h3>
      <ul class="attachments">
        {list.data.map((a) => (
          <li key={a.id}>
            <a href={app.api.url(`${path}${encodeURIComponent(a.id)}/`, { download: 1 })} download={a.name}>
              {a.name}
            </a>{' '}
            <span class="muted">
              {a.mimetype} · {size(a.size)}
              {a.type === 'event.minidump' ? ' · minidump' : ''}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
