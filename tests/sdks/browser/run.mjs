// Runs @sentry/browser in Debian's Chromium against a DSN: bundles app.js (esbuild), serves it
// with index.html under /TAG/ from 127.0.0.1 on a random port, loads the page headless, clicks
// its three actions (an uncaught error, a captureException, a captureMessage), waits for
// Sentry.flush and prints the sent event ids.
//   node run.mjs DSN TAG
// Exits non-zero on any page error but the intended one, on a request to the DSN's host that
// fails (a CORS refusal included) or is answered with other than 2xx (the report shows status,
// X-Sentry-Error and the request's headers), or on timeout.
// The script's URL (so every stack frame's filename) carries the tag: grouping uses in-app
// frames, so events of one run never group with another run's, the message included.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT_MS = 60_000;
const args = process.argv.slice(2);
const [dsn, tag] = args;
if (!dsn || !tag) {
  console.error('usage: node run.mjs DSN TAG');
  process.exit(64);
}
const ingestOrigin = new URL(dsn).origin;

const problems = [];
let server;
let context;
let userDataDir;

async function finish(code) {
  await context?.close().catch(() => {});
  server?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  process.exit(code);
}

const timer = setTimeout(() => {
  console.error(`timed out after ${TIMEOUT_MS / 1000}s`);
  for (const p of problems) console.error(p);
  finish(2);
}, TIMEOUT_MS);

// What Chromium's network layer saw of every request, by CDP request id: unlike the page (and
// the SDK), it sees ingest's status and headers even when CORS keeps them from the page.
const network = new Map();
const seen = (id) => network.get(id) || network.set(id, {}).get(id);

function ingestRequests() {
  return [...network.values()].filter((r) => r.url?.startsWith(ingestOrigin) && r.method !== 'OPTIONS');
}

function describe(r) {
  const lower = Object.fromEntries(Object.entries(r.responseHeaders || {}).map(([k, v]) => [k.toLowerCase(), v]));
  return (
    `${r.method} ${r.url}\n` +
    `  status: ${r.status ?? 'none'}; browser error: ${r.failure ? `${r.failure}${r.cors ? ` (CORS ${r.cors})` : ''}` : 'none'}\n` +
    `  X-Sentry-Error: ${lower['x-sentry-error'] ?? 'none'}\n` +
    `  request headers: ${JSON.stringify(r.requestHeaders || {})}\n` +
    `  response headers: ${JSON.stringify(r.responseHeaders || {})}`
  );
}

try {
  const bundle = await build({
    entryPoints: [join(HERE, 'app.js')],
    bundle: true,
    format: 'iife',
    target: 'chrome100',
    write: false,
    logLevel: 'error',
  });
  const base = `/${encodeURIComponent(tag)}/`;
  const files = {
    [base]: { type: 'text/html; charset=utf-8', body: readFileSync(join(HERE, 'index.html')) },
    [`${base}app.js`]: { type: 'text/javascript; charset=utf-8', body: Buffer.from(bundle.outputFiles[0].contents) },
  };
  server = http.createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    res.writeHead(file ? 200 : 404, { 'Content-Type': file ? file.type : 'text/plain' });
    res.end(file ? file.body : 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pageUrl = `http://127.0.0.1:${server.address().port}${base}?${new URLSearchParams({ dsn, tag })}`;

  userDataDir = mkdtempSync(join(tmpdir(), 'errata-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] || (await context.newPage());

  const cdp = await context.newCDPSession(page);
  cdp.on('Network.requestWillBeSent', ({ requestId, request }) => {
    Object.assign(seen(requestId), { method: request.method, url: request.url });
    seen(requestId).requestHeaders ??= request.headers;
  });
  cdp.on('Network.requestWillBeSentExtraInfo', ({ requestId, headers }) => {
    seen(requestId).requestHeaders = headers; // what went on the wire, Origin included
  });
  cdp.on('Network.responseReceivedExtraInfo', ({ requestId, statusCode, headers }) => {
    Object.assign(seen(requestId), { status: statusCode, responseHeaders: headers });
  });
  cdp.on('Network.loadingFailed', ({ requestId, errorText, corsErrorStatus }) => {
    Object.assign(seen(requestId), { failure: errorText, cors: corsErrorStatus?.corsError });
  });
  await cdp.send('Network.enable');

  const intended = `BrowserUncaughtError${tag}: checkout click failed for ${tag}`;
  let uncaughtSeen;
  const uncaught = new Promise((resolve) => { uncaughtSeen = resolve; });
  page.on('pageerror', (error) => {
    const text = `${error.name}: ${error.message}`;
    if (text === intended) uncaughtSeen();
    else problems.push(`page error: ${text}\n${error.stack || ''}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().includes(intended)) console.error(`console.error: ${msg.text()}`);
  });

  await page.goto(pageUrl, { waitUntil: 'load' });
  await page.waitForFunction(() => window.errata !== undefined);
  await page.click('#crash');
  await uncaught;
  await page.click('#capture');
  await page.click('#message');
  // The uncaught error reaches the SDK through its wrapped event listener; `afterSendEvent`
  // fires once an event's request is answered (or failed).
  const sent = await page.evaluate(async () => {
    for (let i = 0; i < 50 && window.errata.sent.length < 3; i++) {
      await window.errata.flush(10_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    return window.errata.sent;
  });
  // Every request is answered or failed in the page by now; let the CDP events catch up.
  for (let i = 0; i < 40 && ingestRequests().some((r) => r.status === undefined && !r.failure); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }

  for (const r of ingestRequests()) {
    const ok = r.status >= 200 && r.status <= 299;
    if (!ok || r.failure) problems.push(`request to ingest not accepted: ${describe(r)}`);
  }
  if (ingestRequests().length < 3) problems.push(`expected at least 3 requests to ${ingestOrigin}, saw ${ingestRequests().length}`);
  for (const event of sent) {
    const ok = event.status >= 200 && event.status <= 299;
    if (!ok) {
      problems.push(`event ${event.id} (${event.type}) was not accepted: status ${event.status}`);
    }
  }
  if (sent.length !== 3) problems.push(`expected 3 sent events, got ${JSON.stringify(sent)}`);
  clearTimeout(timer);
  if (problems.length) {
    for (const p of problems) console.error(p);
    await finish(1);
  }
  for (const event of sent) console.log(event.id);
  await finish(0);
} catch (e) {
  clearTimeout(timer);
  console.error(e);
  for (const p of problems) console.error(p);
  await finish(1);
}
