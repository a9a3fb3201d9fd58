// Synth tests: the properties of the stack that matter for correctness, cost and security.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ErrataStack } from '../lib/errata-stack.js';
import { ErrataProps, FUNCTIONS, INGEST_ENDPOINTS } from '../lib/errata.js';

function synth(architecture = lambda.Architecture.ARM_64, extra: Partial<ErrataProps> = {}): Template {
  const lambdaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'errata-synth-'));
  for (const fn of FUNCTIONS) {
    fs.mkdirSync(path.join(lambdaDir, `errata-${fn}`));
    fs.writeFileSync(path.join(lambdaDir, `errata-${fn}`, 'bootstrap'), `#!/bin/sh\necho ${fn}\n`);
  }
  const app = new App();
  const stack = new ErrataStack(app, 'test', { lambdaDir, architecture, senderEmail: 'alerts@example.org', ...extra });
  return Template.fromStack(stack);
}

const template = synth();
const resources = (type: string) => template.findResources(type);

test('five provided.al2023 functions on the requested architecture', () => {
  const fns = Object.values(resources('AWS::Lambda::Function'));
  assert.equal(fns.length, 5);
  for (const fn of fns) {
    assert.equal(fn.Properties.Runtime, 'provided.al2023');
    assert.equal(fn.Properties.Handler, 'bootstrap');
    assert.deepEqual(fn.Properties.Architectures, ['arm64']);
  }
  const x86 = Object.values(synth(lambda.Architecture.X86_64).findResources('AWS::Lambda::Function'));
  assert.ok(x86.every((fn) => fn.Properties.Architectures[0] === 'x86_64'));
});

test('every queue has a DLQ and consumers report batch item failures', () => {
  const queues = Object.values(resources('AWS::SQS::Queue'));
  const withDlq = queues.filter((q) => q.Properties.RedrivePolicy);
  assert.equal(withDlq.length, 4, 'envelopes, large envelopes, symbolication, notifications');
  for (const q of withDlq) assert.equal(q.Properties.RedrivePolicy.maxReceiveCount, 5);
  assert.equal(queues.length, 8);
  for (const q of queues) assert.equal(q.Properties.SqsManagedSseEnabled, true);
  const mappings = Object.values(resources('AWS::Lambda::EventSourceMapping'));
  assert.equal(mappings.length, 4);
  for (const m of mappings) assert.deepEqual(m.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
});

test('the Glue table has the columns the processor writes, partitioned by project and day with projection', () => {
  const table = Object.values(template.findResources('AWS::Glue::Table'))[0] as any;
  const input = table.Properties.TableInput;
  const columns = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../../shared/rows/columns.json'), 'utf8'));
  assert.deepEqual(input.StorageDescriptor.Columns, columns.map((c: any) => ({ Name: c.name, Type: c.type })));
  assert.deepEqual(input.PartitionKeys.map((k: any) => k.Name), ['project_id', 'dt']);
  assert.equal(input.Parameters['projection.enabled'], 'true');
});

test('an hourly schedule asks the processor to compact the event store', () => {
  const rules = Object.values(template.findResources('AWS::Events::Rule')) as any[];
  assert.equal(rules.length, 1);
  assert.equal(rules[0].Properties.ScheduleExpression, 'rate(1 hour)');
  assert.deepEqual(JSON.parse(rules[0].Properties.Targets[0].Input), { compact: {} });
});

test('HTTP API routes the Sentry ingest endpoints with trailing slash, and /api/0/ to the api', () => {
  const keys = Object.values(resources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey).sort();
  const expected = [...INGEST_ENDPOINTS.map((e) => `POST /api/{project_id}/${e}/`), 'ANY /api/0/{proxy+}'].sort();
  assert.deepEqual(keys, expected);
  template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
    ProtocolType: 'HTTP',
    CorsConfiguration: Match.objectLike({ AllowHeaders: Match.arrayWith(['x-sentry-auth', 'content-encoding']), ExposeHeaders: Match.arrayWith(['x-sentry-error', 'retry-after']) }),
  });
});

test('DSNs point at ingest\'s function URL (no request charge), open to SDKs, answering CORS; a custom domain replaces it', () => {
  const urls = Object.values(resources('AWS::Lambda::Url'));
  assert.equal(urls.length, 1);
  const [url] = urls;
  assert.equal(url.Properties.AuthType, 'NONE');
  assert.deepEqual(url.Properties.TargetFunctionArn, { 'Fn::GetAtt': [Object.keys(resources('AWS::Lambda::Function')).find((id) => id.startsWith('ErrataIngestFunction')), 'Arn'] });
  assert.ok(url.Properties.Cors.AllowHeaders.includes('x-sentry-auth') && url.Properties.Cors.ExposeHeaders.includes('retry-after'));
  template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' });
  const dsn = JSON.stringify(template.toJSON().Outputs.DsnBaseUrl.Value);
  assert.ok(dsn.includes('FunctionUrl'), dsn);
  const api = Object.values(resources('AWS::Lambda::Function')).find((f) => f.Properties.Description?.startsWith('Errata api'))!;
  assert.ok(JSON.stringify(api.Properties.Environment.Variables.DSN_URL).includes('FunctionUrl'));
  const custom = synth(lambda.Architecture.ARM_64, { publicUrl: 'https://errors.example.org' });
  assert.equal(custom.toJSON().Outputs.DsnBaseUrl.Value, 'https://errors.example.org');
});

