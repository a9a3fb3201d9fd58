// How fast the web app is on the local stack, in Debian's Chromium: a cold load of the issue
// stream (a new tab, signed in: navigation to the first issue row), and route changes
// (stream → issue page → back to the stream) inside the app. Prints p50/p95 of each.
//   node bench.mjs WEB_URL EMAIL PASSWORD [N=20]
import { launch, signIn } from './session.mjs';

const [web, email, password, n = '20'] = process.argv.slice(2);
const runs = Number(n);
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
const base = web.replace(/#.*$/, '');
await signIn(page, base, email, password);
const stream = page.url();

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const report = (name, xs) => console.log(`${name.padEnd(34)} p50 ${String(pct(xs, 50)).padStart(5)} ms   p95 ${String(pct(xs, 95)).padStart(5)} ms   (n=${xs.length})`);

const cold = [];
for (let i = 0; i < runs; i++) {
  const tab = await context.newPage();
  const t0 = Date.now();
  await tab.goto(stream);
  await tab.locator('ol.issues li, .empty').first().waitFor();
  cold.push(Date.now() - t0);
  await tab.close();
}

await context.addInitScript(() => {
  // Milliseconds from `act()` to the first animation frame where `selector` is on the page.
  window.timeTo = (act, selector) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      act();
      const check = () => (document.querySelector(selector) ? resolve(Math.round(performance.now() - t0)) : requestAnimationFrame(check));
      requestAnimationFrame(check);
    });
});
const toIssue = [];
const back = [];
await page.goto(stream);
await page.reload();
for (let i = 0; i < runs; i++) {
  await page.locator('ol.issues .issue-title').first().waitFor();
  // Timed inside the page: the click, to the frame that shows the target.
  toIssue.push(await page.evaluate(() => timeTo(() => document.querySelector('ol.issues .issue-title').click(), '.issue-page h1')));
  back.push(await page.evaluate(() => timeTo(() => history.back(), 'ol.issues .issue-title')));
}
report('stream, cold load (new tab)', cold);
report('stream → issue page (title shown)', toIssue);
report('issue page → stream (back)', back);
await browser.close();
