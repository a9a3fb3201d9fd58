// The issue stream: search with suggestions, quick filters, sort, pages, sparklines, and bulk
// triage. Keyboard: `/` search, `j`/`k` move, `Enter` open, `x` select.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from '../api.js';
import { compact } from '../format.js';
import { apply, setTerm, suggest, termValue, type Suggestion } from '../query.js';
import { go, href, type Params } from '../route.js';
import type { Issue, Project } from '../types.js';
import { attempt, Empty, ErrorBox, LevelBadge, Skeleton, Sparkline, Time, useApp, useLoad } from '../ui.js';
import { pickProject, ProjectPicker, useMembers, useProjectNames, useProjects } from './common.js';

const DEFAULT_QUERY = 'is:unresolved';
const PAGE = 25;
const SORTS: [string, string][] = [
  ['date', 'Last seen'],
  ['new', 'First seen'],
  ['freq', 'Events'],
  ['user', 'Users'],
];

/** The API request of a stream page (also made ahead, while the app starts). */
export function streamRequest(org: string, project: string, params: Params) {
  return {
    path: `projects/${encodeURIComponent(org)}/${encodeURIComponent(project)}/issues/`,
    q: { query: params.query ?? DEFAULT_QUERY, sort: params.sort ?? 'date', cursor: params.cursor, limit: PAGE },
  };
}

export function Stream({ org, params }: { org: string; params: Params }) {
  const app = useApp();
  const projects = useProjects(org);
  const project = pickProject(projects.data, params.project, app.config.project);
  if (projects.error) return <ErrorBox error={projects.error} retry={projects.reload} />;
  if (!projects.data) return <Skeleton rows={10} />;
  if (!project) return <Empty title="No projects yet">Create one under <a href={href({ name: 'settings', org, section: 'members' })}>Settings</a>.</Empty>;
  return <ProjectStream org={org} project={project} projects={projects.data} params={params} />;
}

