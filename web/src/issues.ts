// Pure helpers of the issue list, tested without a browser.

export interface Config {
  api: string;
  org: string;
  project: string;
}

export interface IssueSummary {
  id: string;
  title: string;
  culprit: string;
  level: string;
  count: string;
  lastSeen: string;
}

/** The issue list URL for a project, with Sentry's query syntax. */
export function issuesUrl(config: Config, query = 'is:unresolved'): string {
  const base = config.api.replace(/\/+$/, '');
  const org = encodeURIComponent(config.org);
  const project = encodeURIComponent(config.project);
  return `${base}/api/0/projects/${org}/${project}/issues/?query=${encodeURIComponent(query)}`;
}

/** "3 minutes ago"-style text for an ISO time, relative to `now`. */
export function timeAgo(iso: string, now: Date = new Date()): string {
  const seconds = Math.round((now.getTime() - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(seconds)) return 'unknown';
  if (seconds < 60) return 'just now';
  const units: [number, string][] = [[86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${name}${n === 1 ? '' : 's'} ago`;
    }
  }
  return 'just now';
}

/** Table rows as plain data: the page renders them with textContent, never as HTML. */
export function rows(issues: IssueSummary[], now: Date = new Date()): string[][] {
  return issues.map((i) => [`${i.title}\n${i.culprit}`, i.level, i.count, timeAgo(i.lastSeen, now)]);
}