test('function logs: infrequent access (half the ingestion price) unless asked otherwise', () => {
  const classes = (t: Template) => Object.entries(t.findResources('AWS::Logs::LogGroup'))
    .filter(([id]) => /^Errata(ingest|processor|symbolicator|api|notifier)Logs/.test(id))
    .map(([, r]) => r.Properties.LogGroupClass);
  assert.deepEqual(classes(template), Array(5).fill('INFREQUENT_ACCESS'));
  assert.deepEqual(classes(synth(lambda.Architecture.ARM_64, { logClass: logs.LogGroupClass.STANDARD })), Array(5).fill('STANDARD'));
});

test('tables: on-demand, encrypted, point-in-time recovery, the indexes the code queries', () => {
  const tables = Object.values(resources('AWS::DynamoDB::Table'));
  assert.equal(tables.length, 4);
  for (const t of tables) {
    assert.equal(t.Properties.BillingMode, 'PAY_PER_REQUEST');
    assert.equal(t.Properties.SSESpecification.SSEEnabled, true);
    assert.equal(t.Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, true);
  }
  const indexes = tables.flatMap((t) => (t.Properties.GlobalSecondaryIndexes ?? []).map((i: { IndexName: string }) => i.IndexName)).sort();
  assert.deepEqual(indexes, ['by-first-seen', 'by-id', 'by-issue', 'by-last-seen']);
  // Every counted event rewrites an issue: its indexes hold keys only.
  const projections = Object.fromEntries(tables.flatMap((t) => (t.Properties.GlobalSecondaryIndexes ?? [])
    .map((i: { IndexName: string; Projection: { ProjectionType: string } }) => [i.IndexName, i.Projection.ProjectionType])));
  assert.deepEqual(projections, { 'by-id': 'KEYS_ONLY', 'by-first-seen': 'KEYS_ONLY', 'by-last-seen': 'KEYS_ONLY', 'by-issue': 'ALL' });
  assert.equal(tables.filter((t) => t.Properties.TimeToLiveSpecification?.AttributeName === 'expires_at').length, 3, 'events, quotas, sessions and invitations expire');
});

