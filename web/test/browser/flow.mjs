// The web app in Debian's Chromium (driven by playwright-core, never a downloaded browser)
// against the local stack, as a person triages with it:
//   sign in → find the issue a real SDK sent → open it → read the stack trace → resolve it →
//   see it leave the unresolved stream;
// and on the way: no script from event data ever runs (the issue's title, message, tags and
// frame names carry HTML/JS), no page error happens, and screenshots of the main pages are
// written to OUT_DIR.
//   SETUP_SECRET=… MAILBOX_URL=… node flow.mjs WEB_URL EMAIL PASSWORD TAG OUT_DIR
// (SETUP_SECRET: the stack's real setup secret, so setup gets past it to "already set up";
// MAILBOX_URL: the local e-mail emulator's messages, where the invitation link is read.)
// Prints one JSON line of findings; exits non-zero when a step cannot be done.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, signIn } from './session.mjs';

const [web, email, password, tag, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node flow.mjs WEB_URL EMAIL PASSWORD TAG OUT_DIR');
  process.exit(64);
}
mkdirSync(outDir, { recursive: true });

const found = { pageErrors: [], dialogs: [], consoleErrors: [], screens: [] };
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
page.on('pageerror', (e) => found.pageErrors.push(String(e)));
page.on('dialog', async (d) => {
  // confirm() of a deliberate action is accepted; anything else (an alert from event data) is a finding.
  if (d.type() === 'confirm') await d.accept();
  else {
    found.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss();
  }
});
page.on('console', (m) => {
  if (m.type() === 'error') found.consoleErrors.push(m.text());
});
page.setDefaultTimeout(30_000);

async function shot(name, p = page) {
  const file = join(outDir, `${name}.png`);
  await p.screenshot({ path: file, fullPage: false });
  found.screens.push(file);
}

async function step(name, work) {
  try {
    await work();
  } catch (e) {
    const pages = browser.contexts().flatMap((c) => c.pages());
    for (const [i, p] of pages.entries()) await shot(`failed-${name}-${i}`, p).catch(() => {});
    console.log(JSON.stringify({ ...found, failedStep: name, error: String(e) }));
    await browser.close();
    process.exit(1);
  }
}

const base = web.replace(/#.*$/, '');
const streamQuery = (q) => `${base}#/organizations/${found.org}/issues/?query=${encodeURIComponent(q)}`;

await step('setup-once', async () => {
  // First-run setup works once; this stack is set up, so the page says so and changes nothing.
  // The real secret is given: without it the API refuses before it looks whether it is set up.
  if (!process.env.SETUP_SECRET) throw new Error('SETUP_SECRET is not set (the stack settings have no SETUP_SECRET line)');
  await page.goto(`${base}#/setup`);
  await page.getByLabel('Setup secret').fill(process.env.SETUP_SECRET);
  await page.getByLabel('Your e-mail').fill(`setup-${tag}@example.test`);
  await page.getByLabel(/^Password/).fill('a long enough password');
  await page.getByLabel('Organization slug').fill(`org-${tag}`);
  await page.getByLabel('First project slug').fill('web');
  await page.getByRole('button', { name: 'Create organization' }).click();
  found.setupAnswer = await page.getByRole('alert').textContent();
});

await step('sign-in', async () => {
  await page.goto(base);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await shot('sign-in');
  found.org = await signIn(page, base, email, password);
});

await step('first-load', async () => {
  // A cold load of the stream, signed in: navigation start to the first issue row.
  const fresh = await context.newPage();
  const t0 = Date.now();
  await fresh.goto(`${base}#/organizations/${found.org}/issues/`);
  await fresh.locator('ol.issues li, .empty').first().waitFor();
  found.firstLoadMs = Date.now() - t0;
  found.firstLoadRequests = await fresh.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => `${Math.round(e.startTime)}+${Math.round(e.duration)}ms ${e.name.replace(/^.*\/(api\/0\/)?/, '')}`),
  );
  await fresh.close();
});

await step('find-issue', async () => {
  const search = page.getByRole('searchbox', { name: 'Search issues' });
  await search.fill(`is:unresolved "${tag}"`);
  await search.press('Enter');
  await page.locator('ol.issues li').first().waitFor();
  found.streamTitles = await page.locator('ol.issues .issue-title').allTextContents();
  await page.locator('ol.issues svg.sparkline polyline').first().waitFor();
  await shot('stream');
});

await step('suggestions', async () => {
  const search = page.getByRole('searchbox', { name: 'Search issues' });
  await search.fill('lev');
  await page.getByRole('option', { name: /level:/ }).waitFor();
  await search.press('Tab');
  found.afterTab = await search.inputValue();
  await page.getByRole('option', { name: /error/ }).first().waitFor();
  found.levelOptions = await page.getByRole('option').allTextContents();
  await search.press('Escape');
});