function ProjectStream({ org, project, projects, params }: { org: string; project: Project; projects: Project[]; params: Params }) {
  const app = useApp();
  const { path, q } = streamRequest(org, project.slug, params);
  const { query, sort, cursor } = q;
  const key = `${path}|${query}|${sort}|${cursor ?? ''}`;
  const plain = useLoad<Page<Issue>>(key, () => app.api.page(path, q), () => app.api.cached(path, q));
  // The page first, as the issue store answers it; then the same page with its 24-hour
  // sparklines, which come from the event store and may take longer.
  const qs = { ...q, statsPeriod: '24h' };
  const withStats = useLoad<Page<Issue>>(plain.data ? `${key}|24h` : null, () => app.api.page(path, qs), () => app.api.cached(path, qs));
  const list = withStats.data ? withStats : plain;
  useEffect(() => {
    for (const issue of plain.data?.items ?? []) app.api.seed(`issues/${encodeURIComponent(issue.id)}/`, issue);
  }, [plain.data]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [focus, setFocus] = useState(-1);
  const cursors = useRef<Record<string, string[]>>({});
  // The list first; what the filters and suggestions offer after it.
  const listed = !!list.data || !!list.error;
  const members = useMembers(org, listed);
  const environments = useProjectNames(org, project.slug, 'environments', listed);
  const releases = useProjectNames(org, project.slug, 'releases', listed);
  const tagKeys = useProjectNames(org, project.slug, 'tags', listed);
  const searchRef = useRef<HTMLInputElement>(null);

  // Sparklines still being computed: ask again shortly.
  useEffect(() => {
    if (!withStats.data?.pending) return;
    const t = setTimeout(withStats.reload, 1500);
    return () => clearTimeout(t);
  }, [withStats.data]);
  useEffect(() => {
    setSelected(new Set());
    setFocus(-1);
  }, [key]);

  const nav = (changes: Params) => {
    const next: Params = { ...params, project: project.slug, ...changes };
    for (const k of Object.keys(next)) if (next[k] === '') delete next[k];
    go({ name: 'stream', org, params: next });
  };
  const setQuery = (q: string) => nav({ query: q.trim() === DEFAULT_QUERY ? '' : q.trim() || ' ', cursor: '' });
  const issues = list.data?.items ?? [];

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest('input, select, textarea') || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === 'j' || e.key === 'k') {
        setFocus((f) => Math.max(0, Math.min(issues.length - 1, f + (e.key === 'j' ? 1 : -1))));
      } else if ((e.key === 'Enter' || e.key === 'o') && issues[focus]) {
        go({ name: 'issue', org, id: issues[focus].id });
      } else if (e.key === 'x' && issues[focus]) {
        toggle(issues[focus].id);
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });
  useEffect(() => {
    if (focus >= 0) document.querySelector<HTMLElement>(`[data-row="${focus}"] a.issue-title`)?.focus();
  }, [focus]);

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const bulk = async (body: Record<string, unknown>, done: string) => {
    const ids = [...selected];
    const ok = await attempt(app, () => app.api.put(path, body, { id: ids }), `${done} ${ids.length} issue${ids.length === 1 ? '' : 's'}`);
    if (ok) {
      setSelected(new Set());
      plain.reload();
      withStats.reload();
    }
  };

  const status = termValue(query, 'is') ?? '';
  const level = termValue(query, 'level') ?? '';
  const environment = termValue(query, 'environment') ?? '';
  const release = termValue(query, 'release') ?? '';
  const pageCursors = cursors.current[`${query}|${sort}`] ?? [];
  const memberEmails = (members.data ?? []).filter((m) => !m.pending).map((m) => m.email);

  return (
    <section class="stream">
      <div class="page-head">
        <h1>Issues</h1>
        <ProjectPicker projects={projects} selected={project} onPick={(slug) => go({ name: 'stream', org, params: { project: slug } })} />
      </div>
      <SearchBar
        key={query}
        initial={query}
        inputRef={searchRef}
        onSearch={setQuery}
        context={{ tagKeys, environments, releases, members: memberEmails }}
      />
      <div class="filters" role="group" aria-label="Quick filters">
        <div class="segmented" role="radiogroup" aria-label="Status">
          {[['unresolved', 'Unresolved'], ['resolved', 'Resolved'], ['ignored', 'Ignored'], ['', 'All']].map(([v, label]) => (
            <button key={v} type="button" role="radio" aria-checked={status === v} onClick={() => setQuery(setTerm(query, 'is', v))}>
              {label}
            </button>
          ))}
        </div>
        <select aria-label="Level" value={level} onChange={(e) => setQuery(setTerm(query, 'level', (e.target as HTMLSelectElement).value))}>
          <option value="">Any level</option>
          {['fatal', 'error', 'warning', 'info', 'debug'].map((l) => (
            <option key={l} value={l}>{l}</option>
          ))}
        </select>
        <select aria-label="Environment" value={environment} onChange={(e) => setQuery(setTerm(query, 'environment', (e.target as HTMLSelectElement).value))}>
          <option value="">All environments</option>
          {[...new Set([...environments, ...(environment ? [environment] : [])])].map((v) => (
            <option key={v} value={v}>{v}</option>
          ))}
        </select>
        <select aria-label="Release" value={release} onChange={(e) => setQuery(setTerm(query, 'release', (e.target as HTMLSelectElement).value))}>
          <option value="">All releases</option>
          {[...new Set([...releases, ...(release ? [release] : [])])].map((v) => (
            <option key={v} value={v}>{v}</option>
          ))}
        </select>
        <label class="sort">
          Sort
          <select value={sort} onChange={(e) => nav({ sort: (e.target as HTMLSelectElement).value, cursor: '' })}>
            {SORTS.map(([v, label]) => (
              <option key={v} value={v}>{label}</option>
            ))}
          </select>
        </label>
      </div>

      <div class="bulk" aria-label="Selected issues">
        <input
          type="checkbox"
          aria-label="Select all on this page"
          checked={issues.length > 0 && selected.size === issues.length}
          onChange={(e) => setSelected((e.target as HTMLInputElement).checked ? new Set(issues.map((i) => i.id)) : new Set())}
        />
        <button type="button" disabled={!selected.size} onClick={() => void bulk({ status: 'resolved' }, 'Resolved')}>Resolve</button>
        <button type="button" disabled={!selected.size} onClick={() => void bulk({ status: 'ignored' }, 'Ignored')}>Ignore</button>
        <button type="button" disabled={!selected.size} onClick={() => void bulk({ status: 'unresolved' }, 'Unresolved')}>Unresolve</button>
        <select
          aria-label="Assign selected to"
          disabled={!selected.size}
          value=""
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            void bulk({ assignedTo: v === '-' ? null : v }, v === '-' ? 'Unassigned' : 'Assigned');
          }}
        >
          <option value="">Assign to…</option>
          <option value="-">Nobody</option>
          {memberEmails.map((m) => (
            <option key={m} value={m}>{m}</option>
          ))}
        </select>
        <span class="muted">{selected.size ? `${selected.size} selected` : ''}</span>
        <span class="columns" aria-hidden="true">
          <span class="col-graph">24h</span>
          <span class="col-num">Events</span>
          <span class="col-num">Users</span>
        </span>
      </div>

      {list.error && !list.data ? (
        <ErrorBox error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Skeleton rows={8} height={58} />
      ) : issues.length === 0 ? (
        <NoIssues org={org} project={project} query={query} />
      ) : (
        <ol class={`issues${plain.loading ? ' stale' : ''}`} aria-busy={plain.loading}>
          {issues.map((issue, i) => (
            <li key={issue.id} data-row={i} class={`${selected.has(issue.id) ? 'selected' : ''}${focus === i ? ' focused' : ''}`}>
              <input type="checkbox" aria-label={`Select ${issue.shortId}`} checked={selected.has(issue.id)} onChange={() => toggle(issue.id)} />
              <div class="issue-main">
                <a class="issue-title" href={href({ name: 'issue', org, id: issue.id })} onFocus={() => setFocus(i)}>
                  {issue.title}
                </a>
                <div class="issue-meta">
                  <LevelBadge level={issue.level} />
                  <span class="short-id">{issue.shortId}</span>
                  <span class="culprit">{issue.culprit}</span>
                  {issue.status !== 'unresolved' && <span class={`status status-${issue.status}`}>{issue.status}</span>}
                  <span class="seen">
                    <Time iso={issue.lastSeen} /> · first <Time iso={issue.firstSeen} />
                  </span>
                  {issue.assignedTo && <span class="assignee" title="Assigned to">→ {issue.assignedTo.email}</span>}
                </div>
              </div>
              <Sparkline series={issue.stats?.['24h']} />
              <span class="col-num">{compact(issue.count)}</span>
              <span class="col-num">{compact(issue.userCount)}</span>
            </li>
          ))}
        </ol>
      )}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          disabled={!cursor}
          onClick={() => {
            const stack = cursors.current[`${query}|${sort}`] ?? [];
            const prev = stack.pop();
            nav({ cursor: prev ?? '' });
          }}
        >
          ← Newer
        </button>
        <span class="muted">{pageCursors.length ? `Page ${pageCursors.length + 1}` : ''}</span>
        <button
          type="button"
          disabled={!list.data?.next}
          onClick={() => {
            const k = `${query}|${sort}`;
            cursors.current[k] = [...(cursors.current[k] ?? []), cursor ?? ''];
            nav({ cursor: list.data?.next ?? '' });
          }}
        >
          Older →
        </button>
      </nav>
      <p class="muted small keys">Keys: <kbd>/</kbd> search · <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Enter</kbd> open · <kbd>x</kbd> select</p>
    </section>
  );
}