test('buckets: private, encrypted, TLS only, access-logged; uploads and the app versioned', () => {
  const buckets = resources('AWS::S3::Bucket');
  assert.equal(Object.keys(buckets).length, 5);
  for (const b of Object.values(buckets)) {
    assert.deepEqual(b.Properties.PublicAccessBlockConfiguration, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    assert.ok(b.Properties.BucketEncryption);
  }
  const [logsId] = Object.keys(buckets).filter((id) => id.startsWith('ErrataAccessLogs'));
  for (const [id, b] of Object.entries(buckets)) {
    if (id === logsId) continue;
    assert.deepEqual(b.Properties.LoggingConfiguration.DestinationBucketName, { Ref: logsId }, id);
    const versioned = /WebApp|DebugFiles/.test(id);
    assert.equal(b.Properties.VersioningConfiguration?.Status === 'Enabled', versioned, id);
  }
  const policies = Object.values(resources('AWS::S3::BucketPolicy'));
  assert.equal(policies.length, 5);
  for (const p of policies) {
    assert.ok(p.Properties.PolicyDocument.Statement.some((s: { Effect: string; Condition?: { Bool?: Record<string, string> } }) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'));
  }
});

test('CloudFront serves the app from S3 through origin access control and /api/0/* from the API, uncached', () => {
  const [dist] = Object.values(resources('AWS::CloudFront::Distribution')) as any[];
  const config = dist.Properties.DistributionConfig;
  assert.equal(config.DefaultRootObject, 'index.html');
  assert.equal(config.DefaultCacheBehavior.ViewerProtocolPolicy, 'redirect-to-https');
  assert.ok(config.DefaultCacheBehavior.ResponseHeadersPolicyId, 'security headers');
  const s3Origin = config.Origins.find((o: any) => o.S3OriginConfig);
  assert.ok(s3Origin.OriginAccessControlId, 'origin access control, no public bucket');
  const [api] = config.CacheBehaviors;
  assert.equal(api.PathPattern, '/api/0/*');
  assert.deepEqual(api.AllowedMethods.sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
  assert.equal(api.CachePolicyId, '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', 'CachingDisabled');
  assert.equal(api.OriginRequestPolicyId, 'b689b0a8-53d0-40ab-baf2-68738e2966ac', 'AllViewerExceptHostHeader: cookies and queries reach the API');
  template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
  // Links in answers and e-mails point at the distribution; the outputs say where to go.
  const fns = resources('AWS::Lambda::Function');
  const apiFn = Object.entries(fns).find(([id]) => id.startsWith('ErrataApiFunction'))![1];
  assert.match(JSON.stringify(apiFn.Properties.Environment.Variables.WEB_URL), /DomainName/);
  const outputs = template.toJSON().Outputs;
  assert.ok(outputs.DsnBaseUrl && outputs.WebUrl && outputs.WebDistribution);
  // Without a CDN there is no distribution and no web URL unless given.
  const bare = synth(lambda.Architecture.ARM_64, { cdn: false });
  bare.resourceCountIs('AWS::CloudFront::Distribution', 0);
  assert.ok(!bare.toJSON().Outputs.WebUrl, 'no web URL to print');
});

test('a custom domain needs its certificate and gets TLS 1.2', () => {
  assert.throws(() => synth(lambda.Architecture.ARM_64, { domainName: 'errata.example.org' }), /certificateArn/);
  const t = synth(lambda.Architecture.ARM_64, { domainName: 'errata.example.org', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' });
  const [dist] = Object.values(t.findResources('AWS::CloudFront::Distribution')) as any[];
  assert.deepEqual(dist.Properties.DistributionConfig.Aliases, ['errata.example.org']);
  assert.equal(dist.Properties.DistributionConfig.ViewerCertificate.MinimumProtocolVersion, 'TLSv1.2_2021');
  assert.ok(!JSON.stringify(dist.Metadata).includes('CKV_AWS_174'), 'no TLS finding to skip');
});

test('the built web app is deployed with its config.json when given', () => {
  const webDir = fs.mkdtempSync(path.join(os.tmpdir(), 'errata-web-'));
  fs.writeFileSync(path.join(webDir, 'index.html'), '<!doctype html>');
  const t = synth(lambda.Architecture.ARM_64, { webAssetsDir: webDir, webDefaults: { org: 'acme' } });
  const [deployment] = Object.values(t.findResources('Custom::CDKBucketDeployment')) as any[];
  assert.equal(deployment.Properties.SourceObjectKeys.length, 2, 'the app and config.json');
  assert.deepEqual(deployment.Properties.DistributionPaths, ['/*']);
  template.resourceCountIs('Custom::CDKBucketDeployment', 0);
});

test('HTTP API: throttled, one JSON access-log line per request without query strings', () => {
  const [stage] = Object.values(resources('AWS::ApiGatewayV2::Stage')) as any[];
  assert.deepEqual(stage.Properties.DefaultRouteSettings, { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 });
  const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
  assert.equal(format.path, '$context.path');
  assert.ok(!JSON.stringify(format).includes('querystring'), 'DSN keys can ride in query strings');
  assert.ok(stage.Properties.AccessLogSettings.DestinationArn);
});

test('inputs: memory, reserved concurrency, queue visibility and receives, retention, throttling', () => {
  const t = synth(lambda.Architecture.ARM_64, {
    functions: { processor: { memorySize: 1024, reservedConcurrency: 20, timeout: Duration.seconds(60) } },
    queueVisibility: { notifications: Duration.seconds(90) },
    maxReceiveCount: 3,
    retentionDays: 30,
    apiThrottle: { rateLimit: 50, burstLimit: 100 },
  });
  const fns = t.findResources('AWS::Lambda::Function');
  const processor = Object.entries(fns).find(([id]) => id.startsWith('ErrataProcessorFunction'))![1];
  assert.equal(processor.Properties.MemorySize, 1024);
  assert.equal(processor.Properties.ReservedConcurrentExecutions, 20);
  assert.equal(processor.Properties.Environment.Variables.RETENTION_DAYS, '30');
  const queues = t.findResources('AWS::SQS::Queue');
  const byId = (prefix: string) => Object.entries(queues).find(([id]) => id.startsWith(prefix) && !id.includes('Dlq'))![1].Properties;
  assert.equal(byId('ErrataEnvelopes').VisibilityTimeout, 360, 'six times the processor\'s 60 s');
  assert.equal(byId('ErrataNotifications').VisibilityTimeout, 90);
  assert.equal(byId('ErrataEnvelopes').RedrivePolicy.maxReceiveCount, 3);
  const [stage] = Object.values(t.findResources('AWS::ApiGatewayV2::Stage')) as any[];
  assert.deepEqual(stage.Properties.DefaultRouteSettings, { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
  const events = Object.entries(t.findResources('AWS::S3::Bucket')).find(([id]) => id.startsWith('ErrataEventData'))![1];
  assert.equal(events.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays, 30);
});

test('every accepted checkov finding says why', () => {
  for (const [id, r] of Object.entries(template.toJSON().Resources) as [string, any][]) {
    for (const s of r.Metadata?.checkov?.skip ?? []) assert.ok(s.id && s.comment.length > 20, `${id} ${s.id}`);
  }
});

test('event store, Athena workgroup and SES identity exist', () => {
  template.resourceCountIs('AWS::Glue::Database', 1);
  template.hasResourceProperties('AWS::Glue::Table', {
    TableInput: Match.objectLike({ PartitionKeys: [{ Name: 'project_id', Type: 'bigint' }, { Name: 'dt', Type: 'string' }] }),
  });
  template.resourceCountIs('AWS::Athena::WorkGroup', 1);
  template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'alerts@example.org' });
});

/** The IAM policy statements of one function's role. */
function statementsOf(fn: string, t = template): any[] {
  const fns = t.findResources('AWS::Lambda::Function');
  const [, fnRes] = Object.entries(fns).find(([id]) => id.startsWith(`Errata${fn}Function`))!;
  const roleId = fnRes.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId));
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** One function's environment. */
function envOf(fn: string, t = template): Record<string, any> {
  const [, f] = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(`Errata${fn}Function`))!;
  return f.Properties.Environment.Variables;
}

/** A template value as text, each reference written `<logical id without its hash[.attribute]>`. */
function text(value: any): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(text).join(value['Fn::Join'][0]);
  const [id, attribute]: string[] = value.Ref ? [value.Ref] : value['Fn::GetAtt'];
  return `<${id.replace(/[0-9A-F]{8}$/, '')}${attribute ? `.${attribute}` : ''}>`;
}

/**
 * One function's S3 grants as `action bucket[/key pattern]` lines (`s3:GetObject
 * <ErrataEventData>/parquet/*`), a listing with the prefixes it is limited to.
 */
function s3GrantsOf(fn: string, t = template): string[] {
  return statementsOf(fn, t).flatMap((s) => [s.Action].flat().filter((a: string) => a.startsWith('s3:')).flatMap((a: string) =>
    [s.Resource].flat().map((r: any) => {
      const prefixes = s.Condition ? ` if s3:prefix like ${JSON.stringify(s.Condition.StringLike['s3:prefix'])}` : '';
      return `${a} ${text(r).replace(/\.Arn>/, '>')}${prefixes}`;
    }))).sort();
}

/** The IAM actions granted to one function's role. */
function actionsOf(fn: string): string[] {
  return statementsOf(fn).flatMap((s: { Action: string | string[] }) => [s.Action].flat());
}

test('least privilege: each function gets only what its code calls', () => {
  const ingest = actionsOf('Ingest');
  assert.ok(ingest.includes('sqs:SendMessage') && ingest.includes('dynamodb:UpdateItem'), 'queue + quota counters');
  assert.ok(!ingest.some((a) => /^dynamodb:(Put|Delete|BatchWrite)/.test(a)), 'ingest writes nothing but counters');
  assert.ok(!ingest.some((a) => a.startsWith('s3:GetObject')), 'ingest only writes raw payloads');
  const processor = actionsOf('Processor');
  assert.ok(processor.includes('dynamodb:PutItem') && processor.includes('dynamodb:UpdateItem') && processor.includes('sqs:ReceiveMessage'));
  assert.ok(!processor.some((a) => a.startsWith('ses:')));
  // It deletes only Parquet files, which compaction replaces.
  const deletes = statementsOf('Processor').filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:Delete')));
  assert.ok(deletes.length > 0);
  for (const s of deletes) assert.match(JSON.stringify(s.Resource), /\/parquet\/\*"/);
  const api = actionsOf('Api');
  assert.ok(api.includes('dynamodb:Query') && api.includes('dynamodb:GetItem'));
  assert.ok(api.includes('dynamodb:UpdateItem'), 'issue status changes');
  assert.ok(api.includes('dynamodb:PutItem') && api.includes('sqs:SendMessage'), 'accounts; invitation mail');
  assert.ok(api.includes('athena:StartQueryExecution') && api.includes('glue:GetTable'), 'stats over the event store');
  assert.ok(!api.some((a) => /^sqs:Receive/.test(a)));
  // It writes only query results and uploaded debug files, and deletes only debug files and
  // attachments (with their issue), never events' bodies or rows.
  const apiWrites = statementsOf('Api').filter((s) => [s.Action].flat().some((a: string) => /^s3:(Put|Delete)/.test(a)));
  assert.ok(apiWrites.length > 0);
  for (const s of apiWrites) assert.match(JSON.stringify(s.Resource), /\/(athena-results|attachments)\/\*"|ErrataDebugFiles/, 'only query results, attachments and debug files');
  // The symbolicator reads debug files and writes only SymCaches, and hands events back.
  const symbolicator = actionsOf('Symbolicator');
  assert.ok(symbolicator.includes('sqs:SendMessage') && symbolicator.includes('dynamodb:Query') && symbolicator.includes('s3:GetObject'));
  assert.ok(!symbolicator.some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)|^s3:Delete/.test(a)), `${symbolicator}`);
  for (const s of statementsOf('Symbolicator').filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:Put')))) {
    assert.match(JSON.stringify(s.Resource), /\/symcaches\/\*"/);
  }
  // The notifier consumes its queue, sends mail and counts it, nothing else.
  assert.ok(actionsOf('Notifier').every((a) => a.startsWith('sqs:') || a === 'ses:SendEmail' || a === 'dynamodb:PutItem' || a === 'dynamodb:UpdateItem'), `${actionsOf('Notifier')}`);
  assert.ok(actionsOf('Notifier').includes('ses:SendEmail'));
  for (const fn of ['Ingest', 'Processor', 'Symbolicator', 'Api', 'Notifier']) {
    assert.ok(!actionsOf(fn).some((a) => a === '*' || a.endsWith(':*')), `${fn} has no wildcard actions`);
  }
});

test('alarms: any message in a DLQ, any failed invocation, to one encrypted topic', () => {
  const alarms = Object.values(resources('AWS::CloudWatch::Alarm')) as { Properties: Record<string, unknown> }[];
  const byMetric = (name: string) => alarms.filter((a) => a.Properties.MetricName === name);
  assert.equal(byMetric('ApproximateNumberOfMessagesVisible').length, 4, 'one per dead-letter queue');
  assert.equal(byMetric('Errors').length, FUNCTIONS.length, 'one per function');
  const topics = Object.keys(resources('AWS::SNS::Topic'));
  assert.equal(topics.length, 1);
  for (const a of alarms) {
    assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topics[0] }]);
    assert.equal(a.Properties.Threshold, 1);
  }
  const topic = Object.values(resources('AWS::SNS::Topic'))[0] as { Properties: { KmsMasterKeyId?: unknown } };
  assert.ok(topic.Properties.KmsMasterKeyId, 'encrypted at rest');
  assert.equal(Object.keys(resources('AWS::SNS::Subscription')).length, 0, 'no e-mail unless asked');
});

test('S3 by key prefix: each function reads, writes, deletes and lists only the prefixes its code uses', () => {
  const raw = '<ErrataRawPayloads>';
  const ev = '<ErrataEventData>';
  const dbg = '<ErrataDebugFiles>';
  assert.deepEqual(s3GrantsOf('Ingest'), [`s3:PutObject ${raw}/envelopes/*`]);
  assert.deepEqual(s3GrantsOf('Processor'), [
    `s3:DeleteObject ${ev}/attachments/*`,
    `s3:DeleteObject ${ev}/parquet/*`,
    `s3:GetObject ${ev}/attachments/*`,
    `s3:GetObject ${ev}/parquet/*`,
    `s3:GetObject ${raw}/envelopes/*`,
    `s3:ListBucket ${ev} if s3:prefix like ["parquet/*","attachments/*"]`,
    `s3:ListBucket ${raw} if s3:prefix like ["envelopes/*"]`,
    `s3:PutObject ${ev}/attachments/*`,
    `s3:PutObject ${ev}/bodies/*`,
    `s3:PutObject ${ev}/parquet/*`,
  ]);
  assert.deepEqual(s3GrantsOf('Symbolicator'), [
    `s3:GetObject ${dbg}/artifacts/*`,
    `s3:GetObject ${dbg}/difs/*`,
    `s3:GetObject ${dbg}/symcaches/*`,
    `s3:GetObject ${ev}/attachments/*`,
    `s3:ListBucket ${dbg} if s3:prefix like ["difs/*","artifacts/*","symcaches/*"]`,
    `s3:ListBucket ${ev} if s3:prefix like ["attachments/*"]`,
    `s3:PutObject ${dbg}/symcaches/*`,
  ]);
  // Athena reads the Parquet files and writes its results with the API's credentials.
  assert.deepEqual(s3GrantsOf('Api'), [
    `s3:AbortMultipartUpload ${ev}/athena-results/*`,
    `s3:DeleteObject ${dbg}/artifacts/*`,
    `s3:DeleteObject ${dbg}/difs/*`,
    `s3:DeleteObject ${ev}/attachments/*`,
    `s3:GetBucketLocation ${ev}`,
    `s3:GetObject ${dbg}/chunks/*`,
    `s3:GetObject ${ev}/athena-results/*`,
    `s3:GetObject ${ev}/attachments/*`,
    `s3:GetObject ${ev}/bodies/*`,
    `s3:GetObject ${ev}/parquet/*`,
    `s3:ListBucket ${dbg} if s3:prefix like ["chunks/*"]`,
    `s3:ListBucket ${ev} if s3:prefix like ["bodies/*","attachments/*","parquet/*","athena-results/*"]`,
    `s3:ListBucketMultipartUploads ${ev}`,
    `s3:ListMultipartUploadParts ${ev}/athena-results/*`,
    `s3:PutObject ${dbg}/artifacts/*`,
    `s3:PutObject ${dbg}/chunks/*`,
    `s3:PutObject ${dbg}/difs/*`,
    `s3:PutObject ${ev}/athena-results/*`,
  ]);
  assert.deepEqual(s3GrantsOf('Notifier'), []);
  // Every listing is limited to prefixes the function also reads (a miss is then a 404).
  for (const fn of ['Processor', 'Symbolicator', 'Api']) {
    for (const s of statementsOf(fn).filter((s) => s.Action === 's3:ListBucket')) {
      assert.ok(s.Condition?.StringLike?.['s3:prefix']?.length > 0, `${fn} lists only under prefixes`);
    }
  }
});

test('deleting an issue: the API deletes its items, marks it for purging and takes its events off it, from the tables only', () => {
  const writes = statementsOf('Api').filter((s) => [s.Action].flat().some((a: string) => /^dynamodb:(DeleteItem|BatchWriteItem|PutItem|UpdateItem)$/.test(a)));
  const on = (table: string) => writes.filter((s) => [s.Resource].flat().map(text).join() === `<${table}.Arn>`).flatMap((s) => [s.Action].flat()).sort();
  // Purged events' index entries stay (for deduplication), off their issue: updates, no deletes.
  assert.deepEqual(on('ErrataEvents'), ['dynamodb:UpdateItem']);
  assert.deepEqual(on('ErrataIssues'), ['dynamodb:DeleteItem', 'dynamodb:PutItem']);
  // Deletes and purge writes never name an index.
  const deletes = writes.filter((s) => [s.Action].flat().some((a: string) => /^dynamodb:(DeleteItem|BatchWriteItem|PutItem)$/.test(a)));
  for (const s of deletes) assert.doesNotMatch([s.Resource].flat().map(text).join(), /index/, JSON.stringify(s.Resource));
  // The hourly run finishes large purges: the processor reads the events' index.
  const processor = statementsOf('Processor').filter((s) => [s.Resource].flat().map(text).join().includes('ErrataEvents'));
  assert.ok(processor.some((s) => [s.Action].flat().includes('dynamodb:Query')), JSON.stringify(processor));
});

test('throttles and e-mail limits: the API and the notifier count in the quotas table', () => {
  const quotas = (fn: string) => statementsOf(fn).filter((s) => text([s.Resource].flat()[0]) === '<ErrataQuotas.Arn>').flatMap((s) => [s.Action].flat()).sort();
  assert.deepEqual(quotas('Api'), ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  assert.deepEqual(quotas('Notifier'), ['dynamodb:UpdateItem']);
  for (const fn of ['Api', 'Notifier']) assert.deepEqual(text(envOf(fn).QUOTAS_TABLE), '<ErrataQuotas>');
});

test('Athena: the API can stop queries; the workgroup enforces its settings and a bytes-scanned cutoff', () => {
  const athena = statementsOf('Api').find((s) => [s.Action].flat().includes('athena:StartQueryExecution'))!;
  assert.ok([athena.Action].flat().includes('athena:StopQueryExecution'));
  assert.match(JSON.stringify(athena.Resource), /workgroup\//);
  const config = (t: Template) => (Object.values(t.findResources('AWS::Athena::WorkGroup'))[0] as any).Properties.WorkGroupConfiguration;
  assert.equal(config(template).EnforceWorkGroupConfiguration, true);
  assert.equal(config(template).BytesScannedCutoffPerQuery, 10 * 1024 ** 3, '10 GiB by default');
  assert.equal(config(synth(lambda.Architecture.ARM_64, { athenaBytesScannedCutoff: 1024 ** 3 })).BytesScannedCutoffPerQuery, 1024 ** 3);
  assert.throws(() => synth(lambda.Architecture.ARM_64, { athenaBytesScannedCutoff: 1000 }), /athenaBytesScannedCutoff/);
});

test("CloudFront sends the app's Content-Security-Policy as a header, with frame-ancestors, and the security headers", () => {
  const policies = Object.values(resources('AWS::CloudFront::ResponseHeadersPolicy')) as any[];
  assert.equal(policies.length, 1);
  const h = policies[0].Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
  const directives = (csp: string) => new Map(csp.split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
    const [name, ...sources] = d.split(/\s+/);
    return [name, sources.join(' ')] as [string, string];
  }));
  const header = directives(text(h.ContentSecurityPolicy.ContentSecurityPolicy));
  assert.equal(h.ContentSecurityPolicy.Override, true);
  // What web/index.html declares in its meta tag, every directive of it…
  const html = fs.readFileSync(path.join(import.meta.dirname, '../../../web/index.html'), 'utf8');
  const meta = directives(html.match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)![1]);
  for (const [name, sources] of meta) {
    // …connect-src naming the API's own origin where the tag allows any https origin.
    if (name === 'connect-src') assert.equal(header.get(name), "'self' <ErrataHttpApi.ApiEndpoint>");
    else assert.equal(header.get(name), sources, name);
  }
  // …and frame-ancestors, which only works as a header.
  assert.equal(header.get('frame-ancestors'), "'none'");
  assert.equal(header.size, meta.size + 1);
  assert.deepEqual(h.StrictTransportSecurity, { AccessControlMaxAgeSec: 365 * 24 * 3600, IncludeSubdomains: true, Preload: true, Override: true });
  assert.deepEqual(h.ContentTypeOptions, { Override: true });
  assert.deepEqual(h.FrameOptions, { FrameOption: 'DENY', Override: true });
  assert.deepEqual(h.ReferrerPolicy, { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true });
  // The app and its API both get them.
  const config = (Object.values(resources('AWS::CloudFront::Distribution'))[0] as any).Properties.DistributionConfig;
  const [policyId] = Object.keys(resources('AWS::CloudFront::ResponseHeadersPolicy'));
  assert.deepEqual(config.DefaultCacheBehavior.ResponseHeadersPolicyId, { Ref: policyId });
  assert.deepEqual(config.CacheBehaviors[0].ResponseHeadersPolicyId, { Ref: policyId });
  // No CloudFront, no policy.
  synth(lambda.Architecture.ARM_64, { cdn: false }).resourceCountIs('AWS::CloudFront::ResponseHeadersPolicy', 0);
});

