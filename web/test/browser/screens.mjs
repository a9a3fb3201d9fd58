// Screenshots of the main pages for the README (docs/screens/): the issue stream, an issue,
// project keys, alert rules, releases, and the stream on a phone.
//   node screens.mjs WEB_URL EMAIL PASSWORD OUT_DIR [QUERY]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, signIn } from './session.mjs';

const [web, email, password, out, query = 'is:unresolved release:shop@1.5.0'] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
const base = web.replace(/#.*$/, '');
const org = await signIn(page, base, email, password);
const project = process.env.ERRATA_PROJECT || 'demo';
const stream = `${base}#/organizations/${org}/issues/?project=${project}&query=${encodeURIComponent(query)}`;
const shot = (name, p = page) => p.screenshot({ path: join(out, `${name}.png`) });

await page.goto(stream);
await page.locator('ol.issues svg.sparkline polyline').first().waitFor();
await shot('stream');
await page.locator('ol.issues .issue-title', { hasText: process.env.ISSUE_TEXT || 'PaymentDeclined' }).first().click();
await page.locator('ol.frames').first().waitFor();
await page.locator('.tag-dist').first().waitFor();
await page.locator('.bar-chart rect[height]:not([height="0"])').first().waitFor();
await shot('issue');
await page.goto(`${base}#/settings/${org}/projects/${project}/keys/`);
await page.locator('code.dsn').first().waitFor();
await shot('settings-keys');
await page.goto(`${base}#/settings/${org}/projects/${project}/alerts/`);
await page.locator('ul.rules li').first().waitFor();
await shot('settings-alerts');
await page.goto(`${base}#/organizations/${org}/releases/?project=${project}`);
await page.locator('table.table tbody tr').first().waitFor();
await shot('releases');
const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
await phone.addCookies(await context.cookies());
const p = await phone.newPage();
await p.goto(stream);
await p.locator('ol.issues li').first().waitFor();
await shot('stream-phone', p);
await browser.close();
console.log(`ok: screenshots in ${out}`);
