// What a Node app does with @sentry/node, run against a DSN: errors, a message,
// a transaction, a cron check-in, user feedback (and the session the SDK sends itself).
//   node app.mjs DSN TAG
import * as Sentry from '@sentry/node';

const [dsn, tag] = process.argv.slice(2);
Sentry.init({ dsn, release: `node-app@${tag}`, environment: 'e2e', tracesSampleRate: 1.0 });

// The error's name carries the tag, so runs do not group with each other.
class NodeCaptureError extends Error {
  constructor(message) {
    super(message);
    this.name = `NodeCaptureError${tag}`;
  }
}

function parseOrder(raw) {
  if (!raw) throw new NodeCaptureError(`order parse failed for ${tag}`);
  return raw;
}

let errorId;
try {
  parseOrder('');
} catch (e) {
  errorId = Sentry.captureException(e);
}
Sentry.captureMessage(`node message ${tag}`, 'warning');
Sentry.startSpan({ name: `node-checkout-${tag}`, op: 'task' }, () => {
  Sentry.startSpan({ name: 'select 1', op: 'db' }, () => {});
});
Sentry.captureCheckIn({ monitorSlug: `node-nightly-${tag}`, status: 'ok' });
Sentry.captureFeedback({ message: 'It broke', name: 'Ann', email: 'ann@example.com', associatedEventId: errorId });
await Sentry.flush(10000);
console.log(errorId);