test('a setup secret generated at deploy time reaches the API by dynamic reference; outputs say how to read it, never what it is', () => {
  const secrets = Object.entries(resources('AWS::SecretsManager::Secret')) as [string, any][];
  assert.equal(secrets.length, 1);
  const [id, secret] = secrets[0];
  assert.match(id, /^ErrataSetupSecret[0-9A-F]{8}$/);
  assert.deepEqual(
    { ...secret.Properties.GenerateSecretString, ExcludeCharacters: undefined },
    { PasswordLength: 40, ExcludePunctuation: true, IncludeSpace: false, ExcludeCharacters: undefined },
  );
  assert.equal(text(envOf('Api').SETUP_SECRET), '{{resolve:secretsmanager:<ErrataSetupSecret>:SecretString:::}}');
  for (const fn of ['Ingest', 'Processor', 'Symbolicator', 'Notifier']) assert.ok(!('SETUP_SECRET' in envOf(fn)), fn);
  const outputs = template.toJSON().Outputs;
  assert.deepEqual(outputs.SetupSecretArn.Value, { Ref: id });
  assert.equal(text(outputs.SetupSecretCommand.Value), 'aws secretsmanager get-secret-value --secret-id <ErrataSetupSecret> --query SecretString --output text');
  assert.ok(!JSON.stringify(outputs).includes('resolve:secretsmanager'), 'no output holds the value');
  // Kept with the data, and destroyed with it when the data goes with the stack.
  assert.equal(secret.DeletionPolicy, 'Retain');
  const throwaway = Object.values(synth(lambda.Architecture.ARM_64, { dataRemovalPolicy: RemovalPolicy.DESTROY }).findResources('AWS::SecretsManager::Secret'))[0] as any;
  assert.equal(throwaway.DeletionPolicy, 'Delete');
});

