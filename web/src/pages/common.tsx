// Data several pages share: the organization's projects (and which one is selected), its
// members, and the project's environments, releases and tag keys.
import type { Page } from '../api.js';
import type { Member, Project } from '../types.js';
import { useApp, useLoad } from '../ui.js';

const LAST_PROJECT = 'errata.project';

export const projectsPath = (org: string) => `organizations/${encodeURIComponent(org)}/projects/`;

/** The project a page would pick before the project list is known (to load ahead). */
export function likelyProject(wanted: string | undefined, fallback: string | undefined): string | undefined {
  try {
    return wanted ?? localStorage.getItem(LAST_PROJECT) ?? fallback;
  } catch {
    return wanted ?? fallback;
  }
}

export function useProjects(org: string) {
  const { api } = useApp();
  const path = projectsPath(org);
  return useLoad<Project[]>(`projects:${org}`, () => api.get(path), () => api.cached(path));
}

/** The project a page shows: the one in the URL, else the last one used, else the deploy's
 * default, else the first. */
export function pickProject(projects: Project[] | undefined, wanted: string | undefined, fallback: string | undefined): Project | undefined {
  if (!projects || projects.length === 0) return undefined;
  let last: string | null = null;
  try {
    last = localStorage.getItem(LAST_PROJECT);
  } catch {
    /* storage may be off */
  }
  const find = (slug: string | null | undefined) => (slug ? projects.find((p) => p.slug === slug) : undefined);
  const chosen = find(wanted) ?? find(last) ?? find(fallback) ?? projects[0];
  try {
    localStorage.setItem(LAST_PROJECT, chosen.slug);
  } catch {
    /* ignore */
  }
  return chosen;
}

/** `when` false: not yet (a page loads what it shows first, then what only helps). */
export function useMembers(org: string, when = true) {
  const { api } = useApp();
  const path = `organizations/${encodeURIComponent(org)}/members/`;
  return useLoad<Member[]>(when ? `members:${org}` : null, () => api.get(path), () => api.cached(path));
}

/** Names from a project list route of the event store (environments, releases, tags). */
export function useProjectNames(org: string, project: string | undefined, what: 'environments' | 'releases' | 'tags', when = true) {
  const { api } = useApp();
  const path = project ? `projects/${encodeURIComponent(org)}/${encodeURIComponent(project)}/${what}/` : '';
  const loaded = useLoad<Page<Record<string, unknown>>>(project && when ? `${what}:${org}:${project}` : null, () => api.page(path), () => api.cached(path));
  const field = what === 'releases' ? 'version' : what === 'tags' ? 'key' : 'name';
  return (loaded.data?.items ?? []).map((x) => String(x[field]));
}

export function ProjectPicker({ projects, selected, onPick }: { projects: Project[]; selected: Project; onPick: (slug: string) => void }) {
  if (projects.length < 2) return <span class="project-name">{selected.name}</span>;
  return (
    <select aria-label="Project" value={selected.slug} onChange={(e) => onPick((e.target as HTMLSelectElement).value)}>
      {projects.map((p) => (
        <option key={p.slug} value={p.slug}>
          {p.name}
        </option>
      ))}
    </select>
  );
}

/** A path segment, percent-encoded. */
export const enc = encodeURIComponent;
