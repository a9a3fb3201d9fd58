// Signing in, first-run setup, accepting an invitation and resetting a forgotten password:
// the pages without a session. Invitation and reset secrets arrive in the location's fragment
// (never sent to a server) and go to the API only in request bodies, never in its URLs.
import { useState } from 'preact/hooks';
import { Api, ApiError } from '../api.js';
import { go } from '../route.js';
import type { InviteDetails, Me } from '../types.js';
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
      <p class="small">
        <a href="#/forgot-password">Forgot your password?</a>
      </p>
      <p class="muted small">
        First run? <a href="#/setup">Set up Errata</a> with your organization and first project.
      </p>
    </Card>
  );
}

export function Setup({ api, onDone }: { api: Api; onDone: () => Promise<void> }) {
  const [f, setF] = useState({ secret: '', email: '', password: '', org: '', project: '', platform: 'python' });
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: value(e) });
  const [busy, error, submit] = useSubmit(async () => {
    await api.post('setup/', {
      setupSecret: f.secret.trim(),
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
        {/* Proves the person setting up is the one who deployed: the page is public. */}
        <label>
          Setup secret
          <input type="password" autoComplete="off" required aria-describedby="setup-secret-hint" value={f.secret} onInput={set('secret')} />
        </label>
        <p id="setup-secret-hint" class="muted small hint">
          Printed by the deploy: the <code>SetupSecretCommand</code> output of <code>cdk deploy</code>, or <code>terraform output -raw setup_secret</code>.
        </p>
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

export function AcceptInvite({ api, token, me, onDone }: { api: Api; token: string; me: Me | null; onDone: () => Promise<void> }) {
  const details = useLoad<InviteDetails>(`invite:${token}`, () => api.post('accept-invite/details/', { token }));
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const invite = details.data;
  const signedInAsInvitee = !!me && !!invite && me.email === invite.email;
  const [busy, error, submit] = useSubmit(async () => {
    const body: Record<string, string> = { token };
    if (!signedInAsInvitee) body.password = password;
    if (invite && !invite.hasAccount && name) body.name = name;
    await api.post('accept-invite/', body);
    await onDone();
    // The invitation is used: its secret leaves the address bar and the history.
    go({ name: 'home' }, true);
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

export function ForgotPassword({ api }: { api: Api }) {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState<string>();
  const [busy, error, submit] = useSubmit(async () => {
    // The answer is the same whether or not the address has an account.
    const answer = await api.post<{ detail?: string }>('auth/password-reset/', { email });
    setSent(answer?.detail ?? 'If an account has this address, a link to set a new password is on its way.');
  });
  return (
    <Card title="Forgot your password?">
      {sent ? (
        <p role="status">{sent}</p>
      ) : (
        <form onSubmit={submit}>
          <p class="muted small">We e-mail a link that sets a new password. It works once, for an hour.</p>
          <label>
            Your e-mail
            <input type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(value(e))} autoFocus />
          </label>
          {error && <p class="form-error" role="alert">{error}</p>}
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Sending…' : 'E-mail me a link'}
          </button>
        </form>
      )}
      <p class="muted small">
        Remembered it? <a href="#/login">Sign in</a>.
      </p>
    </Card>
  );
}

export function ResetPassword({ api, token, onDone }: { api: Api; token: string; onDone: () => Promise<void> }) {
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, error, submit] = useSubmit(async () => {
    if (password !== repeat) throw new Error('The two new passwords are not the same.');
    await api.post('auth/password-reset/confirm/', { token, password });
    await onDone();
    // The link works once: its secret leaves the address bar and the history.
    go({ name: 'home' }, true);
  });
  return (
    <Card title="Choose a new password">
      <p class="muted small">Setting it signs you out everywhere else.</p>
      <form onSubmit={submit}>
        <label>
          New password
          <input type="password" autoComplete="new-password" required minLength={8} value={password} onInput={(e) => setPassword(value(e))} autoFocus />
        </label>
        <label>
          Repeat the new password
          <input type="password" autoComplete="new-password" required minLength={8} value={repeat} onInput={(e) => setRepeat(value(e))} />
        </label>
        {error && <p class="form-error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Set the new password'}
        </button>
      </form>
      <p class="muted small">
        Link expired? <a href="#/forgot-password">Ask for a new one</a>.
      </p>
    </Card>
  );
}
