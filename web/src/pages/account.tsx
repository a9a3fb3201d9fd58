// The signed-in person's own page: their password, and where they are signed in. Changing the
// password ends every other sign-in (the API does); any other sign-in can be ended here, or
// all of them at once, this browser's too.
import { useState } from 'preact/hooks';
import type { Page } from '../api.js';
import { browserOf, dateTime } from '../format.js';
import type { Session } from '../types.js';
import { attempt, Empty, ErrorBox, signedOut, Skeleton, Time, useApp, useLoad } from '../ui.js';
import { enc } from './common.js';

export function Account() {
  const app = useApp();
  // Bumped after a password change, which ended the other sign-ins: the list loads again.
  const [changes, setChanges] = useState(0);
  const { name, email } = app.me;
  return (
    <div class="settings-body account">
      <h1>Your account</h1>
      <p class="muted">{name && name !== email ? `${name} · ${email}` : email}</p>
      <ChangePassword onChanged={() => setChanges((n) => n + 1)} />
      <SignIns key={changes} />
    </div>
  );
}

const EMPTY = { password: '', passwordNew: '', passwordVerify: '' };

function ChangePassword({ onChanged }: { onChanged: () => void }) {
  const app = useApp();
  const [f, setF] = useState(EMPTY);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState(false);
  const set = (k: keyof typeof EMPTY) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setDone(false);
    // Caught here, so a typing mistake costs no attempt (wrong current passwords are throttled).
    if (f.passwordNew !== f.passwordVerify) {
      setError('The two new passwords are not the same.');
      return;
    }
    setBusy(true);
    try {
      await app.api.put('users/me/password/', f);
      setF(EMPTY);
      setDone(true);
      onChanged();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="password-head">
      <h2 id="password-head">Change password</h2>
      <form class="stack-form password" onSubmit={submit}>
        {/* For password managers: which account the new password is for. */}
        <input type="email" name="username" autoComplete="username" value={app.me.email} readOnly hidden />
        <label>
          Current password
          <input type="password" autoComplete="current-password" required value={f.password} onInput={set('password')} />
        </label>
        <label>
          New password
          <input type="password" autoComplete="new-password" required minLength={8} value={f.passwordNew} onInput={set('passwordNew')} />
        </label>
        <label>
          Repeat the new password
          <input type="password" autoComplete="new-password" required minLength={8} value={f.passwordVerify} onInput={set('passwordVerify')} />
        </label>
        {error && <p class="form-error" role="alert">{error}</p>}
        {done && (
          <p role="status">Your password is changed. Your other sign-ins were ended: other browsers and devices sign in again with the new password.</p>
        )}
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Changing…' : 'Change password'}
          </button>
        </div>
      </form>
    </section>
  );
}

function SignIns() {
  const app = useApp();
  // The cursors of the pages shown before this one (newest first): "Newer" goes back one.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const path = 'users/me/sessions/';
  const q = { cursor };
  const sessions = useLoad<Page<Session>>(`sessions:${cursor ?? ''}`, () => app.api.page(path, q), () => app.api.cached(path, q));
  return (
    <section aria-labelledby="sessions-head">
      <div class="panel-head">
        <h2 id="sessions-head">Where you are signed in</h2>
        <button
          type="button"
          class="danger"
          onClick={async () => {
            if (!confirm('Sign out everywhere, this browser too?')) return;
            if (await attempt(app, () => app.api.del('auth/', undefined, { all: true }))) await signedOut(app);
          }}
        >
          Sign out everywhere
        </button>
      </div>
      {sessions.error ? (
        <ErrorBox error={sessions.error} retry={sessions.reload} />
      ) : !sessions.data ? (
        <Skeleton rows={3} />
      ) : sessions.data.items.length === 0 ? (
        <Empty title="No sign-ins">This browser uses an API token, not a sign-in.</Empty>
      ) : (
        <table class="table sessions">
          <thead>
            <tr>
              <th>Browser</th>
              <th>IP address</th>
              <th>Signed in</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sessions.data.items.map((s) => (
              <tr key={s.id}>
                <td title={s.userAgent ?? undefined}>
                  {browserOf(s.userAgent)}
                  {s.current && <span class="badge">this browser</span>}
                </td>
                <td>{s.ipAddress ?? '—'}</td>
                <td><Time iso={s.dateCreated} /></td>
                <td>{dateTime(s.expires)}</td>
                <td>
                  <div class="row-actions">
                    {!s.current && (
                      <button
                        type="button"
                        class="small"
                        onClick={async () => {
                          if (await attempt(app, () => app.api.del(`users/me/sessions/${enc(s.id)}/`), `Signed out ${browserOf(s.userAgent)}`)) sessions.reload();
                        }}
                      >
                        Sign out
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(cursors.length > 0 || sessions.data?.next) && (
        <nav class="pager" aria-label="Sign-in pages">
          <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            ← Newer
          </button>
          <button type="button" disabled={!sessions.data?.next} onClick={() => sessions.data?.next && setCursors([...cursors, sessions.data.next])}>
            Older →
          </button>
        </nav>
      )}
    </section>
  );
}
