// Sentry's issue search syntax on the client: split a query into terms (to show quick filters
// and change one term), and suggest keys and values while typing.

export interface Term {
  /** `key:value` terms have a key; free text does not. */
  key?: string;
  value: string;
  negated: boolean;
  /** The term's characters in the query: `query.slice(start, end)`. */
  start: number;
  end: number;
}

/** The terms of a query, in order. Quotes group spaces (`"a b"`, `message:"a b"`). */
export function terms(query: string): Term[] {
  const out: Term[] = [];
  let i = 0;
  while (i < query.length) {
    if (query[i] === ' ') {
      i++;
      continue;
    }
    const start = i;
    let inQuote = false;
    while (i < query.length && (inQuote || query[i] !== ' ')) {
      if (query[i] === '"') inQuote = !inQuote;
      i++;
    }
    const text = query.slice(start, i);
    const negated = text.startsWith('!');
    const body = negated ? text.slice(1) : text;
    const colon = body.startsWith('"') ? -1 : body.indexOf(':');
    if (colon > 0) {
      out.push({ key: body.slice(0, colon), value: unquote(body.slice(colon + 1)), negated, start, end: i });
    } else {
      out.push({ value: unquote(body), negated, start, end: i });
    }
  }
  return out;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

function quoteIfNeeded(v: string): string {
  return /[\s"]/.test(v) ? `"${v.replace(/"/g, '')}"` : v;
}

/** The (first, not negated) value of `key` in the query, if any. */
export function termValue(query: string, key: string): string | undefined {
  return terms(query).find((t) => t.key === key && !t.negated)?.value;
}

/** The query with every `key:` term replaced by `key:value` (or removed when value is empty). */
export function setTerm(query: string, key: string, value: string | undefined): string {
  const kept = terms(query)
    .filter((t) => t.key !== key)
    .map((t) => query.slice(t.start, t.end));
  if (value) kept.unshift(`${key}:${quoteIfNeeded(value)}`);
  return kept.join(' ');
}

export interface Suggestion {
  /** What replaces the word being typed. */
  text: string;
  label: string;
  description?: string;
}

export interface SuggestionContext {
  tagKeys: string[];
  environments: string[];
  releases: string[];
  members: string[];
}

const KEYS: [string, string][] = [
  ['is', 'status: unresolved, resolved, ignored, assigned…'],
  ['level', 'fatal, error, warning, info, debug'],
  ['environment', 'the environment of the events'],
  ['release', 'a release of the events'],
  ['firstRelease', 'the release the issue first appeared in'],
  ['assigned', 'who the issue is assigned to'],
  ['has', 'issues with a release, environment, user or assignee'],
  ['age', 'when the issue was first seen, like -24h'],
  ['lastSeen', 'when the issue was last seen, like -1h'],
  ['timesSeen', 'how many events, like >10'],
  ['userCount', 'how many users, like >=5'],
];

const VALUES: Record<string, string[]> = {
  is: ['unresolved', 'resolved', 'ignored', 'assigned', 'unassigned', 'new', 'ongoing', 'regressed', 'escalating'],
  level: ['fatal', 'error', 'warning', 'info', 'debug'],
  has: ['release', 'environment', 'user', 'assignee'],
  age: ['-1h', '-24h', '-7d', '-30d', '+30d'],
  lastSeen: ['-1h', '-24h', '-7d', '+7d', '+30d'],
  timesSeen: ['>1', '>10', '>100', '>1000'],
  userCount: ['>1', '>10', '>100'],
};

/** The word under the cursor and what could complete it: keys (inserted as `key:`), or the
 * values of the key being typed. */
export function suggest(
  query: string,
  cursor: number,
  ctx: SuggestionContext,
  limit = 8,
): { from: number; to: number; items: Suggestion[] } {
  let from = cursor;
  while (from > 0 && query[from - 1] !== ' ') from--;
  let to = cursor;
  while (to < query.length && query[to] !== ' ') to++;
  const word = query.slice(from, cursor);
  const negation = word.startsWith('!') ? '!' : '';
  const body = word.slice(negation.length);
  const colon = body.indexOf(':');
  if (body.startsWith('"')) return { from, to, items: [] };
  if (colon > 0) {
    const key = body.slice(0, colon);
    const typed = body.slice(colon + 1).replace(/^"/, '').toLowerCase();
    const values =
      VALUES[key] ??
      (key === 'environment' ? ctx.environments : undefined) ??
      (key === 'release' || key === 'firstRelease' ? ctx.releases : undefined) ??
      (key === 'assigned' ? ['me', ...ctx.members] : undefined) ??
      [];
    const items = values
      .filter((v) => v.toLowerCase().startsWith(typed) && v.toLowerCase() !== typed)
      .slice(0, limit)
      .map((v) => ({ text: `${negation}${key}:${quoteIfNeeded(v)} `, label: v }));
    return { from, to, items };
  }
  const lower = body.toLowerCase();
  const builtin = KEYS.map(([k, d]) => ({ key: k, description: d }));
  const tags = ctx.tagKeys
    .filter((k) => !KEYS.some(([b]) => b === k))
    .map((k) => ({ key: k, description: 'tag' }));
  const items = [...builtin, ...tags]
    .filter((k) => k.key.toLowerCase().startsWith(lower))
    .slice(0, limit)
    .map((k) => ({ text: `${negation}${k.key}:`, label: `${k.key}:`, description: k.description }));
  return { from, to, items };
}

/** The query with a suggestion applied, and where the cursor goes. */
export function apply(query: string, range: { from: number; to: number }, s: Suggestion): [string, number] {
  const next = query.slice(0, range.from) + s.text + query.slice(range.to).replace(/^ /, s.text.endsWith(' ') ? '' : ' ');
  return [next, range.from + s.text.length];
}
