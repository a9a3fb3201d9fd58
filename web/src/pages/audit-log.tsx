// An organization's audit log, for its owners and admins (the API refuses members): who
// changed members, keys, rules and settings, and who signed in or failed to, newest first,
// one kind of event at a time when asked.
import { useRef, useState } from 'preact/hooks';
import type { WithNext } from '../api.js';
import type { AuditEntry, AuditLog as Log } from '../types.js';
import { Empty, ErrorBox, Skeleton, Time, useApp, useLoad } from '../ui.js';
import { enc } from './common.js';

/** Who made a change; no actor: Errata itself. */
export function actorName(e: AuditEntry): string {
  if (!e.actor) return 'Errata';
  const { name, email } = e.actor;
  return name && name !== email ? `${name} (${email})` : email;
}

export function AuditLog({ org }: { org: string }) {
  const app = useApp();
  const [event, setEvent] = useState('');
  // The cursors of the pages shown before this one: "Newer" goes back one.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const path = `organizations/${enc(org)}/audit-logs/`;
  const q = { event, cursor };
  const log = useLoad<WithNext<Log>>(`audit:${org}:${event}:${cursor ?? ''}`, () => app.api.withNext(path, q), () => app.api.cached(path, q));
  // The filter keeps its choices while another page loads.
  const options = useRef<string[]>([]);
  if (log.data) options.current = log.data.body.options;
  const rows = log.data?.body.rows;
  return (
    <>
      <div class="audit-filter">
        <label for="audit-event">Event</label>
        <select
          id="audit-event"
          value={event}
          onChange={(e) => {
            setEvent((e.target as HTMLSelectElement).value);
            setCursors([]);
          }}
        >
          <option value="">all events</option>
          {options.current.map((o) => (
            <option key={o} value={o}>{o}</option>
          ))}
        </select>
      </div>
      {log.error ? (
        <ErrorBox error={log.error} retry={log.reload} />
      ) : !rows ? (
        <Skeleton rows={6} />
      ) : rows.length === 0 ? (
        <Empty title="Nothing recorded">{event ? `No ${event} entries${cursor ? ' on this page' : ''}.` : 'No changes or sign-ins yet.'}</Empty>
      ) : (
        <table class="table audit">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Event</th>
              <th>What</th>
              <th>IP address</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td><Time iso={r.dateCreated} /></td>
                <td>{actorName(r)}</td>
                <td class="event"><code>{r.event}</code></td>
                <td>{r.note}</td>
                <td>{r.ipAddress ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Audit log pages">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span class="muted">{cursors.length ? `Page ${cursors.length + 1}` : ''}</span>
        <button
          type="button"
          disabled={!log.data?.next}
          onClick={() => {
            const next = log.data?.next;
            if (next) setCursors([...cursors, next]);
          }}
        >
          Older →
        </button>
      </nav>
    </>
  );
}