test('webhook egress settings reach the API and the notifier: https to public addresses unless told otherwise', () => {
  for (const fn of ['Api', 'Notifier']) {
    assert.equal(envOf(fn).WEBHOOK_ALLOW_HTTP, 'false', fn);
    assert.equal(envOf(fn).WEBHOOK_ALLOWED_NETWORKS, '', fn);
  }
  const t = synth(lambda.Architecture.ARM_64, { webhookAllowHttp: true, webhookAllowedNetworks: ['127.0.0.2/32', '10.0.0.0/8'] });
  for (const fn of ['Api', 'Notifier']) {
    assert.equal(envOf(fn, t).WEBHOOK_ALLOW_HTTP, 'true', fn);
    assert.equal(envOf(fn, t).WEBHOOK_ALLOWED_NETWORKS, '127.0.0.2/32,10.0.0.0/8', fn);
  }
  assert.ok(!('WEBHOOK_ALLOW_HTTP' in envOf('Processor')));
  assert.throws(() => synth(lambda.Architecture.ARM_64, { webhookAllowedNetworks: ['intranet'] }), /webhookAllowedNetworks/);
});

/** A queue's properties by its construct id (`Envelopes`, `LargeEnvelopesDlq`), and its logical id. */
function queueOf(name: string, t = template): [string, any] {
  const [id, q] = Object.entries(t.findResources('AWS::SQS::Queue')).find(([id]) => new RegExp(`^Errata${name}[0-9A-F]{8}$`).test(id))!;
  return [id, q.Properties];
}

