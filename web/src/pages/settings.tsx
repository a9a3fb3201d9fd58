// Settings: the menu, the organization's members and audit log, and each project section's page.
import { useState } from 'preact/hooks';
import { go, href, ORG_SECTIONS, PROJECT_SECTIONS } from '../route.js';
import type { Member } from '../types.js';
import { attempt, ErrorBox, Skeleton, useApp } from '../ui.js';
import { RuleEditor, Rules } from './alert-rules.js';
import { AuditLog } from './audit-log.js';
import { enc, pickProject, useMembers, useProjects } from './common.js';
import { DebugFiles } from './debug-files.js';
import { Filters, General, Keys, Scrubbing } from './project-settings.js';

const TITLES: Record<string, string> = {
  members: 'Members',
  'audit-log': 'Audit log',
  general: 'General',
  keys: 'Client keys (DSN)',
  alerts: 'Alert rules',
  filters: 'Inbound filters',
  scrubbing: 'Data scrubbing',
  'debug-files': 'Debug files and source maps',
};

export function Settings({ org, project, section, id }: { org: string; project?: string; section: string; id?: string }) {
  const app = useApp();
  const projects = useProjects(org);
  const current = pickProject(projects.data, project, app.config.project);
  const role = app.me.organizations.find((o) => o.slug === org)?.role ?? 'member';
  const admin = role !== 'member';
  const orgSection = (ORG_SECTIONS as readonly string[]).includes(section);
  let body;
  if (section === 'members') body = <Members org={org} role={role} />;
  // The API answers members 403 here: they are not offered the section.
  else if (section === 'audit-log') body = admin ? <AuditLog org={org} /> : <p class="note">Owners and admins read the audit log.</p>;
  else if (!project) body = <Skeleton rows={4} />;
  else if (section === 'general') body = <General org={org} project={project} admin={admin} />;
  else if (section === 'keys') body = <Keys org={org} project={project} admin={admin} />;
  else if (section === 'alerts') body = id ? <RuleEditor org={org} project={project} id={id} admin={admin} /> : <Rules org={org} project={project} admin={admin} />;
  else if (section === 'filters') body = <Filters org={org} project={project} admin={admin} />;
  else if (section === 'scrubbing') body = <Scrubbing org={org} project={project} admin={admin} />;
  else body = <DebugFiles org={org} project={project} admin={admin} />;
  return (
    <div class="settings">
      <nav class="side-nav" aria-label="Settings">
        <h2>Organization</h2>
        <a href={href({ name: 'settings', org, section: 'members' })} aria-current={section === 'members' ? 'page' : undefined}>Members</a>
        {admin && (
          <a href={href({ name: 'settings', org, section: 'audit-log' })} aria-current={section === 'audit-log' ? 'page' : undefined}>Audit log</a>
        )}
        <h2>Project</h2>
        {projects.data && projects.data.length > 1 && current && (
          <select
            aria-label="Project"
            value={project ?? current.slug}
            onChange={(e) => go({ name: 'settings', org, project: (e.target as HTMLSelectElement).value, section: orgSection ? 'general' : section })}
          >
            {projects.data.map((p) => (
              <option key={p.slug} value={p.slug}>{p.name}</option>
            ))}
          </select>
        )}
        {current &&
          PROJECT_SECTIONS.map((s) => (
            <a key={s} href={href({ name: 'settings', org, project: project ?? current.slug, section: s })} aria-current={project && section === s ? 'page' : undefined}>
              {TITLES[s]}
            </a>
          ))}
      </nav>
      <section class="settings-body">
        <h1>{TITLES[section] ?? section}{project && <span class="muted"> · {project}</span>}</h1>
        {!admin && !orgSection && <p class="note">You are a member: admins and owners change these settings.</p>}
        {body}
      </section>
    </div>
  );
}


function Members({ org, role }: { org: string; role: string }) {
  const app = useApp();
  const members = useMembers(org);
  const [email, setEmail] = useState('');
  const [newRole, setNewRole] = useState('member');
  const path = `organizations/${enc(org)}/members/`;
  if (members.error) return <ErrorBox error={members.error} retry={members.reload} />;
  if (!members.data) return <Skeleton rows={3} />;
  return (
    <>
      <table class="table">
        <thead>
          <tr><th>Member</th><th>Role</th><th /></tr>
        </thead>
        <tbody>
          {members.data.map((m: Member) => (
            <tr key={m.id}>
              <td>
                {m.email}
                {m.pending && <span class="badge">{m.expired ? 'invitation expired' : 'invited'}</span>}
              </td>
              <td>
                {role === 'owner' && !m.pending ? (
                  <select
                    aria-label={`Role of ${m.email}`}
                    value={m.role}
                    onChange={async (e) => {
                      const r = (e.target as HTMLSelectElement).value;
                      if (await attempt(app, () => app.api.put(`${path}${enc(m.id)}/`, { role: r }), `${m.email} is now ${r}`)) members.reload();
                      else members.reload();
                    }}
                  >
                    {['member', 'admin', 'owner'].map((r) => <option key={r} value={r}>{r}</option>)}
                  </select>
                ) : (
                  m.role
                )}
              </td>
              <td>
                <div class="row-actions">
                {(role !== 'member' || m.email === app.me.email) && (
                  <button
                    type="button"
                    class="danger small"
                    onClick={async () => {
                      const self = m.email === app.me.email;
                      if (!confirm(self ? `Leave ${org}?` : `Remove ${m.email} from ${org}?`)) return;
                      if (!(await attempt(app, () => app.api.del(`${path}${enc(m.id)}/`), self ? `You left ${org}` : `Removed ${m.email}`))) return;
                      if (self) {
                        await app.refreshMe();
                        location.hash = '#/';
                      } else {
                        members.reload();
                      }
                    }}
                  >
                    {m.email === app.me.email ? 'Leave' : 'Remove'}
                  </button>
                )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {role !== 'member' && (
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await attempt(app, () => app.api.post(path, { email, role: newRole }), `Invitation e-mailed to ${email}`)) {
              setEmail('');
              members.reload();
            }
          }}
        >
          <h2>Invite someone</h2>
          <input type="email" required aria-label="E-mail address" placeholder="name@example.com" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
          <select aria-label="Role" value={newRole} onChange={(e) => setNewRole((e.target as HTMLSelectElement).value)}>
            <option value="member">member</option>
            <option value="admin">admin</option>
            {role === 'owner' && <option value="owner">owner</option>}
          </select>
          <button type="submit" class="primary">Send invitation</button>
        </form>
      )}
    </>
  );
}

