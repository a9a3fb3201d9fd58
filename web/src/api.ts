// The API client: same-origin requests with the session cookie, JSON bodies (a cookie session
// must send JSON to change anything), Sentry's `Link` pagination, and a small cache so going
// back to a page shows what it showed at once while it reloads.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export interface Page<T> {
  items: T[];
  next?: string;
  /** The API said some of the answer is still being computed (`x-errata-stats: pending`). */
  pending: boolean;
}

/** The `next` cursor of a `Link` header, when it says more results exist. */
export function nextCursor(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,\s*(?=<)/)) {
    if (/rel="next"/.test(part) && /results="true"/.test(part)) {
      return /cursor="([^"]*)"/.exec(part)?.[1];
    }
  }
  return undefined;
}

type Query = Record<string, string | number | undefined | (string | number)[]>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one));
  }
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** An answer that is one object rather than a list (`{"rows": [...], "options": [...]}`, the
 * audit log's), with the next cursor of its `Link` header. */
export interface WithNext<T> {
  body: T;
  next?: string;
}

/** Where a 401 means a wrong password, not a session that ended. */
const PASSWORD_PATHS = new Set(['auth/login/', 'accept-invite/']);

export class Api {
  private cache = new Map<string, unknown>();
  private inflight = new Map<string, Promise<unknown>>();
  /** Called when the API says the session is gone (401). */
  onUnauthorized: () => void = () => {};

  constructor(
    readonly base: string,
    private readonly fetchFn: Fetch = (i, init) => fetch(i, init),
  ) {}

  url(path: string, query?: Query): string {
    return withQuery(`${this.base.replace(/\/+$/, '')}/api/0/${path.replace(/^\/+/, '')}`, query);
  }

  private async send(method: string, path: string, query?: Query, body?: unknown): Promise<Response> {
    const init: RequestInit = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { ...init.headers, 'Content-Type': 'application/json' };
    }
    let resp: Response;
    try {
      resp = await this.fetchFn(this.url(path, query), init);
    } catch {
      throw new ApiError(0, 'The API cannot be reached. Check your connection and try again.');
    }
    if (!resp.ok) {
      const detail = await resp
        .json()
        .then((b: { detail?: unknown }) => (typeof b.detail === 'string' ? b.detail : JSON.stringify(b.detail ?? b)))
        .catch(() => resp.statusText || `HTTP ${resp.status}`);
      if (resp.status === 401 && !PASSWORD_PATHS.has(path)) this.onUnauthorized();
      throw new ApiError(resp.status, detail);
    }
    return resp;
  }

  /** One read at a time per URL: a second caller while it runs shares its answer. */
  private shared<T>(kind: string, path: string, query: Query | undefined, read: () => Promise<T>): Promise<T> {
    const url = this.url(path, query);
    const key = `${kind} ${url}`;
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const p = read().then(
      (v) => {
        this.cache.set(url, v);
        return v;
      },
    );
    this.inflight.set(key, p);
    const done = () => this.inflight.delete(key);
    p.then(done, done);
    return p;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.shared('get', path, query, async () => (await (await this.send('GET', path, query)).json()) as T);
  }

  /** A list page and the cursor of the next one. */
  page<T>(path: string, query?: Query): Promise<Page<T>> {
    return this.shared('page', path, query, async () => {
      const resp = await this.send('GET', path, query);
      const items = (await resp.json()) as T[];
      return { items, next: nextCursor(resp.headers.get('link')), pending: resp.headers.get('x-errata-stats') === 'pending' };
    });
  }

  /** An object answer and the cursor of its next page (`page` is for list answers). */
  withNext<T>(path: string, query?: Query): Promise<WithNext<T>> {
    return this.shared('next', path, query, async () => {
      const resp = await this.send('GET', path, query);
      return { body: (await resp.json()) as T, next: nextCursor(resp.headers.get('link')) };
    });
  }

  /** What the last `get`/`page`/`withNext` of this path and query answered, if anything. */
  cached<T>(path: string, query?: Query): T | undefined {
    return this.cache.get(this.url(path, query)) as T | undefined;
  }

  /** Remembers an answer another request already carried (an issue from a list page), so
   * its own page shows it at once while it loads the fresh one. */
  seed(path: string, value: unknown): void {
    const url = this.url(path);
    if (!this.cache.has(url)) this.cache.set(url, value);
  }

  /** Forget every cached answer (after a change, so no page shows the old state). */
  invalidate(): void {
    this.cache.clear();
  }

  async post<T>(path: string, body: unknown = {}, query?: Query): Promise<T> {
    const resp = await this.send('POST', path, query, body);
    this.invalidate();
    return resp.status === 204 ? (undefined as T) : ((await resp.json()) as T);
  }

  async put<T>(path: string, body: unknown, query?: Query): Promise<T> {
    const resp = await this.send('PUT', path, query, body);
    this.invalidate();
    return resp.status === 204 ? (undefined as T) : ((await resp.json()) as T);
  }

  /** `body`: what some deletions take (`{"all": true}` to sign out everywhere). */
  async del(path: string, query?: Query, body: unknown = {}): Promise<void> {
    await this.send('DELETE', path, query, body);
    this.invalidate();
  }
}