/** The event source mapping that reads a queue (`Envelopes`, `LargeEnvelopes`). */
function mappingOf(name: string, t = template): any {
  const [queueId] = queueOf(name, t);
  return (Object.values(t.findResources('AWS::Lambda::EventSourceMapping')) as any[])
    .find((m) => m.Properties.EventSourceArn['Fn::GetAtt'][0] === queueId)!.Properties;
}

test('large envelopes have a queue of their own, like the envelopes queue, read one at a time by the processor', () => {
  const [, envelopes] = queueOf('Envelopes');
  const [largeId, large] = queueOf('LargeEnvelopes');
  const [largeDlqId, largeDlq] = queueOf('LargeEnvelopesDlq');
  const [envelopeDlqId, envelopeDlq] = queueOf('EnvelopesDlq');
  // The same encryption, retention, visibility and redrive as the envelopes queue, to its own DLQ.
  const settings = ({ RedrivePolicy, ...rest }: any) => ({ ...rest, maxReceiveCount: RedrivePolicy?.maxReceiveCount });
  assert.deepEqual(settings(large), settings(envelopes));
  assert.deepEqual(large.RedrivePolicy.deadLetterTargetArn, { 'Fn::GetAtt': [largeDlqId, 'Arn'] });
  assert.deepEqual(largeDlq, envelopeDlq);
  for (const id of [largeId, largeDlqId]) {
    const policies = Object.values(resources('AWS::SQS::QueuePolicy')).filter((p) => p.Properties.Queues.some((q: any) => q.Ref === id));
    assert.equal(policies.length, 1, `${id}: TLS only`);
  }
  // The processor reads it in batches of one, reporting failures per message; the envelopes
  // mapping keeps its batches. Each starts at most its share of the processor's reservation.
  const processorId = Object.keys(resources('AWS::Lambda::Function')).find((id) => id.startsWith('ErrataProcessorFunction'));
  const largeMapping = mappingOf('LargeEnvelopes');
  assert.deepEqual(largeMapping.FunctionName, { Ref: processorId });
  assert.equal(largeMapping.BatchSize, 1);
  assert.equal(largeMapping.MaximumBatchingWindowInSeconds, undefined);
  assert.deepEqual(largeMapping.FunctionResponseTypes, ['ReportBatchItemFailures']);
  assert.deepEqual(largeMapping.ScalingConfig, { MaximumConcurrency: 3 });
  const envelopeMapping = mappingOf('Envelopes');
  assert.deepEqual(envelopeMapping.FunctionName, { Ref: processorId });
  assert.equal(envelopeMapping.BatchSize, 100);
  assert.equal(envelopeMapping.MaximumBatchingWindowInSeconds, 1);
  assert.deepEqual(envelopeMapping.FunctionResponseTypes, ['ReportBatchItemFailures']);
  assert.deepEqual(envelopeMapping.ScalingConfig, { MaximumConcurrency: 15 });
  // Ingest queues claim checks to it; the processor consumes it and parks poison from either
  // queue in the envelopes DLQ, as before.
  assert.equal(text(envOf('Ingest').LARGE_ENVELOPE_QUEUE_URL), '<ErrataLargeEnvelopes>');
  assert.equal(text(envOf('Ingest').ENVELOPE_QUEUE_URL), '<ErrataEnvelopes>');
  for (const fn of ['Processor', 'Symbolicator', 'Api', 'Notifier']) assert.ok(!('LARGE_ENVELOPE_QUEUE_URL' in envOf(fn)), fn);
  assert.deepEqual(envOf('Processor').ENVELOPE_DLQ_URL, { Ref: envelopeDlqId });
  const on = (fn: string, queue: string) => statementsOf(fn).filter((s) => [s.Resource].flat().some((r: any) => text(r) === `<${queue}.Arn>`)).flatMap((s) => [s.Action].flat());
  assert.ok(on('Ingest', 'ErrataLargeEnvelopes').includes('sqs:SendMessage'));
  assert.ok(!on('Ingest', 'ErrataLargeEnvelopes').some((a) => a.startsWith('sqs:Receive')));
  assert.ok(on('Processor', 'ErrataLargeEnvelopes').includes('sqs:ReceiveMessage') && on('Processor', 'ErrataLargeEnvelopes').includes('sqs:DeleteMessage'));
  assert.ok(!on('Processor', 'ErrataLargeEnvelopes').includes('sqs:SendMessage'));
  for (const fn of ['Symbolicator', 'Api', 'Notifier']) assert.deepEqual(on(fn, 'ErrataLargeEnvelopes'), [], fn);
  // Its DLQ alarms like the others, and its URL is an output, as the envelopes DLQ's is.
  const alarm = (Object.values(resources('AWS::CloudWatch::Alarm')) as any[]).find((a) => a.Properties.Dimensions?.[0]?.Value?.['Fn::GetAtt']?.[0] === largeDlqId);
  assert.ok(alarm, 'an alarm on the large-envelopes DLQ');
  assert.match(alarm.Properties.AlarmDescription, /large envelopes dead-letter queue/);
  const outputs = template.toJSON().Outputs;
  assert.deepEqual(outputs.LargeEnvelopeDlqUrl.Value, { Ref: largeDlqId });
  assert.deepEqual(outputs.EnvelopeDlqUrl.Value, { Ref: envelopeDlqId });
  // Its visibility follows the processor's timeout, or its own setting.
  const t = synth(lambda.Architecture.ARM_64, { functions: { processor: { timeout: Duration.seconds(60) } }, queueVisibility: { largeEnvelopes: Duration.seconds(900) } });
  assert.equal(queueOf('Envelopes', t)[1].VisibilityTimeout, 360);
  assert.equal(queueOf('LargeEnvelopes', t)[1].VisibilityTimeout, 900);
});

