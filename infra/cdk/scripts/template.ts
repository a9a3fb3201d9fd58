// Prints the stack's CloudFormation template, synthesized with placeholder Lambda code and web
// app, for the template linters (`scripts/test.sh infra` runs cfn-lint and checkov on it).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ErrataStack } from '../lib/errata-stack.js';
import { FUNCTIONS } from '../lib/errata.js';

const lambdaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'errata-template-'));
for (const fn of FUNCTIONS) {
  fs.mkdirSync(path.join(lambdaDir, `errata-${fn}`));
  fs.writeFileSync(path.join(lambdaDir, `errata-${fn}`, 'bootstrap'), `#!/bin/sh\necho ${fn}\n`);
}
const webAssetsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'errata-template-web-'));
fs.writeFileSync(path.join(webAssetsDir, 'index.html'), '<!doctype html>');
const app = new App();
const stack = new ErrataStack(app, 'errata', {
  lambdaDir,
  architecture: lambda.Architecture.ARM_64,
  senderEmail: 'alerts@example.org',
  webAssetsDir,
  env: { account: '123456789012', region: 'eu-west-1' },
});
process.stdout.write(JSON.stringify(Template.fromStack(stack).toJSON(), null, 1));
