// Signing in, first-run setup and accepting an invitation: the pages without a session.
import { useState } from 'preact/hooks';
import { Api, ApiError } from '../api.js';
import type { Me } from '../types.js';
import { ErrorBox, Skeleton, useLoad } from '../ui.js';

function Card({ title, children }: { title: string; children: preact.ComponentChildren }) {
  return (
    <main class="auth">
      <div class="card">
        <div class="brand-big">Errata</div>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

function useSubmit(work: () => Promise<void>): [boolean, string | undefined, (e: Event) => void] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    work().then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof Error ? err.message : String(err));
      },
    );
  };
  return [busy, error, submit];
}

const value = (e: Event) => (e.target as HTMLInputElement).value;

export function Login({ api, next, onDone }: { api: Api; next?: string; onDone: () => Promise<void> }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, error, submit] = useSubmit(async () => {
    await api.post('auth/login/', { email, password });
    location.hash = next && next.startsWith('#/') ? next : '#/';
    await onDone();
  });
  return (
    <Card title="Sign in">
      <form onSubmit={submit}>
        <label>
          E-mail
          <input type="email" name="email" autoComplete="username" required value={email} onInput={(e) => setEmail(value(e))} autoFocus />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(value(e))} />
        </label>
        {error && <p class="form-error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="muted small">
        First run? <a href="#/setup">Set up Errata</a> with your organization and first project.
      </p>
    </Card>
  );
}

export function Setup({ api, onDone }: { api: Api; onDone: () => Promise<void> }) {
  const [f, setF] = useState({ email: '', password: '', org: '', project: '', platform: 'python' });
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: value(e) });
  const [busy, error, submit] = useSubmit(async () => {
    await api.post('setup/', {
      email: f.email,
      password: f.password,
      organization: { slug: f.org },
      project: { slug: f.project, platform: f.platform },
    });
    location.hash = `#/settings/${encodeURIComponent(f.org)}/projects/${encodeURIComponent(f.project)}/keys/`;
    await onDone();
  });
  return (
    <Card title="Set up Errata">
      <p class="muted small">This works once: it creates the first user (an owner), an organization and a project with its DSN.</p>
      <form onSubmit={submit}>
        <label>
          Your e-mail
          <input type="email" autoComplete="username" required value={f.email} onInput={set('email')} />
        </label>
        <label>
          Password <span class="muted">(at least 8 characters)</span>
          <input type="password" autoComplete="new-password" required minLength={8} value={f.password} onInput={set('password')} />
        </label>
        <label>
          Organization slug
          <input required pattern="[a-z0-9][a-z0-9_-]*" title="Lower-case letters, digits, - and _" value={f.org} onInput={set('org')} placeholder="acme" />
        </label>
        <label>
          First project slug
          <input required pattern="[a-z0-9][a-z0-9_-]*" title="Lower-case letters, digits, - and _" value={f.project} onInput={set('project')} placeholder="backend" />
        </label>
        <label>
          Platform
          <select value={f.platform} onChange={set('platform')}>
            <option value="python">Python</option>
            <option value="javascript">JavaScript (browser)</option>
            <option value="node">Node.js</option>
            <option value="rust">Rust</option>
            <option value="other">Other</option>
          </select>
        </label>
        {error && <p class="form-error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Setting up…' : 'Create organization'}
        </button>
      </form>
      <p class="muted small">
        Already set up? <a href="#/login">Sign in</a>.
      </p>
    </Card>
  );
}

interface InviteDetails {
  organization: { slug: string; name: string } | string;
  email: string;
  role: string;
  invitedBy: string;
  hasAccount: boolean;
}

export function AcceptInvite({ api, token, me, onDone }: { api: Api; token: string; me: Me | null; onDone: () => Promise<void> }) {
  const details = useLoad<InviteDetails>(`invite:${token}`, () => api.get(`accept-invite/${encodeURIComponent(token)}/`));
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const invite = details.data;
  const signedInAsInvitee = !!me && !!invite && me.email === invite.email;
  const [busy, error, submit] = useSubmit(async () => {
    const body: Record<string, string> = {};
    if (!signedInAsInvitee) body.password = password;
    if (invite && !invite.hasAccount && name) body.name = name;
    await api.post(`accept-invite/${encodeURIComponent(token)}/`, body);
    location.hash = '#/';
    await onDone();
  });
  if (details.error) {
    return (
      <Card title="Invitation">
        <ErrorBox error={details.error.status === 404 ? new ApiError(404, 'This invitation is unknown, used or expired. Ask for a new one.') : details.error} />
      </Card>
    );
  }
  if (!invite) return <Card title="Invitation"><Skeleton rows={3} /></Card>;
  const org = typeof invite.organization === 'string' ? invite.organization : invite.organization.name || invite.organization.slug;
  return (
    <Card title={`Join ${org}`}>
      <p>
        {invite.invitedBy} invited <strong>{invite.email}</strong> as {invite.role}.
      </p>
      <form onSubmit={submit}>
        {!invite.hasAccount && (
          <label>
            Your name
            <input autoComplete="name" value={name} onInput={(e) => setName(value(e))} />
          </label>
        )}
        {!signedInAsInvitee && (
          <label>
            {invite.hasAccount ? 'Your password' : 'Choose a password (at least 8 characters)'}
            <input
              type="password"
              required
              minLength={invite.hasAccount ? undefined : 8}
              autoComplete={invite.hasAccount ? 'current-password' : 'new-password'}
              value={password}
              onInput={(e) => setPassword(value(e))}
            />
          </label>
        )}
        {error && <p class="form-error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Joining…' : 'Accept invitation'}
        </button>
      </form>
    </Card>
  );
}