await step('open-issue', async () => {
  await page.goto(streamQuery(`is:unresolved "${tag}"`));
  const link = page.locator('ol.issues .issue-title').filter({ hasText: `hostile ${tag}` }).first();
  await link.waitFor();
  const t0 = Date.now();
  await link.click();
  await page.locator('.issue-page h1').waitFor();
  found.routeChangeMs = Date.now() - t0;
  await page.locator('ol.frames').first().waitFor();
  found.issueTitle = await page.locator('.issue-page h1').textContent();
  found.frames = await page.locator('ol.frames .frame-fn').allTextContents();
  found.errorLine = await page.locator('ol.context li.error-line').first().textContent();
  found.tagPills = await page.locator('ul.pills li').allTextContents();
  found.breadcrumbs = await page.locator('.crumbs-timeline li').allTextContents();
  await page.locator('.tag-dist').first().waitFor();
  await page.locator('.bar-chart').waitFor();
  await page.getByText('Attachments').waitFor();
  found.attachments = await page.locator('ul.attachments a').allTextContents();
  await shot('issue');
  await page.getByRole('radio', { name: 'Full' }).click();
  found.allFrames = await page.locator('ol.frames .frame-fn').allTextContents();
  await page.locator('.grouping summary').click();
  await page.locator('.grouping ol.components li').first().waitFor();
  found.groupedBy = await page.locator('.grouping strong').textContent();
  found.issueUrl = page.url();
});

await step('older-event', async () => {
  await page.getByRole('link', { name: '← Older' }).click();
  await page.waitForURL(/\/events\/[0-9a-f]{32}\/$/);
  await page.locator('ol.frames').first().waitFor();
  found.olderEventUrl = page.url();
  await page.getByRole('link', { name: 'Newer →' }).waitFor();
});

await step('resolve', async () => {
  await page.goto(found.issueUrl);
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.locator('.issue-meta .status-resolved').waitFor();
  found.statusAfterResolve = await page.locator('.issue-meta .status').textContent();
  await page.goto(streamQuery(`is:unresolved "${tag}"`));
  await page.locator('ol.issues li, .empty').first().waitFor();
  found.unresolvedAfter = await page.locator('ol.issues .issue-title').allTextContents();
  await page.goto(streamQuery(`is:resolved "${tag}"`));
  await page.locator('ol.issues li, .empty').first().waitFor();
  found.resolvedAfter = await page.locator('ol.issues .issue-title').allTextContents();
});

await step('settings', async () => {
  await page.goto(`${base}#/settings/${found.org}/projects/${process.env.ERRATA_PROJECT || 'demo'}/keys/`);
  await page.locator('code.dsn').first().waitFor();
  found.dsns = await page.locator('code.dsn').allTextContents();
  await shot('settings-keys');
  await page.goto(`${base}#/settings/${found.org}/projects/${process.env.ERRATA_PROJECT || 'demo'}/alerts/`);
  await page.locator('ul.rules li').first().waitFor();
  await shot('settings-alerts');
  await page.goto(`${base}#/settings/${found.org}/projects/${process.env.ERRATA_PROJECT || 'demo'}/debug-files/`);
  await page.getByRole('heading', { name: 'Upload with sentry-cli' }).waitFor();
  await page.locator('table.table tbody tr, .empty').first().waitFor();
  await shot('settings-debug-files');
  await page.goto(`${base}#/organizations/${found.org}/releases/`);
  await page.locator('table.table tbody tr, .empty').first().waitFor();
  await shot('releases');
});

