// Synth tests: the properties of the stack that matter for correctness, cost and security.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ErrataStack } from '../lib/errata-stack.js';
import { FUNCTIONS, INGEST_ENDPOINTS } from '../lib/errata.js';

function synth(architecture = lambda.Architecture.ARM_64): Template {
  const lambdaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'errata-synth-'));
  for (const fn of FUNCTIONS) {
    fs.mkdirSync(path.join(lambdaDir, `errata-${fn}`));
    fs.writeFileSync(path.join(lambdaDir, `errata-${fn}`, 'bootstrap'), `#!/bin/sh\necho ${fn}\n`);
  }
  const app = new App();
  const stack = new ErrataStack(app, 'test', { lambdaDir, architecture, senderEmail: 'alerts@example.org' });
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
  assert.equal(withDlq.length, 3, 'envelopes, symbolication, notifications');
  for (const q of withDlq) assert.equal(q.Properties.RedrivePolicy.maxReceiveCount, 5);
  assert.equal(queues.length, 6);
  for (const q of queues) assert.equal(q.Properties.SqsManagedSseEnabled, true);
  const mappings = Object.values(resources('AWS::Lambda::EventSourceMapping'));
  assert.equal(mappings.length, 3);
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
  assert.equal(tables.filter((t) => t.Properties.TimeToLiveSpecification?.AttributeName === 'expires_at').length, 3, 'events, quotas, sessions and invitations expire');
});

test('buckets: private, encrypted, TLS only', () => {
  const buckets = Object.values(resources('AWS::S3::Bucket'));
  assert.equal(buckets.length, 4);
  for (const b of buckets) {
    assert.deepEqual(b.Properties.PublicAccessBlockConfiguration, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    assert.ok(b.Properties.BucketEncryption);
  }
  const policies = Object.values(resources('AWS::S3::BucketPolicy'));
  assert.equal(policies.length, 4);
  for (const p of policies) {
    assert.ok(p.Properties.PolicyDocument.Statement.some((s: { Effect: string; Condition?: { Bool?: Record<string, string> } }) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'));
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
function statementsOf(fn: string): any[] {
  const fns = resources('AWS::Lambda::Function');
  const [, fnRes] = Object.entries(fns).find(([id]) => id.startsWith(`Errata${fn}Function`))!;
  const roleId = fnRes.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(resources('AWS::IAM::Policy')).filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId));
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
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
  assert.ok(!api.some((a) => /^s3:Delete|^sqs:Receive/.test(a)), 'the api reads events, never deletes them');
  const apiPuts = statementsOf('Api').filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:Put')));
  for (const s of apiPuts) assert.match(JSON.stringify(s.Resource), /\/athena-results\/\*"/, 'only query results');
  // Consumers not built yet may only consume their queue.
  assert.ok(actionsOf('Symbolicator').every((a) => a.startsWith('sqs:')), `${actionsOf('Symbolicator')}`);
  // The notifier consumes its queue and sends mail, nothing else.
  assert.ok(actionsOf('Notifier').every((a) => a.startsWith('sqs:') || a === 'ses:SendEmail' || a === 'dynamodb:PutItem'), `${actionsOf('Notifier')}`);
  assert.ok(actionsOf('Notifier').includes('ses:SendEmail'));
  for (const fn of ['Ingest', 'Processor', 'Symbolicator', 'Api', 'Notifier']) {
    assert.ok(!actionsOf(fn).some((a) => a === '*' || a.endsWith(':*')), `${fn} has no wildcard actions`);
  }
});

test('alarms: any message in a DLQ, any failed invocation, to one encrypted topic', () => {
  const alarms = Object.values(resources('AWS::CloudWatch::Alarm')) as { Properties: Record<string, unknown> }[];
  const byMetric = (name: string) => alarms.filter((a) => a.Properties.MetricName === name);
  assert.equal(byMetric('ApproximateNumberOfMessagesVisible').length, 3, 'one per dead-letter queue');
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
