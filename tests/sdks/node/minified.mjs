// Runs a minified module under @sentry/node and reports what it throws, as a Node app whose
// build output was processed with `sentry-cli sourcemaps inject` does.
//   node minified.mjs DSN TAG /abs/path/to/bundle.mjs
import * as Sentry from '@sentry/node';

const [dsn, tag, bundle] = process.argv.slice(2);
Sentry.init({ dsn, release: `node-minified@${tag}`, environment: 'e2e' });

const app = await import(bundle);
let id;
try {
  app.checkout({ items: [{ sku: 'a', cents: 100 }, { cents: 5 }] });
} catch (e) {
  id = Sentry.captureException(e);
}
await Sentry.flush(10000);
console.log(id);