await step('settings-forms', async () => {
  const project = process.env.ERRATA_PROJECT || 'demo';
  // A fingerprint rule that does not parse is refused with the API's reason; nothing is saved.
  await page.goto(`${base}#/settings/${found.org}/projects/${project}/general/`);
  const rules = page.getByLabel(/Fingerprint rules/);
  await rules.waitFor();
  const before = await rules.inputValue();
  await rules.fill('this is not a rule');
  await page.getByRole('button', { name: 'Save' }).click();
  found.badRuleNotice = await page.locator('.notice-error').first().textContent();
  await rules.fill(before);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.notice-ok', { hasText: 'Saved' }).first().waitFor();
  // An alert rule made in the editor, muted, then deleted.
  const name = `web rule ${tag}`;
  await page.goto(`${base}#/settings/${found.org}/projects/${project}/alerts/new/`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel(/An issue has more than/).fill('5');
  await page.getByRole('button', { name: 'Create rule' }).click();
  const row = page.locator('ul.rules li', { hasText: name });
  await row.waitFor();
  found.ruleText = await row.locator('p').textContent();
  await row.getByRole('button', { name: 'Mute' }).click();
  await row.getByText('muted', { exact: true }).waitFor();
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
});

await step('invite', async () => {
  // The owner invites someone from the members page; the invitee follows the e-mailed link,
  // chooses a password, lands in the organization, then leaves it again.
  const invitee = `web-${tag}@example.test`;
  await page.goto(`${base}#/settings/${found.org}/members/`);
  await page.getByLabel('E-mail address').fill(invitee);
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await page.locator('table.table tr', { hasText: invitee }).getByText('invited').waitFor();
  await shot('settings-members');
  let link;
  for (let i = 0; i < 100 && !link; i++) {
    const box = await (await fetch(process.env.MAILBOX_URL)).json();
    const mails = Object.values(box.messages).flat().filter((m) => JSON.stringify(m.To).includes(invitee));
    link = mails.map((m) => /https?:\/\/[^\s"<>]*accept-invite\/[A-Za-z0-9_-]+/.exec(JSON.stringify(m))?.[0]).find(Boolean);
    if (!link) await new Promise((r) => setTimeout(r, 300));
  }
  if (!link) throw new Error(`no invitation mail for ${invitee}`);
  found.inviteLink = link;
  const other = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const p = await other.newPage();
  p.on('pageerror', (e) => found.pageErrors.push(String(e)));
  await p.goto(link);
  await p.getByRole('heading', { name: /^Join / }).waitFor();
  await p.getByLabel('Your name').fill('Web Tester');
  await p.getByLabel(/Choose a password/).fill('a long enough password');
  await shot('accept-invite', p);
  await p.getByRole('button', { name: 'Accept invitation' }).click();
  await p.getByRole('heading', { name: 'Issues' }).waitFor();
  found.inviteeHeader = await p.locator('header .email').textContent();
  // The used invitation's secret is gone from the address bar (replaced, not pushed).
  found.afterInviteUrl = p.url();
  p.on('dialog', (d) => d.accept());
  await p.goto(`${base}#/settings/${found.org}/members/`);
  await p.locator('table.table tr', { hasText: invitee }).getByRole('button', { name: 'Leave' }).click();
  await p.getByText('You are not a member of any organization yet').waitFor();
  await other.close();
});

await step('account', async () => {
  // The person's own page, from the header: their password and where they are signed in.
  await page.locator('header a.email').click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  const current = page.locator('table.sessions tbody tr', { hasText: 'this browser' });
  await current.waitFor();
  found.accountSessions = await page.locator('table.sessions tbody tr').count();
  found.currentSessionSignOut = await current.getByRole('button').count();
  // New passwords that differ are caught before asking the API (no attempt is counted).
  await page.getByLabel('Current password').fill('not the password');
  await page.getByLabel('New password', { exact: true }).fill('a long enough password');
  await page.getByLabel('Repeat the new password').fill('another long password');
  await page.getByRole('button', { name: 'Change password' }).click();
  found.passwordMismatch = await page.locator('form.password .form-error').textContent();
  await shot('account');
});

await step('audit-log', async () => {
  // The invitation above is in the organization's audit log, found with the event filter.
  await page.goto(`${base}#/settings/${found.org}/audit-log/`);
  await page.locator('table.audit tbody tr, .empty').first().waitFor();
  await shot('settings-audit-log');
  await page.getByLabel('Event', { exact: true }).selectOption('member.invite');
  // Waits for the filtered page: every row is of that event.
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('table.audit td.event')];
    return cells.length > 0 && cells.every((c) => c.textContent === 'member.invite');
  });
  const invitee = `web-${tag}@example.test`;
  found.auditInvite = await page.locator('table.audit tbody tr', { hasText: invitee }).first().textContent();
});

await step('phone', async () => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await phone.addCookies(await context.cookies());
  const p = await phone.newPage();
  await p.goto(streamQuery(`"${tag}"`));
  await p.locator('ol.issues li').first().waitFor();
  // How far the widest visible element reaches past the screen's right edge.
  found.phoneOverflow = await p.evaluate(() =>
    Math.max(
      document.documentElement.scrollWidth - window.innerWidth,
      ...[...document.querySelectorAll('header *, main *')]
        .filter((e) => e.getClientRects().length > 0 && !e.closest('.issue-title, .culprit, .short-id'))
        .map((e) => Math.round(e.getBoundingClientRect().right - window.innerWidth)),
    ),
  );
  await shot('stream-phone', p);
  await phone.close();
});

await step('sign-out', async () => {
  // The header's button (the account page has others that sign out other browsers).
  await page.locator('header').getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
});

found.xss = await page.evaluate(() => window.__xss ?? null);
console.log(JSON.stringify(found));
await browser.close();
