// The CDK app: `make up` deploys it to the local emulator, `cdk deploy` to AWS (docs/deploy.md).
// Context (-c key=value), all optional:
//   lambdaDir       directory with errata-<fn>/bootstrap[.zip] per function, as cargo lambda writes
//                   them (default: $CARGO_TARGET_DIR/lambda, else <repo>/target/lambda)
//   arch            arm64 (default, AWS) or x86_64 (a local emulator on an x86 host)
//   stackName       default "errata"
//   sender          SES sender address (AWS e-mails it a verification link)
//   domainName, certificateArn   a custom domain for the web app (ACM certificate in us-east-1)
//   webDir          the built web app to deploy (default <repo>/web/dist when built);
//                   deployWeb=false skips it (the local emulator gets the app from localstack/stack.py)
//   cdn             false: no CloudFront distribution
//   webOrg, webProject   what the web app opens first
//   webUrl          where the web app is served (default: the distribution's URL)
//   publicUrl       base URL of ingest for DSNs, a custom domain on the HTTP API (default: ingest's function URL)
//   alarmEmail      where alarms are e-mailed (DLQ depth, function errors)
//   retentionDays   days events are kept (default 90);  destroyData=true  delete data with the stack
//   apiRateLimit, apiBurstLimit   HTTP API throttling (default 1000/s, burst 2000)
//   maxReceiveCount receives before a message goes to its DLQ (default 5)
//   logClass        STANDARD or INFREQUENT_ACCESS (default: half the price, no Live Tail)
//   athenaBytesScannedCutoff   bytes one Athena query may scan (default 10 GiB = 10737418240)
//   webhookAllowHttp        true: alert webhooks may use plain http (default false: https only)
//   webhookAllowedNetworks  comma-separated CIDRs webhooks may reach although loopback or private
//                           (default none; link-local, 169.254.169.254 included, is always refused)
//   <fn>Memory, <fn>ReservedConcurrency   per function, e.g. processorMemory=1024; reserved
//                   concurrency defaults to ingest 100, processor 20, symbolicator 5, api 20,
//                   notifier 5; 0 = no reservation (accounts with a low concurrency limit)
//   processorMaxConcurrency, largeEnvelopeMaxConcurrency   processors the envelopes and
//                   large-envelopes queues may start at once (default 15 and 3, 2 to 1000;
//                   together within processorReservedConcurrency)
//   defaultKeyRateLimit, defaultProjectQuota   limits new DSN keys and projects get, as
//                   count/seconds (default 1000/60 and 1000000/86400); empty for none
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { FUNCTIONS, FunctionName, FunctionSettings } from '../lib/errata.js';
import { ErrataStack } from '../lib/errata-stack.js';

const app = new App();
const ctx = (k: string) => app.node.tryGetContext(k) as string | undefined;
const num = (k: string) => (ctx(k) === undefined ? undefined : Number(ctx(k)));
const arch = ctx('arch') ?? 'arm64';
if (arch !== 'arm64' && arch !== 'x86_64') throw new Error(`arch must be arm64 or x86_64, not ${arch}`);
const repo = path.join(import.meta.dirname, '../../..');
const builtWeb = path.join(repo, 'web', 'dist');
const webDir = ctx('deployWeb') === 'false' ? undefined : (ctx('webDir') ?? (fs.existsSync(path.join(builtWeb, 'index.html')) ? builtWeb : undefined));
const functions: Partial<Record<FunctionName, FunctionSettings>> = {};
for (const fn of FUNCTIONS) {
  const memorySize = num(`${fn}Memory`);
  const reservedConcurrency = num(`${fn}ReservedConcurrency`);
  if (memorySize !== undefined || reservedConcurrency !== undefined) functions[fn] = { memorySize, reservedConcurrency };
}
const bool = (k: string) => {
  if (ctx(k) === undefined) return undefined;
  const v = String(ctx(k)); // `-c k=true` gives a string, cdk.json may give a boolean
  if (v !== 'true' && v !== 'false') throw new Error(`${k} must be true or false, not ${v}`);
  return v === 'true';
};
const list = (k: string) => ctx(k)?.split(',').map((s) => s.trim()).filter((s) => s !== '');
const rate = num('apiRateLimit');
const burst = num('apiBurstLimit');

new ErrataStack(app, ctx('stackName') ?? 'errata', {
  lambdaDir: path.resolve(ctx('lambdaDir') ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(repo, 'target'), 'lambda')),
  architecture: arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
  functions,
  senderEmail: ctx('sender'),
  cdn: ctx('cdn') !== 'false',
  domainName: ctx('domainName'),
  certificateArn: ctx('certificateArn'),
  webAssetsDir: webDir,
  webDefaults: { org: ctx('webOrg'), project: ctx('webProject') },
  webUrl: ctx('webUrl'),
  publicUrl: ctx('publicUrl'),
  alarmEmail: ctx('alarmEmail'),
  retentionDays: num('retentionDays'),
  apiThrottle: rate !== undefined || burst !== undefined ? { rateLimit: rate ?? 1000, burstLimit: burst ?? 2000 } : undefined,
  maxReceiveCount: num('maxReceiveCount'),
  processorMaxConcurrency: num('processorMaxConcurrency'),
  largeEnvelopeMaxConcurrency: num('largeEnvelopeMaxConcurrency'),
  // `-c defaultKeyRateLimit=` (empty) means no limit, so '' is passed on as it is.
  defaultKeyRateLimit: ctx('defaultKeyRateLimit'),
  defaultProjectQuota: ctx('defaultProjectQuota'),
  logClass: ctx('logClass') as logs.LogGroupClass | undefined,
  dataRemovalPolicy: ctx('destroyData') === 'true' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  athenaBytesScannedCutoff: num('athenaBytesScannedCutoff'),
  webhookAllowHttp: bool('webhookAllowHttp'),
  webhookAllowedNetworks: list('webhookAllowedNetworks'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