/** Each function's reserved concurrency (undefined: none). */
function reservations(t = template): Record<string, number | undefined> {
  return Object.fromEntries((Object.values(t.findResources('AWS::Lambda::Function')) as any[])
    .filter((f) => f.Properties.Description?.startsWith('Errata '))
    .map((f) => [f.Properties.Description.split(' ')[1], f.Properties.ReservedConcurrentExecutions]));
}

test('concurrency: every function reserves its share, so an ingest flood starves nothing; 0 reserves none', () => {
  assert.deepEqual(reservations(), { ingest: 100, processor: 20, symbolicator: 5, api: 20, notifier: 5 });
  // Reserved by default, checkov's finding passes instead of being skipped.
  for (const [id, f] of Object.entries(resources('AWS::Lambda::Function')) as [string, any][]) {
    if (f.Properties.Description?.startsWith('Errata ')) assert.ok(!JSON.stringify(f.Metadata).includes('CKV_AWS_115'), id);
  }
  // Overrides; 0 leaves the property unset (Lambda's 0 would mean "never run") and says why.
  const t = synth(lambda.Architecture.ARM_64, { functions: { ingest: { reservedConcurrency: 0 }, api: { reservedConcurrency: 40 } } });
  assert.deepEqual(reservations(t), { ingest: undefined, processor: 20, symbolicator: 5, api: 40, notifier: 5 });
  const ingest = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('ErrataIngestFunction'))![1];
  assert.ok(!('ReservedConcurrentExecutions' in ingest.Properties));
  assert.ok(ingest.Metadata.checkov.skip.some((s: { id: string }) => s.id === 'CKV_AWS_115'));
  const none = synth(lambda.Architecture.ARM_64, { functions: Object.fromEntries(FUNCTIONS.map((fn) => [fn, { reservedConcurrency: 0 }])) });
  assert.deepEqual(Object.values(reservations(none)), Array(5).fill(undefined), 'an account with a limit of 10 can deploy');
  assert.throws(() => synth(lambda.Architecture.ARM_64, { functions: { notifier: { reservedConcurrency: -1 } } }), /reservedConcurrency/);
  assert.throws(() => synth(lambda.Architecture.ARM_64, { functions: { notifier: { reservedConcurrency: 2.5 } } }), /reservedConcurrency/);
});

