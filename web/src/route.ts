// The app's routes live after the `#`, so a static bucket serves every page from index.html and
// links in e-mails and API answers (`WEB_URL` + route) open the right page.

export type Params = Record<string, string>;

export type Route =
  | { name: 'home' }
  | { name: 'login'; next?: string }
  | { name: 'setup' }
  | { name: 'invite'; token: string }
  | { name: 'forgotPassword' }
  | { name: 'resetPassword'; token: string }
  | { name: 'account' }
  | { name: 'stream'; org: string; params: Params }
  | { name: 'issue'; org: string; id: string; eventId?: string }
  | { name: 'releases'; org: string; params: Params }
  | { name: 'settings'; org: string; project?: string; section: string; id?: string }
  | { name: 'notFound'; path: string };

/** The organization settings sections, in menu order. */
export const ORG_SECTIONS = ['members', 'audit-log'] as const;

/** The project settings sections, in menu order. */
export const PROJECT_SECTIONS = ['general', 'keys', 'alerts', 'filters', 'scrubbing', 'debug-files'] as const;

function query(search: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(search)) out[k] = v;
  return out;
}

/** The route of a location hash (`#/organizations/acme/issues/12/`). */
export function parse(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [path, search = ''] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const params = query(search);
  const [a, b, c, d, e, f] = parts;
  if (parts.length === 0) return { name: 'home' };
  if (a === 'login' && parts.length === 1) return params.next ? { name: 'login', next: params.next } : { name: 'login' };
  if (a === 'setup' && parts.length === 1) return { name: 'setup' };
  if (a === 'accept-invite' && b && parts.length === 2) return { name: 'invite', token: b };
  if (a === 'forgot-password' && parts.length === 1) return { name: 'forgotPassword' };
  if (a === 'reset-password' && b && parts.length === 2) return { name: 'resetPassword', token: b };
  if (a === 'account' && parts.length === 1) return { name: 'account' };
  if (a === 'organizations' && b) {
    if (c === 'issues' && parts.length === 3) return { name: 'stream', org: b, params };
    if (c === 'issues' && d && parts.length === 4) return { name: 'issue', org: b, id: d };
    if (c === 'issues' && d && e === 'events' && f && parts.length === 6) return { name: 'issue', org: b, id: d, eventId: f };
    if (c === 'releases' && parts.length === 3) return { name: 'releases', org: b, params };
  }
  if (a === 'settings' && b) {
    if (parts.length === 2) return { name: 'settings', org: b, section: 'members' };
    if (c && (ORG_SECTIONS as readonly string[]).includes(c) && parts.length === 3) return { name: 'settings', org: b, section: c };
    // An older address of the account page; the account is the person's, not the organization's.
    if (c === 'account' && parts.length === 3) return { name: 'account' };
    if (c === 'projects' && d && parts.length <= 6) {
      const section = e ?? 'general';
      if ((PROJECT_SECTIONS as readonly string[]).includes(section)) {
        return f ? { name: 'settings', org: b, project: d, section, id: f } : { name: 'settings', org: b, project: d, section };
      }
    }
  }
  return { name: 'notFound', path: raw };
}

const seg = (s: string) => encodeURIComponent(s);

function withQuery(path: string, params: Params = {}): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '');
  return entries.length ? `${path}?${new URLSearchParams(entries).toString()}` : path;
}

/** The hash of a route: `parse(href(r))` gives `r` back. */
export function href(route: Route): string {
  switch (route.name) {
    case 'home':
      return '#/';
    case 'login':
      return withQuery('#/login', route.next ? { next: route.next } : {});
    case 'setup':
      return '#/setup';
    case 'invite':
      return `#/accept-invite/${seg(route.token)}/`;
    case 'forgotPassword':
      return '#/forgot-password';
    case 'resetPassword':
      return `#/reset-password/${seg(route.token)}/`;
    case 'account':
      return '#/account';
    case 'stream':
      return withQuery(`#/organizations/${seg(route.org)}/issues/`, route.params);
    case 'issue':
      return route.eventId
        ? `#/organizations/${seg(route.org)}/issues/${seg(route.id)}/events/${seg(route.eventId)}/`
        : `#/organizations/${seg(route.org)}/issues/${seg(route.id)}/`;
    case 'releases':
      return withQuery(`#/organizations/${seg(route.org)}/releases/`, route.params);
    case 'settings':
      if (!route.project) return `#/settings/${seg(route.org)}/${route.section}/`;
      return `#/settings/${seg(route.org)}/projects/${seg(route.project)}/${route.section}/${route.id ? `${seg(route.id)}/` : ''}`;
    case 'notFound':
      return `#${route.path}`;
  }
}

/** Opens a route (`replace`: without a new history entry, as redirects do). */
export function go(route: Route, replace = false): void {
  const h = href(route);
  if (replace) {
    history.replaceState(null, '', h);
    dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = h;
  }
}
