// What a web page does with @sentry/browser: an uncaught error in a click handler, a
// captureException and a captureMessage. run.mjs bundles this into an IIFE and loads it as
// index.html?dsn=DSN&tag=TAG; the page exposes `window.errata` for run.mjs to drive and check.
import * as Sentry from '@sentry/browser';

const params = new URLSearchParams(window.location.search);
const dsn = params.get('dsn');
const tag = params.get('tag');

Sentry.init({ dsn, release: `browser-app@${tag}`, environment: 'e2e' });

// Every event the SDK sent, with the status ingest answered (undefined: the request failed).
const sent = [];
Sentry.getClient().on('afterSendEvent', (event, response) => {
  sent.push({ id: event.event_id, type: event.type || 'error', status: response.statusCode });
});

// The errors' names carry the tag, so runs do not group with each other.
class BrowserCaptureError extends Error {
  constructor(message) {
    super(message);
    this.name = `BrowserCaptureError${tag}`;
  }
}

class BrowserUncaughtError extends Error {
  constructor(message) {
    super(message);
    this.name = `BrowserUncaughtError${tag}`;
  }
}

function parseCart(raw) {
  if (!raw) throw new BrowserCaptureError(`cart parse failed for ${tag}`);
  return raw;
}

function submitCheckout() {
  throw new BrowserUncaughtError(`checkout click failed for ${tag}`);
}

const ids = {};
document.getElementById('crash').addEventListener('click', () => {
  submitCheckout();
});
document.getElementById('capture').addEventListener('click', () => {
  try {
    parseCart('');
  } catch (e) {
    ids.captured = Sentry.captureException(e);
  }
});
document.getElementById('message').addEventListener('click', () => {
  ids.message = Sentry.captureMessage(`browser message ${tag}`, 'warning');
});

window.errata = {
  tag,
  ids,
  sent,
  flush: (timeout) => Sentry.flush(timeout),
};
