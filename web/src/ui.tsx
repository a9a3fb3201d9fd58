// Pieces every page uses: the app context, data loading, charts, and empty/error/loading states.
// Event data is untrusted: it is only ever rendered as text (JSX children and attributes),
// never as HTML.
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { Api, ApiError } from './api.js';
import { bars, dateTime, sparkline, timeAgo, type Series } from './format.js';
import type { Config, Me } from './types.js';

export interface App {
  api: Api;
  config: Config;
  me: Me;
  refreshMe: () => Promise<void>;
  notify: (text: string, kind?: 'ok' | 'error') => void;
}

export const AppContext = createContext<App | null>(null);

export function useApp(): App {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside the app');
  return app;
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads data for a key; shows the cached answer of the same key at once while reloading, and
 * ignores answers for keys no longer current. A 503 (a query still running) is retried. */
export function useLoad<T>(key: string | null, load: () => Promise<T>, cached?: () => T | undefined): Loaded<T> {
  const [state, setState] = useState<{ key: string | null; data?: T; error?: ApiError; loading: boolean }>(() => ({
    key,
    data: cached?.(),
    loading: key !== null,
  }));
  const [tick, setTick] = useState(0);
  const current = useRef(key);
  current.current = key;
  useEffect(() => {
    if (key === null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = (tries: number) => {
      load().then(
        (data) => {
          if (!stopped && current.current === key) setState({ key, data, loading: false });
        },
        (error: unknown) => {
          if (stopped || current.current !== key) return;
          const e = error instanceof ApiError ? error : new ApiError(0, String(error));
          if (e.status === 503 && tries < 10) {
            timer = setTimeout(() => attempt(tries + 1), 1000);
            return;
          }
          setState((s) => ({ key, data: s.key === key ? s.data : undefined, error: e, loading: false }));
        },
      );
    };
    setState((s) => ({ key, data: s.key === key ? s.data : cached?.(), loading: true }));
    attempt(0);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const fresh = state.key === key;
  return { data: fresh ? state.data : undefined, error: fresh ? state.error : undefined, loading: !fresh || state.loading, reload };
}

export function ErrorBox({ error, retry }: { error: ApiError | Error; retry?: () => void }) {
  const status = error instanceof ApiError ? error.status : 0;
  const title =
    status === 404
      ? 'Not found'
      : status === 403
        ? 'Not allowed'
        : status === 429
          ? 'Too many attempts'
          : status === 0
            ? 'No connection'
            : 'Something went wrong';
  return (
    <div class="error-box" role="alert">
      <strong>{title}</strong>
      <p>{error.message}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

/** Grey placeholder lines of the final layout's size, so nothing jumps when data arrives. */
export function Skeleton({ rows = 5, height = 44 }: { rows?: number; height?: number }) {
  return (
    <div class="skeleton" aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} class="skeleton-row" style={{ height: `${height}px` }} />
      ))}
    </div>
  );
}

export function Time({ iso }: { iso: string | null | undefined }) {
  return (
    <time dateTime={iso ?? undefined} title={dateTime(iso)}>
      {timeAgo(iso)}
    </time>
  );
}

export function LevelBadge({ level }: { level: string }) {
  return <span class={`level level-${/^[a-z]+$/.test(level) ? level : 'unknown'}`}>{level}</span>;
}

export function Sparkline({ series, width = 96, height = 24 }: { series: Series | undefined; width?: number; height?: number }) {
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-hidden="true">
      {series && series.length > 0 && <polyline points={sparkline(series, width, height)} />}
    </svg>
  );
}

export function BarChart({ series, width = 600, height = 90, hourly }: { series: Series; width?: number; height?: number; hourly: boolean }) {
  const total = series.reduce((n, [, c]) => n + c, 0);
  return (
    <svg class="bar-chart" viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={`${total} events`}>
      {bars(series, width, height).map((b) => (
        <rect key={b.t} x={b.x} y={height - b.h} width={b.w} height={b.h}>
          <title>{`${hourly ? dateTime(new Date(b.t * 1000).toISOString()).slice(0, 16) : dateTime(new Date(b.t * 1000).toISOString()).slice(0, 10)}: ${b.n} events`}</title>
        </rect>
      ))}
    </svg>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class="copy"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        });
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}

/** Key–value rows of an object; values that are objects are shown as JSON text. */
export function KeyValues({ data }: { data: Record<string, unknown> | null | undefined }) {
  const entries = Object.entries(data ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== '');
  if (entries.length === 0) return <p class="muted">Nothing recorded.</p>;
  return (
    <table class="kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>
              <code>{typeof v === 'string' ? v : JSON.stringify(v, null, 2)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** After the session ended (signing out, here or everywhere): forget what this session saw
 * and show the sign-in page. */
export async function signedOut(app: App): Promise<void> {
  app.api.invalidate();
  location.hash = '#/login';
  await app.refreshMe();
}

/** Runs an API change, reporting its error as a notice; resolves to whether it worked. */
export async function attempt(app: App, work: () => Promise<unknown>, done?: string): Promise<boolean> {
  try {
    await work();
    if (done) app.notify(done);
    return true;
  } catch (e) {
    app.notify(e instanceof Error ? e.message : String(e), 'error');
    return false;
  }
}