test("concurrency: each envelope queue starts at most its share of the processor's reservation", () => {
  const t = synth(lambda.Architecture.ARM_64, { processorMaxConcurrency: 30, largeEnvelopeMaxConcurrency: 5, functions: { processor: { reservedConcurrency: 40 } } });
  assert.deepEqual(mappingOf('Envelopes', t).ScalingConfig, { MaximumConcurrency: 30 });
  assert.deepEqual(mappingOf('LargeEnvelopes', t).ScalingConfig, { MaximumConcurrency: 5 });
  // The other consumers are capped by their functions' reservations alone.
  for (const m of Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as any[]) {
    if (m.Properties.BatchSize !== 100 && m.Properties.BatchSize !== 1) assert.equal(m.Properties.ScalingConfig, undefined);
  }
  // SQS mappings take 2 to 1000.
  assert.throws(() => synth(lambda.Architecture.ARM_64, { processorMaxConcurrency: 1 }), /processorMaxConcurrency/);
  assert.throws(() => synth(lambda.Architecture.ARM_64, { largeEnvelopeMaxConcurrency: 1001 }), /largeEnvelopeMaxConcurrency/);
  // Together they fit in the reservation: Lambda throttles past it, and a throttled receive
  // counts towards maxReceiveCount.
  assert.throws(() => synth(lambda.Architecture.ARM_64, { processorMaxConcurrency: 18 }), /exceed the processor's reserved concurrency \(20\)/);
  assert.throws(() => synth(lambda.Architecture.ARM_64, { functions: { processor: { reservedConcurrency: 10 } } }), /reserved concurrency/);
  // No reservation, nothing to fit in.
  const unreserved = synth(lambda.Architecture.ARM_64, { processorMaxConcurrency: 100, functions: { processor: { reservedConcurrency: 0 } } });
  assert.deepEqual(mappingOf('Envelopes', unreserved).ScalingConfig, { MaximumConcurrency: 100 });
});

test('default limits for new DSN keys and projects reach the API; empty means none', () => {
  assert.equal(envOf('Api').DEFAULT_KEY_RATE_LIMIT, '1000/60');
  assert.equal(envOf('Api').DEFAULT_PROJECT_QUOTA, '1000000/86400');
  for (const fn of ['Ingest', 'Processor', 'Symbolicator', 'Notifier']) {
    assert.ok(!('DEFAULT_KEY_RATE_LIMIT' in envOf(fn)) && !('DEFAULT_PROJECT_QUOTA' in envOf(fn)), fn);
  }
  const t = synth(lambda.Architecture.ARM_64, { defaultKeyRateLimit: '100/1', defaultProjectQuota: '' });
  assert.equal(envOf('Api', t).DEFAULT_KEY_RATE_LIMIT, '100/1');
  assert.equal(envOf('Api', t).DEFAULT_PROJECT_QUOTA, '');
  for (const bad of ['1000', '0/60', '10/0', '1000 / 60', '-1/60', '1.5/60', 'ten/60']) {
    assert.throws(() => synth(lambda.Architecture.ARM_64, { defaultKeyRateLimit: bad }), /defaultKeyRateLimit must be count\/seconds/, bad);
  }
  assert.throws(() => synth(lambda.Architecture.ARM_64, { defaultProjectQuota: '1000000/day' }), /defaultProjectQuota/);
});
