// The releases of a project: versions with event counts and first/last event, each linking to
// its issues.
import type { Page } from '../api.js';
import { compact } from '../format.js';
import { go, href, type Params } from '../route.js';
import type { Release } from '../types.js';
import { Empty, ErrorBox, Skeleton, Time, useApp, useLoad } from '../ui.js';
import { pickProject, ProjectPicker, useProjects } from './common.js';

export function Releases({ org, params }: { org: string; params: Params }) {
  const app = useApp();
  const projects = useProjects(org);
  const project = pickProject(projects.data, params.project, app.config.project);
  const path = project ? `projects/${encodeURIComponent(org)}/${encodeURIComponent(project.slug)}/releases/` : '';
  const releases = useLoad<Page<Release>>(project ? `releases:${path}` : null, () => app.api.page(path), () => app.api.cached(path));
  if (projects.error) return <ErrorBox error={projects.error} retry={projects.reload} />;
  return (
    <section>
      <div class="page-head">
        <h1>Releases</h1>
        {project && projects.data && <ProjectPicker projects={projects.data} selected={project} onPick={(slug) => go({ name: 'releases', org, params: { project: slug } })} />}
      </div>
      {releases.error ? (
        <ErrorBox error={releases.error} retry={releases.reload} />
      ) : !releases.data ? (
        <Skeleton rows={6} />
      ) : releases.data.items.length === 0 ? (
        <Empty title="No releases yet">Set <code>release</code> in your SDK's init and releases appear here with their events.</Empty>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th>Version</th>
              <th class="num">Events</th>
              <th>First event</th>
              <th>Last event</th>
            </tr>
          </thead>
          <tbody>
            {releases.data.items.map((r) => (
              <tr key={r.version}>
                <td>
                  <a href={href({ name: 'stream', org, params: { project: project!.slug, query: `release:"${r.version.replace(/"/g, '')}"` } })}>
                    <code>{r.version}</code>
                  </a>
                </td>
                <td class="num">{compact(r.eventCount)}</td>
                <td><Time iso={r.firstEvent} /></td>
                <td><Time iso={r.lastEvent} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
