// The web app: loads the deploy's config.json, asks the API who is signed in, and renders the
// page of the location hash.
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { Api, ApiError } from './api.js';
import { Account } from './pages/account.js';
import { AcceptInvite, ForgotPassword, Login, ResetPassword, Setup } from './pages/auth.js';
import { IssuePage } from './pages/issue.js';
import { Releases } from './pages/releases.js';
import { Settings } from './pages/settings.js';
import { likelyProject, projectsPath } from './pages/common.js';
import { Stream, streamRequest } from './pages/stream.js';
import { go, href, parse, type Route } from './route.js';
import type { Config, Me } from './types.js';
import { AppContext, ErrorBox, signedOut, Skeleton, type App as AppState } from './ui.js';
import './styles.css';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => {
      setRoute(parse(location.hash));
      window.scrollTo(0, 0);
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

interface Notice {
  id: number;
  text: string;
  kind: 'ok' | 'error';
}

function App({ config, api }: { config: Config; api: Api }) {
  const route = useRoute();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [bootError, setBootError] = useState<ApiError | undefined>();
  const [notices, setNotices] = useState<Notice[]>([]);

  const refreshMe = useCallback(async () => {
    try {
      setMe(await api.get<Me>('users/me/'));
      setBootError(undefined);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setMe(null);
      else setBootError(e instanceof ApiError ? e : new ApiError(0, String(e)));
    }
  }, [api]);
  useEffect(() => {
    api.onUnauthorized = () => setMe(null);
    void refreshMe();
  }, [api, refreshMe]);

  const notify = useCallback((text: string, kind: 'ok' | 'error' = 'ok') => {
    const id = Date.now() + Math.random();
    setNotices((n) => [...n, { id, text, kind }]);
    setTimeout(() => setNotices((n) => n.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 3000);
  }, []);

  const app = useMemo<AppState | null>(() => (me ? { api, config, me, refreshMe, notify } : null), [api, config, me, refreshMe, notify]);

  // Public pages need no session.
  if (route.name === 'setup') return <Setup api={api} onDone={refreshMe} />;
  if (route.name === 'invite') return <AcceptInvite api={api} token={route.token} me={me ?? null} onDone={refreshMe} />;
  if (route.name === 'forgotPassword') return <ForgotPassword api={api} />;
  if (route.name === 'resetPassword') return <ResetPassword api={api} token={route.token} onDone={refreshMe} />;
  if (bootError) return <main class="narrow"><ErrorBox error={bootError} retry={() => void refreshMe()} /></main>;
  if (me === undefined) return <Shell />;
  if (me === null || !app) {
    const next = route.name === 'login' ? route.next : route.name === 'home' ? undefined : location.hash;
    return <Login api={api} next={next} onDone={refreshMe} />;
  }
  if (route.name === 'login') {
    go(route.next ? parse(route.next) : { name: 'home' }, true);
    return <Shell />;
  }

  const framed = (org: string | undefined, page: preact.ComponentChildren) => (
    <AppContext.Provider value={app}>
      <Layout app={app} org={org} route={route}>
        {page}
      </Layout>
      <div class="notices" role="status" aria-live="polite">
        {notices.map((n) => (
          <div key={n.id} class={`notice notice-${n.kind}`}>
            {n.text}
          </div>
        ))}
      </div>
    </AppContext.Provider>
  );
  // The account is the person's, so it opens with no organization too (after leaving the last).
  if (route.name === 'account') return framed(defaultOrg(app), <Account />);

  const org = 'org' in route ? route.org : defaultOrg(app);
  if (!org) {
    return framed(undefined, <ErrorBox error={new Error('You are not a member of any organization yet: ask an owner for an invitation.')} />);
  }
  if (!app.me.organizations.some((o) => o.slug === org)) {
    return framed(
      undefined,
      <>
        <ErrorBox error={new ApiError(404, `You are not a member of an organization called “${org}”.`)} />
        <p>
          <a href="#/">Go to your issues</a>
        </p>
      </>,
    );
  }
  let page;
  switch (route.name) {
    case 'home':
      go({ name: 'stream', org, params: {} }, true);
      return <Shell />;
    case 'stream':
      page = <Stream org={route.org} params={route.params} />;
      break;
    case 'issue':
      page = <IssuePage org={route.org} id={route.id} eventId={route.eventId} />;
      break;
    case 'releases':
      page = <Releases org={route.org} params={route.params} />;
      break;
    case 'settings':
      page = <Settings org={route.org} project={route.project} section={route.section} id={route.id} />;
      break;
    default:
      page = <ErrorBox error={new ApiError(404, `There is no page at ${route.name === 'notFound' ? route.path : ''}.`)} />;
  }
  return framed(org, page);
}

function defaultOrg(app: AppState): string | undefined {
  const orgs = app.me.organizations;
  return orgs.find((o) => o.slug === app.config.org)?.slug ?? orgs[0]?.slug;
}

/** The header while nothing is known yet: same height as the real one. */
function Shell() {
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">Errata</a>
      </header>
      <main>
        <Skeleton rows={8} />
      </main>
    </>
  );
}

function Layout({ app, org, route, children }: { app: AppState; org: string | undefined; route: Route; children: preact.ComponentChildren }) {
  const section = route.name === 'issue' ? 'stream' : route.name;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">Errata</a>
        {org && (
          <nav aria-label="Main">
            {app.me.organizations.length > 1 ? (
              <select
                aria-label="Organization"
                value={org}
                onChange={(e) => go({ name: 'stream', org: (e.target as HTMLSelectElement).value, params: {} })}
              >
                {app.me.organizations.map((o) => (
                  <option key={o.slug} value={o.slug}>
                    {o.name}
                  </option>
                ))}
              </select>
            ) : (
              <span class="org">{app.me.organizations[0]?.name}</span>
            )}
            <a href={href({ name: 'stream', org, params: {} })} aria-current={section === 'stream' ? 'page' : undefined}>Issues</a>
            <a href={href({ name: 'releases', org, params: {} })} aria-current={section === 'releases' ? 'page' : undefined}>Releases</a>
            <a href={href({ name: 'settings', org, section: 'members' })} aria-current={section === 'settings' ? 'page' : undefined}>Settings</a>
          </nav>
        )}
        <div class="me">
          {/* The address on wide screens, a word on narrow ones (the address is too long there). */}
          <a class="email" href={href({ name: 'account' })} title="Your account: password and sign-ins" aria-current={route.name === 'account' ? 'page' : undefined}>
            {app.me.email}
          </a>
          <a class="account-short" href={href({ name: 'account' })} aria-current={route.name === 'account' ? 'page' : undefined}>
            Account
          </a>
          <button
            type="button"
            class="link"
            onClick={async () => {
              await app.api.del('auth/').catch(() => undefined);
              await signedOut(app);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** Starts the first page's requests while the app asks who is signed in, so the issue stream
 * does not wait for one answer after another. */
function prefetch(api: Api, config: Config, route: Route): void {
  const org = 'org' in route ? route.org : config.org;
  if (!org || !(route.name === 'stream' || route.name === 'home')) return;
  const ignore = () => undefined;
  api.get(projectsPath(org)).catch(ignore);
  const project = likelyProject(route.name === 'stream' ? route.params.project : undefined, config.project);
  if (project) {
    const { path, q } = streamRequest(org, project, route.name === 'stream' ? route.params : {});
    api.page(path, q).catch(ignore);
  }
}

async function boot(): Promise<void> {
  const root = document.getElementById('app')!;
  let config: Config;
  try {
    // Preloaded by index.html; served with Cache-Control: no-cache, so a deploy's new one is seen.
    const resp = await fetch('config.json');
    if (!resp.ok) throw new Error(`config.json answered ${resp.status}`);
    config = (await resp.json()) as Config;
  } catch (e) {
    root.replaceChildren();
    render(<main class="narrow"><ErrorBox error={new Error(`The app's config.json could not be read (${String(e)}). It is written when the stack is deployed.`)} /></main>, root);
    return;
  }
  const api = new Api(config.api);
  prefetch(api, config, parse(location.hash));
  root.replaceChildren();
  render(<App config={config} api={api} />, root);
}

void boot();
