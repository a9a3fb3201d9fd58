// The placeholder page: loads config.json (written at deploy), asks for an API token and
// lists the project's unresolved issues. Event data is untrusted: it is only set as text.
import { Config, IssueSummary, issuesUrl, rows } from './issues.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function load(config: Config, token: string): Promise<void> {
  const status = $('status');
  status.textContent = 'Loading…';
  const resp = await fetch(issuesUrl(config), { headers: { Authorization: `Bearer ${token}` } });
  if (!resp.ok) {
    const body = await resp.json().catch(() => ({}));
    status.textContent = `The API answered ${resp.status}: ${body.detail ?? resp.statusText}`;
    return;
  }
  const issues = (await resp.json()) as IssueSummary[];
  const tbody = $('issues').querySelector('tbody')!;
  tbody.replaceChildren();
  for (const [issue, level, count, seen] of rows(issues)) {
    const tr = document.createElement('tr');
    const [title, culprit] = issue.split('\n');
    const cell = document.createElement('td');
    const t = document.createElement('div');
    t.className = 'title';
    t.textContent = title;
    const c = document.createElement('div');
    c.className = 'culprit';
    c.textContent = culprit;
    cell.append(t, c);
    tr.append(cell);
    for (const [text, cls] of [[level, ''], [count, 'num'], [seen, '']]) {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    tbody.append(tr);
  }
  $('issues').hidden = false;
  status.textContent = issues.length ? '' : 'No unresolved issues. Send one with the DSN from make up.';
}

async function main(): Promise<void> {
  const config = (await (await fetch('config.json')).json()) as Config;
  $('scope').textContent = `${config.org} / ${config.project}`;
  const input = $<HTMLInputElement>('token');
  input.value = localStorage.getItem('errata-token') ?? '';
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    localStorage.setItem('errata-token', input.value);
    void load(config, input.value);
  });
  if (input.value) await load(config, input.value);
}

void main();