function NoIssues({ org, project, query }: { org: string; project: Project; query: string }) {
  if (query !== DEFAULT_QUERY) {
    return (
      <Empty title="No issues match this search">
        Try fewer terms, or <a href={href({ name: 'stream', org, params: { project: project.slug } })}>show all unresolved issues</a>.
      </Empty>
    );
  }
  return (
    <Empty title="No unresolved issues">
      Nothing to triage. New errors appear here seconds after an SDK sends them: get the DSN and setup snippets from{' '}
      <a href={href({ name: 'settings', org, project: project.slug, section: 'keys' })}>the project's keys</a>.
    </Empty>
  );
}

export function SearchBar({
  initial,
  onSearch,
  context,
  inputRef,
}: {
  initial: string;
  onSearch: (q: string) => void;
  context: Parameters<typeof suggest>[2];
  inputRef?: preact.RefObject<HTMLInputElement | null>;
}) {
  const [text, setText] = useState(initial);
  const [caret, setCaret] = useState(initial.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  // Enter picks a suggestion only after the arrows chose one; otherwise it searches.
  const [navigated, setNavigated] = useState(false);
  const own = useRef<HTMLInputElement>(null);
  const input = inputRef ?? own;
  const s = suggest(text, caret, context);
  const items = open ? s.items : [];
  const choose = (item: Suggestion) => {
    const [next, at] = apply(text, s, item);
    setText(next);
    setCaret(at);
    setActive(0);
    setNavigated(false);
    requestAnimationFrame(() => input.current?.setSelectionRange(at, at));
  };
  return (
    <form
      class="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        setOpen(false);
        onSearch(text);
      }}
    >
      <div class="search-box">
        <input
          ref={input}
          type="search"
          aria-label="Search issues"
          aria-autocomplete="list"
          aria-expanded={items.length > 0}
          aria-controls="search-suggestions"
          placeholder="is:unresolved level:error environment:production …"
          value={text}
          autoComplete="off"
          spellcheck={false}
          onInput={(e) => {
            const el = e.target as HTMLInputElement;
            setText(el.value);
            setCaret(el.selectionStart ?? el.value.length);
            setOpen(true);
            setActive(0);
            setNavigated(false);
          }}
          onClick={(e) => setCaret((e.target as HTMLInputElement).selectionStart ?? text.length)}
          onFocus={() => setOpen(true)}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              // A search field clears itself on Escape; here it only closes the suggestions.
              e.preventDefault();
              setOpen(false);
              return;
            }
            if (!items.length) return;
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              e.preventDefault();
              setActive((a) => (navigated ? (a + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length : e.key === 'ArrowDown' ? 0 : items.length - 1));
              setNavigated(true);
            } else if ((e.key === 'Tab' && !e.shiftKey && (navigated || caret > s.from)) || (e.key === 'Enter' && navigated)) {
              e.preventDefault();
              choose(items[active]);
            }
          }}
        />
        {items.length > 0 && (
          <ul id="search-suggestions" class="suggestions" role="listbox">
            {items.map((item, i) => (
              <li
                key={item.text}
                role="option"
                aria-selected={navigated && i === active}
                onMouseDown={(e) => {
                  e.preventDefault();
                  choose(item);
                }}
              >
                <code>{item.label}</code>
                {item.description && <span class="muted">{item.description}</span>}
              </li>
            ))}
          </ul>
        )}
      </div>
      <button type="submit">Search</button>
    </form>
  );
}
