// The CDK app. Context (-c key=value):
//   lambdaDir  directory with errata-<fn>/bootstrap[.zip] per function, as cargo lambda writes
//              them (default: $CARGO_TARGET_DIR/lambda, else <repo>/target/lambda)
//   arch       arm64 (default, AWS) or x86_64 (a local emulator on an x86 host)
//   sender     SES sender address;  webUrl  where the web app is served
//   publicUrl  base URL of ingest for DSNs (default: the HTTP API endpoint)
//   alarmEmail where alarms are e-mailed (DLQ depth, function errors)
//   stackName  default "errata"
import * as path from 'node:path';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ErrataStack } from '../lib/errata-stack.js';

const app = new App();
const ctx = (k: string) => app.node.tryGetContext(k) as string | undefined;
const arch = ctx('arch') ?? 'arm64';
if (arch !== 'arm64' && arch !== 'x86_64') throw new Error(`arch must be arm64 or x86_64, not ${arch}`);

new ErrataStack(app, ctx('stackName') ?? 'errata', {
  lambdaDir: path.resolve(
    ctx('lambdaDir') ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(import.meta.dirname, '../../../target'), 'lambda'),
  ),
  architecture: arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
  senderEmail: ctx('sender'),
  webUrl: ctx('webUrl'),
  publicUrl: ctx('publicUrl'),
  alarmEmail: ctx('alarmEmail'),
  retentionDays: ctx('retentionDays') ? Number(ctx('retentionDays')) : undefined,
  dataRemovalPolicy: ctx('destroyData') === 'true' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
