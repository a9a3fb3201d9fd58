// Errata's whole AWS footprint as one construct: HTTP API, five Lambdas, queues with DLQs,
// DynamoDB tables, S3 buckets, Glue/Athena for the Parquet event store, an SES identity,
// and least-privilege IAM (every grant below is the only access a function gets).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aspects, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events_ from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CheckovSkips, DEPLOYMENT_HANDLER_SKIPS, skip } from './checkov.js';

/** The Parquet event table's columns: the processor writes exactly these (one file for both). */
const eventColumns: { name: string; type: string }[] = JSON.parse(
  fs.readFileSync(path.join(import.meta.dirname, '../../../shared/rows/columns.json'), 'utf8'),
);

export const FUNCTIONS = ['ingest', 'processor', 'symbolicator', 'api', 'notifier'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

// largeEnvelopes: claim checks of envelopes too large for an SQS message (the envelope waits in
// the raw bucket), processed one at a time so a batch of them cannot hold up small envelopes.
export const QUEUES = ['envelopes', 'largeEnvelopes', 'symbolication', 'notifications'] as const;
export type QueueName = (typeof QUEUES)[number];

/** Per-function overrides of the defaults below. */
export interface FunctionSettings {
  readonly memorySize?: number;
  readonly timeout?: Duration;
  /**
   * Reserved concurrency: a ceiling (and a guarantee) for this function. Default: the function's
   * in FUNCTION_DEFAULTS. 0 means no reservation (not Lambda's "never run"): for accounts whose
   * concurrency limit is too low to reserve anything (AWS keeps 100 unreserved).
   */
  readonly reservedConcurrency?: number;
}

export interface ErrataProps {
  /** Directory holding `errata-<name>/bootstrap[.zip]` for each function (cargo-lambda's layout). */
  readonly lambdaDir: string;
  /** arm64 on AWS (default); the host's architecture for a local emulator. */
  readonly architecture?: lambda.Architecture;
  /** Memory, timeout and reserved concurrency per function. */
  readonly functions?: Partial<Record<FunctionName, FunctionSettings>>;
  /** Days events are kept (event index TTL, event bucket lifecycle). Default 90. */
  readonly retentionDays?: number;
  /** How long function and API access logs are kept. Default one month. */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The functions' log class. Default INFREQUENT_ACCESS: half the ingestion price ($0.25 per GB),
   * queried with Logs Insights; STANDARD adds Live Tail, metric and subscription filters.
   */
  readonly logClass?: logs.LogGroupClass;
  /** The address alert and invitation e-mail comes from; becomes an SES identity (AWS e-mails it a verification link). */
  readonly senderEmail?: string;
  /** Serve the web app through CloudFront (S3 with origin access control, `/api/0/*` to the API). Default true. */
  readonly cdn?: boolean;
  /** A custom domain for the web app (and its API), with an ACM certificate for it in us-east-1. */
  readonly domainName?: string;
  readonly certificateArn?: string;
  /** A WAF web ACL (ARN) for the distribution. */
  readonly webAclId?: string;
  /** The built web app (`web/dist`) to deploy to the bucket, with its `config.json`. */
  readonly webAssetsDir?: string;
  /** The organization and project the web app opens first. */
  readonly webDefaults?: { readonly org?: string; readonly project?: string };
  /** Where the web app is served, for links in API answers and e-mails. Default: the CDN's URL. */
  readonly webUrl?: string;
  /** Public base URL of ingest, for DSNs: a custom domain mapped to the HTTP API (which bills
   * $1.00 per million requests). Default: ingest's Lambda function URL (no request charge). */
  readonly publicUrl?: string;
  /** Requests per second (steady, burst) the HTTP API accepts before answering 429. */
  readonly apiThrottle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Receives before a message moves to its dead-letter queue. Default 5. */
  readonly maxReceiveCount?: number;
  /** Visibility timeout per queue. Default six times the consumer's timeout. */
  readonly queueVisibility?: Partial<Record<QueueName, Duration>>;
  /**
   * Processors the envelopes queue may run at once (its mapping's maximum concurrency, 2 to
   * 1000). Default 15. With largeEnvelopeMaxConcurrency it must fit in the processor's reserved
   * concurrency: Lambda throttles the excess, and a throttled receive counts towards
   * maxReceiveCount.
   */
  readonly processorMaxConcurrency?: number;
  /** Processors the large-envelopes queue may run at once (2 to 1000). Default 3. */
  readonly largeEnvelopeMaxConcurrency?: number;
  /**
   * The rate limit a DSN key gets when the API creates it without one, as `count/seconds`
   * (`1000/60`: 1,000 events a minute); '' for none. Default `1000/60`. Existing keys keep theirs
   * (`errata-admin rate-limit --public-key` changes them).
   */
  readonly defaultKeyRateLimit?: string;
  /** The quota a new project gets, as `count/seconds`; '' for none. Default `1000000/86400` (a million a day). */
  readonly defaultProjectQuota?: string;
  /** Where alarms (a message in a dead-letter queue, function errors) are e-mailed, if anywhere. */
  readonly alarmEmail?: string;
  /** Removal policy of data (tables, buckets, the setup secret). RETAIN for production. */
  readonly dataRemovalPolicy?: RemovalPolicy;
  /**
   * Bytes one Athena query may scan before Athena cancels it (the workgroup enforces it).
   * Default 10 GiB ($0.05 at $5 per TB); at least 10 MiB.
   */
  readonly athenaBytesScannedCutoff?: number;
  /**
   * Let alert webhooks use plain http. Default false: by default webhooks must be https to
   * public addresses.
   */
  readonly webhookAllowHttp?: boolean;
  /**
   * Networks (CIDRs) webhooks may reach although they are loopback or private, e.g. a chat
   * server inside a VPN. Default none. Link-local addresses (169.254.0.0/16, the instance
   * metadata address 169.254.169.254 among them) are refused whatever this says.
   */
  readonly webhookAllowedNetworks?: string[];
}

/** Athena's default per-query cutoff: 10 GiB. */
export const ATHENA_BYTES_SCANNED_CUTOFF = 10 * 1024 ** 3;

/**
 * What a function gets unless `functions` says otherwise. Reserved concurrency both guarantees a
 * function its share and caps it: a flood at ingest (its function URL has no throttle of its
 * own) takes at most 100 executions and cannot starve the API or the processor. 150 in all, so
 * the account needs a limit of at least 250 (AWS keeps 100 unreserved; the default is 1,000).
 */
export const FUNCTION_DEFAULTS: Record<FunctionName, { memorySize: number; timeoutSeconds: number; reservedConcurrency: number }> = {
  ingest: { memorySize: 256, timeoutSeconds: 10, reservedConcurrency: 100 },
  processor: { memorySize: 512, timeoutSeconds: 30, reservedConcurrency: 20 },
  symbolicator: { memorySize: 1024, timeoutSeconds: 60, reservedConcurrency: 5 },
  api: { memorySize: 512, timeoutSeconds: 29, reservedConcurrency: 20 },
  notifier: { memorySize: 256, timeoutSeconds: 30, reservedConcurrency: 5 },
};

/**
 * Processors each envelope queue may start at once, 18 of the processor's 20: neither queue can
 * take the whole reservation, and two are left for the hourly compaction.
 */
export const PROCESSOR_MAX_CONCURRENCY = 15;
export const LARGE_ENVELOPE_MAX_CONCURRENCY = 3;

/** Limits new DSN keys and projects get (`count/seconds`): 1,000 events a minute, a million a day. */
export const DEFAULT_KEY_RATE_LIMIT = '1000/60';
export const DEFAULT_PROJECT_QUOTA = '1000000/86400';

/** `count/seconds` with both above 0 (what the API's parser takes), or '' for no limit. */
function rateLimitSetting(name: string, value: string): string {
  if (value !== '' && !/^[1-9][0-9]{0,17}\/[1-9][0-9]{0,17}$/.test(value)) {
    throw new Error(`${name} must be count/seconds (e.g. 1000/60), or '' for none, not ${JSON.stringify(value)}`);
  }
  return value;
}

/** Which function consumes which queue (its timeout sets the queue's default visibility). */
const CONSUMER: Record<QueueName, FunctionName> = {
  envelopes: 'processor',
  largeEnvelopes: 'processor',
  symbolication: 'symbolicator',
  notifications: 'notifier',
};

/**
 * A function's code: `errata-<name>/bootstrap.zip` as `cargo lambda build --output-format zip`
 * writes it, else the directory holding `bootstrap` (zipped by CDK).
 */
function lambdaCode(lambdaDir: string, name: FunctionName): lambda.Code {
  const dir = path.join(lambdaDir, `errata-${name}`);
  const zip = path.join(dir, 'bootstrap.zip');
  return lambda.Code.fromAsset(fs.existsSync(zip) ? zip : dir);
}

/** Ingest routes: Sentry's SDK endpoints, trailing slash included as SDKs send them. */
export const INGEST_ENDPOINTS = ['envelope', 'store', 'minidump', 'security'] as const;

export class Errata extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly functions: Record<FunctionName, lambda.Function>;
  readonly tables: { directory: dynamodb.Table; issues: dynamodb.Table; events: dynamodb.Table; quotas: dynamodb.Table };
  readonly buckets: { raw: s3.Bucket; events: s3.Bucket; debugFiles: s3.Bucket; web: s3.Bucket; accessLogs: s3.Bucket };
  readonly queues: Record<QueueName, { queue: sqs.Queue; dlq: sqs.Queue }>;
  /** The web app's CloudFront distribution (absent with `cdn: false`). */
  readonly distribution?: cloudfront.Distribution;
  /** The web app's address (`https://…/`), or '' without a CDN or `webUrl`. */
  readonly webUrl: string;
  /** The base of DSNs: a custom ingest URL, or ingest's function URL. */
  readonly dsnBaseUrl: string;
  /** Ingest's Lambda function URL, which DSNs point at unless `publicUrl` is set. */
  readonly ingestUrl: lambda.FunctionUrl;
  /** Alarms publish here; subscribe a pager or chat to it. */
  readonly alarmTopic: sns.Topic;
  /** The Parquet event store as Athena sees it. */
  readonly eventStore: { database: string; table: string; workGroup: string };
  /** The one-time secret the first-run setup (`POST setup/`) asks for. */
  readonly setupSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ErrataProps) {
    super(scope, id);
    // S3 server access logs are allowed by a bucket policy, not a legacy ACL, whatever the
    // app's own flags (this must be set before any resource is added).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const retentionDays = props.retentionDays ?? 90;
    const removalPolicy = props.dataRemovalPolicy ?? RemovalPolicy.RETAIN;
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    Aspects.of(this).add(new CheckovSkips());

    // --- storage -------------------------------------------------------------------------
    // Every bucket: SSE-S3, no public access, TLS only, server access logs to one log bucket.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
    });
    skip(accessLogs.node.defaultChild as s3.CfnBucket,
      { id: 'CKV_AWS_18', comment: 'This is the access-log bucket itself.' },
      { id: 'CKV_AWS_21', comment: 'Access logs are written once and expire after 90 days; versions would add nothing.' });
    const bucket = (name: string, extra: Partial<s3.BucketProps> = {}) =>
      new s3.Bucket(this, name, {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${name}/`,
        removalPolicy,
        ...extra,
      });
    // Uploaded debug files and the web app's files are kept with their earlier versions a month.
    const versioned = { versioned: true, lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }] };
    const unversioned = (why: string) => (b: s3.Bucket) => {
      skip(b.node.defaultChild as s3.CfnBucket, { id: 'CKV_AWS_21', comment: why });
      return b;
    };
    this.buckets = {
      // Envelopes too large for an SQS message wait here until processed (claim check).
      raw: unversioned('Claim-check payloads live minutes and expire after 14 days; versions would only keep deleted data.')(
        bucket('RawPayloads', { lifecycleRules: [{ expiration: Duration.days(14) }] }),
      ),
      events: unversioned('Compaction rewrites the Parquet files hourly and retention deletes them: versions would keep every deleted byte.')(
        bucket('EventData', { lifecycleRules: [{ expiration: Duration.days(retentionDays) }] }),
      ),
      // Upload chunks are only needed until their file is assembled.
      debugFiles: bucket('DebugFiles', {
        ...versioned,
        lifecycleRules: [...versioned.lifecycleRules, { prefix: 'chunks/', expiration: Duration.days(1) }],
      }),
      web: bucket('WebApp', versioned),
      accessLogs,
    };

    const table = (name: string, sortKey: boolean, ttl?: string) =>
      new dynamodb.Table(this, name, {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: sortKey ? { name: 'sk', type: dynamodb.AttributeType.STRING } : undefined,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: ttl,
        removalPolicy,
      });
    // Sessions and invitations carry `expires_at`; DynamoDB deletes them after it.
    const directory = table('Directory', true, 'expires_at');
    const issues = table('Issues', true);
    // DynamoDB bills a write to every index whose copy of an item changes, and every counted
    // event changes its issue: the issues' indexes hold keys only, and lists read the issues
    // from the table. `by-last-seen` orders by the hour of the last sighting (`list_seen`), so
    // a count moves an issue in it once an hour, not with every event.
    issues.addGlobalSecondaryIndex({
      indexName: 'by-id',
      partitionKey: { name: 'issue_id', type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    // Issue lists: one partition per project, status and day of last (first) sighting.
    for (const [indexName, day, time] of [['by-last-seen', 'seen_day', 'list_seen'], ['by-first-seen', 'first_day', 'first_seen']]) {
      issues.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: day, type: dynamodb.AttributeType.STRING },
        sortKey: { name: time, type: dynamodb.AttributeType.NUMBER },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
    }
    const events = table('Events', false, 'expires_at');
    events.addGlobalSecondaryIndex({
      indexName: 'by-issue',
      partitionKey: { name: 'issue_id', type: dynamodb.AttributeType.NUMBER },
      sortKey: { name: 'ts', type: dynamodb.AttributeType.NUMBER },
    });
    // Rate-limit counters: one item per key or project and window, gone after the window.
    const quotas = table('Quotas', false, 'expires_at');
    this.tables = { directory, issues, events, quotas };

    const fnSettings = (name: FunctionName) => {
      const reserved = props.functions?.[name]?.reservedConcurrency ?? FUNCTION_DEFAULTS[name].reservedConcurrency;
      if (!Number.isInteger(reserved) || reserved < 0) {
        throw new Error(`${name}: reservedConcurrency must be a whole number, 0 for no reservation, not ${reserved}`);
      }
      return {
        memorySize: props.functions?.[name]?.memorySize ?? FUNCTION_DEFAULTS[name].memorySize,
        timeout: props.functions?.[name]?.timeout ?? Duration.seconds(FUNCTION_DEFAULTS[name].timeoutSeconds),
        // 0 leaves the property unset: Lambda would read 0 as "never run".
        reservedConcurrency: reserved === 0 ? undefined : reserved,
      };
    };
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const queue = (name: string, visibility: Duration) => {
      const dlq = new sqs.Queue(this, `${name}Dlq`, {
        retentionPeriod: Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const q = new sqs.Queue(this, name, {
        visibilityTimeout: visibility,
        retentionPeriod: Duration.days(4),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount },
      });
      return { queue: q, dlq };
    };
    // Visibility is six times the consumer's timeout, as AWS advises for Lambda consumers.
    const visibility = (q: QueueName) => props.queueVisibility?.[q] ?? Duration.seconds(6 * fnSettings(CONSUMER[q]).timeout.toSeconds());
    this.queues = {
      envelopes: queue('Envelopes', visibility('envelopes')),
      largeEnvelopes: queue('LargeEnvelopes', visibility('largeEnvelopes')),
      symbolication: queue('Symbolication', visibility('symbolication')),
      notifications: queue('Notifications', visibility('notifications')),
    };

    // --- event store: Parquet on S3, Glue table, Athena workgroup --------------------------
    const glueDb = new glue.CfnDatabase(this, 'GlueDatabase', {
      catalogId: Stack.of(this).account,
      databaseInput: { name: `errata_${Stack.of(this).stackName.toLowerCase().replace(/[^a-z0-9]/g, '_')}`, description: 'Errata event store' },
    });
    const eventsTable = new glue.CfnTable(this, 'GlueEventsTable', {
      catalogId: Stack.of(this).account,
      databaseName: glueDb.ref,
      tableInput: {
        name: 'events',
        tableType: 'EXTERNAL_TABLE',
        // Partition projection: Athena derives partitions from the key layout, so nothing has to
        // register a new project or day.
        parameters: {
          classification: 'parquet',
          EXTERNAL: 'TRUE',
          'projection.enabled': 'true',
          'projection.project_id.type': 'integer',
          'projection.project_id.range': '1,1000000000',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': '2020-01-01,NOW',
          'storage.location.template': this.buckets.events.s3UrlForObject('parquet/events/project_id=${project_id}/dt=${dt}/'),
        },
        partitionKeys: [
          { name: 'project_id', type: 'bigint' },
          { name: 'dt', type: 'string' },
        ],
        storageDescriptor: {
          location: this.buckets.events.s3UrlForObject('parquet/events/'),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          // The processor writes exactly these columns (shared/rows/columns.json is shared with it).
          columns: eventColumns,
        },
      },
    });
    // The workgroup's settings bind every query (enforced): results under athena-results/, and
    // a cap on what one query may scan, so a query that misses its partitions costs cents.
    const bytesScannedCutoff = props.athenaBytesScannedCutoff ?? ATHENA_BYTES_SCANNED_CUTOFF;
    if (!Number.isInteger(bytesScannedCutoff) || bytesScannedCutoff < 10 * 1024 ** 2) {
      throw new Error(`athenaBytesScannedCutoff must be a whole number of bytes, at least 10 MiB, not ${bytesScannedCutoff}`);
    }
    const workGroup = new athena.CfnWorkGroup(this, 'AthenaWorkGroup', {
      name: `errata-${Stack.of(this).stackName}`,
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        bytesScannedCutoffPerQuery: bytesScannedCutoff,
        resultConfiguration: {
          outputLocation: this.buckets.events.s3UrlForObject('athena-results/'),
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
    eventsTable.addResourceDependency(glueDb);
    this.eventStore = { database: glueDb.ref, table: 'events', workGroup: workGroup.ref };

    // --- e-mail ------------------------------------------------------------------------
    const sender = props.senderEmail ?? 'errata@example.com';
    const senderIdentity = new ses.EmailIdentity(this, 'SenderIdentity', { identity: ses.Identity.email(sender) });

    // --- first-run setup secret ------------------------------------------------------------
    // `POST setup/` creates the first user; until one exists it asks for this secret, so only
    // whoever deployed the stack (and can read the secret) can take the installation over.
    // Letters and digits only: it is typed or pasted into the first-run page.
    this.setupSecret = new secretsmanager.Secret(this, 'SetupSecret', {
      description: 'Errata: the one-time secret the first-run setup page asks for',
      generateSecretString: {
        passwordLength: 40,
        excludePunctuation: true,
        includeSpace: false,
        // The same characters again, for emulators that ignore excludePunctuation (MiniStack).
        excludeCharacters: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
      },
      removalPolicy,
    });
    skip(this.setupSecret.node.defaultChild as secretsmanager.CfnSecret,
      { id: 'CKV_AWS_149', comment: 'The single-use setup secret is encrypted with the AWS-managed key; a customer-managed key would add $1/month for it alone.' });

    // --- webhooks ------------------------------------------------------------------------
    // Where alert webhooks may go (the API sends test deliveries, the notifier the alerts).
    const allowedNetworks = props.webhookAllowedNetworks ?? [];
    for (const cidr of allowedNetworks) {
      if (!/^[0-9A-Fa-f:.]+\/\d{1,3}$/.test(cidr)) throw new Error(`webhookAllowedNetworks: ${cidr} is not a CIDR (e.g. 10.0.0.0/8)`);
    }
    const webhooks = {
      WEBHOOK_ALLOW_HTTP: String(props.webhookAllowHttp ?? false),
      WEBHOOK_ALLOWED_NETWORKS: allowedNetworks.join(','),
    };

    // --- functions -----------------------------------------------------------------------
    const common = {
      DIRECTORY_TABLE: directory.tableName,
      ISSUES_TABLE: issues.tableName,
      EVENTS_TABLE: events.tableName,
      RAW_BUCKET: this.buckets.raw.bucketName,
      EVENTS_BUCKET: this.buckets.events.bucketName,
      RETENTION_DAYS: String(retentionDays),
      RUST_LOG: 'info',
    };
    const env: Record<FunctionName, Record<string, string>> = {
      ingest: {
        DIRECTORY_TABLE: common.DIRECTORY_TABLE,
        QUOTAS_TABLE: quotas.tableName,
        RAW_BUCKET: common.RAW_BUCKET,
        ENVELOPE_QUEUE_URL: this.queues.envelopes.queue.queueUrl,
        // Claim checks of envelopes too large for an SQS message (stored in RAW_BUCKET).
        LARGE_ENVELOPE_QUEUE_URL: this.queues.largeEnvelopes.queue.queueUrl,
        RUST_LOG: common.RUST_LOG,
      },
      processor: {
        DIRECTORY_TABLE: common.DIRECTORY_TABLE,
        ISSUES_TABLE: common.ISSUES_TABLE,
        EVENTS_TABLE: common.EVENTS_TABLE,
        RAW_BUCKET: common.RAW_BUCKET,
        EVENTS_BUCKET: common.EVENTS_BUCKET,
        RETENTION_DAYS: common.RETENTION_DAYS,
        // How long a batch can run: a batch that died is recounted once this is well past.
        WRITER_LEASE_SECONDS: String(fnSettings('processor').timeout.toSeconds()),
        QUOTAS_TABLE: quotas.tableName,
        NOTIFY_QUEUE_URL: this.queues.notifications.queue.queueUrl,
        SYMBOLICATION_QUEUE_URL: this.queues.symbolication.queue.queueUrl,
        ENVELOPE_DLQ_URL: this.queues.envelopes.dlq.queueUrl,
        RUST_LOG: common.RUST_LOG,
      },
      symbolicator: {
        DIRECTORY_TABLE: common.DIRECTORY_TABLE,
        DEBUG_FILES_BUCKET: this.buckets.debugFiles.bucketName,
        EVENTS_BUCKET: common.EVENTS_BUCKET,
        ENVELOPE_QUEUE_URL: this.queues.envelopes.queue.queueUrl,
        RUST_LOG: common.RUST_LOG,
      },
      api: {
        DIRECTORY_TABLE: common.DIRECTORY_TABLE,
        ISSUES_TABLE: common.ISSUES_TABLE,
        EVENTS_TABLE: common.EVENTS_TABLE,
        EVENTS_BUCKET: common.EVENTS_BUCKET,
        DEBUG_FILES_BUCKET: this.buckets.debugFiles.bucketName,
        NOTIFY_QUEUE_URL: this.queues.notifications.queue.queueUrl,
        ATHENA_DATABASE: glueDb.ref,
        ATHENA_WORKGROUP: workGroup.ref,
        // Login throttles and per-organization e-mail limits (expiring counters).
        QUOTAS_TABLE: quotas.tableName,
        // A CloudFormation dynamic reference, resolved at deploy time, so the value is in no
        // template; it does end up in the function's configuration. Acceptable: the secret is
        // single-use, only opens `POST setup/` until the first user exists, and is readable
        // only to principals who can read the function's configuration.
        SETUP_SECRET: this.setupSecret.secretValue.unsafeUnwrap(),
        // Limits a key or project created without explicit ones gets (`count/seconds`, '' none).
        DEFAULT_KEY_RATE_LIMIT: rateLimitSetting('defaultKeyRateLimit', props.defaultKeyRateLimit ?? DEFAULT_KEY_RATE_LIMIT),
        DEFAULT_PROJECT_QUOTA: rateLimitSetting('defaultProjectQuota', props.defaultProjectQuota ?? DEFAULT_PROJECT_QUOTA),
        ...webhooks,
        RUST_LOG: common.RUST_LOG,
      },
      notifier: {
        SENDER_EMAIL: sender,
        ISSUES_TABLE: common.ISSUES_TABLE,
        EVENTS_TABLE: common.EVENTS_TABLE,
        RETENTION_DAYS: common.RETENTION_DAYS,
        // Per-organization e-mail limits (expiring counters).
        QUOTAS_TABLE: quotas.tableName,
        ...webhooks,
        RUST_LOG: common.RUST_LOG,
      },
    };
    const fns = {} as Record<FunctionName, lambda.Function>;
    for (const name of FUNCTIONS) {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: logRetention,
        logGroupClass: props.logClass ?? logs.LogGroupClass.INFREQUENT_ACCESS,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const tuned = fnSettings(name);
      // Reserved by default; a function left without a reservation (0) says so to checkov.
      const skipUnreserved = tuned.reservedConcurrency === undefined;
      fns[name] = new lambda.Function(this, `${name[0].toUpperCase()}${name.slice(1)}Function`, {
        runtime: lambda.Runtime.PROVIDED_AL2023,
        handler: 'bootstrap',
        architecture,
        code: lambdaCode(props.lambdaDir, name),
        memorySize: tuned.memorySize,
        timeout: tuned.timeout,
        reservedConcurrentExecutions: tuned.reservedConcurrency,
        environment: env[name],
        logGroup,
        // The functions log JSON lines already. At WARN, Lambda's own START/END/REPORT lines
        // (about 300 bytes an invocation, billed as log ingestion) are left out.
        loggingFormat: lambda.LoggingFormat.JSON,
        systemLogLevelV2: lambda.SystemLogLevel.WARN,
        applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
        description: `Errata ${name}`,
      });
      if (skipUnreserved) {
        skip(fns[name].node.defaultChild as lambda.CfnFunction,
          { id: 'CKV_AWS_115', comment: `No reservation asked for (${name}ReservedConcurrency=0): an account must keep 100 unreserved, so a low limit leaves none to reserve.` });
      }
    }
    this.functions = fns;

    // --- least-privilege grants ------------------------------------------------------------
    // Each function gets exactly what its code calls today; a capability that needs more
    // (Athena for stats, SES for alerts, debug files for symbolication) adds its grant with it.
    //
    // S3 by key prefix: a function reads, writes and deletes only the prefixes its code names
    // (the `format!("<prefix>/…")` keys in functions/*/src and shared/). Listing (s3:ListBucket,
    // on the bucket) is allowed for the prefixes it reads and no others (`s3:prefix`): S3 checks
    // that permission, with the key as the prefix, when a read finds nothing, and answers 404
    // (NoSuchKey, which the code takes for "not there": a cache miss, a vanished file) only if
    // it holds; otherwise 403.
    const s3Access = (fn: lambda.Function, bucket: s3.Bucket, access: { read?: string[]; put?: string[]; delete?: string[] }) => {
      const objects = (prefixes: string[]) => prefixes.map((p) => bucket.arnForObjects(`${p}*`));
      if (access.read?.length) {
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: objects(access.read) }));
        fn.addToRolePolicy(new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': access.read.map((p) => `${p}*`) } },
        }));
      }
      if (access.put?.length) fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: objects(access.put) }));
      if (access.delete?.length) fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: objects(access.delete) }));
    };
    const { raw, events: eventData, debugFiles } = this.buckets;

    directory.grantReadData(fns.ingest);
    quotas.grant(fns.ingest, 'dynamodb:UpdateItem');
    this.queues.envelopes.queue.grantSendMessages(fns.ingest);
    this.queues.largeEnvelopes.queue.grantSendMessages(fns.ingest); // claim checks
    // Envelopes too large for SQS, under their project (claim checks).
    s3Access(fns.ingest, raw, { put: ['envelopes/'] });

    s3Access(fns.processor, raw, { read: ['envelopes/'] });
    directory.grantReadData(fns.processor); // project settings, alert rules, members to notify
    // Alert throttles and window counters (expiring items in the quotas table), and notices.
    quotas.grant(fns.processor, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    this.queues.notifications.queue.grantSendMessages(fns.processor);
    this.queues.symbolication.queue.grantSendMessages(fns.processor); // events to symbolicate
    this.queues.envelopes.dlq.grantSendMessages(fns.processor); // poison, parked with its reason
    issues.grantReadWriteData(fns.processor); // reads an issue when its state decides the write
    // Event index entries: read back while counting (a redelivery), and the hourly run purges
    // deleted issues' entries found through `by-issue`.
    events.grantReadWriteData(fns.processor);
    // Event bodies, attachments and Parquet rows in; compaction lists, reads and replaces the
    // Parquet files (it lists under parquet/events/ alone); the hourly run deletes the
    // attachments of deleted issues' events (listing each event's folder).
    s3Access(fns.processor, eventData, {
      put: ['bodies/', 'attachments/', 'parquet/'],
      read: ['parquet/', 'attachments/'],
      delete: ['parquet/', 'attachments/'],
    });

    // The symbolicator reads the project's debug files and source-map bundles, keeps their
    // caches beside them, reads minidumps, and hands symbolicated events back to the processor.
    directory.grantReadData(fns.symbolicator);
    s3Access(fns.symbolicator, debugFiles, { read: ['difs/', 'artifacts/', 'symcaches/'], put: ['symcaches/'] });
    s3Access(fns.symbolicator, eventData, { read: ['attachments/'] });
    this.queues.envelopes.queue.grantSendMessages(fns.symbolicator);

    // Accounts, organizations, projects, keys, sessions and invitations are written here.
    directory.grantReadWriteData(fns.api);
    this.queues.notifications.queue.grantSendMessages(fns.api); // invitation e-mails
    // Stats, tag distributions and tag search: Athena over the Glue table, results under
    // athena-results/ (the workgroup enforces that location). StopQueryExecution: a query the
    // API stops waiting for is stopped, not left to scan on.
    const stack = Stack.of(this);
    fns.api.addToRolePolicy(new iam.PolicyStatement({
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
      resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: workGroup.ref })],
    }));
    fns.api.addToRolePolicy(new iam.PolicyStatement({
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
      resources: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: glueDb.ref }),
        stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${glueDb.ref}/events` }),
      ],
    }));
    issues.grantReadData(fns.api);
    issues.grant(fns.api, 'dynamodb:UpdateItem'); // status changes (resolve, ignore…)
    events.grantReadData(fns.api);
    // Deleting an issue deletes its items and writes its purge marker, then takes its events'
    // index entries (found through `by-issue`, read above) off the issue, by key from the
    // tables: writes never name an index.
    fns.api.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:DeleteItem', 'dynamodb:PutItem'], resources: [issues.tableArn] }));
    fns.api.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [events.tableArn] }));
    // Login throttles and per-organization e-mail limits: expiring counters.
    quotas.grant(fns.api, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    // Event bodies and attachments (deleted with their issue); Athena runs with the API's
    // credentials, so the API reads the Parquet files and reads and writes the query results.
    s3Access(fns.api, eventData, {
      read: ['bodies/', 'attachments/', 'parquet/', 'athena-results/'],
      put: ['athena-results/'],
      delete: ['attachments/'],
    });
    // What else Athena asks of the results location: the bucket's region, and its multipart
    // uploads of large results (only Athena uploads in parts to this bucket).
    fns.api.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'], resources: [eventData.bucketArn] }));
    fns.api.addToRolePolicy(new iam.PolicyStatement({
      actions: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [eventData.arnForObjects('athena-results/*')],
    }));
    // Debug file uploads: chunks in (read back to assemble), assembled files and bundles out,
    // deletions of those (chunks expire after a day; SymCaches are the symbolicator's).
    s3Access(fns.api, debugFiles, { read: ['chunks/'], put: ['chunks/', 'difs/', 'artifacts/'], delete: ['difs/', 'artifacts/'] });

    // The notifier records each notification on its issue ("notified at").
    issues.grant(fns.notifier, 'dynamodb:PutItem');
    // Per-organization e-mail limits: expiring counters.
    quotas.grant(fns.notifier, 'dynamodb:UpdateItem');
    // The notifier mails from the stack's sender identity only.
    fns.notifier.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ses:SendEmail'],
      resources: [stack.formatArn({ service: 'ses', resource: 'identity', resourceName: senderIdentity.emailIdentityName })],
    }));

    // SQS consumers report per-message failures, so one bad message never fails its batch.
    // The processor's S3 writes, settings read and invocation are per batch: batches of up to
    // 100, gathered for at most a second, make them a tenth of what batches of 10 cost.
    //
    // Each envelope queue starts at most its own number of processors, together within the
    // processor's reservation: Lambda throttles invocations past it, and a throttled receive
    // counts towards maxReceiveCount (the message would end in the DLQ unprocessed).
    const maxConcurrency = {
      processorMaxConcurrency: props.processorMaxConcurrency ?? PROCESSOR_MAX_CONCURRENCY,
      largeEnvelopeMaxConcurrency: props.largeEnvelopeMaxConcurrency ?? LARGE_ENVELOPE_MAX_CONCURRENCY,
    };
    for (const [name, value] of Object.entries(maxConcurrency)) {
      if (!Number.isInteger(value) || value < 2 || value > 1000) throw new Error(`${name} must be a whole number from 2 to 1000, not ${value}`);
    }
    const processorReserved = fnSettings('processor').reservedConcurrency;
    const envelopeProcessors = maxConcurrency.processorMaxConcurrency + maxConcurrency.largeEnvelopeMaxConcurrency;
    if (processorReserved !== undefined && envelopeProcessors > processorReserved) {
      throw new Error(`processorMaxConcurrency + largeEnvelopeMaxConcurrency (${envelopeProcessors}) exceed the processor's reserved concurrency (${processorReserved})`);
    }
    fns.processor.addEventSource(new SqsEventSource(this.queues.envelopes.queue, {
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      reportBatchItemFailures: true,
      maxConcurrency: maxConcurrency.processorMaxConcurrency,
    }));
    // Large envelopes one at a time: a batch of them could run to the timeout and take small
    // envelopes of other tenants down with it.
    fns.processor.addEventSource(new SqsEventSource(this.queues.largeEnvelopes.queue, {
      batchSize: 1,
      reportBatchItemFailures: true,
      maxConcurrency: maxConcurrency.largeEnvelopeMaxConcurrency,
    }));
    fns.symbolicator.addEventSource(new SqsEventSource(this.queues.symbolication.queue, { batchSize: 5, reportBatchItemFailures: true }));
    fns.notifier.addEventSource(new SqsEventSource(this.queues.notifications.queue, { batchSize: 10, reportBatchItemFailures: true }));

    // Compaction of the Parquet event store: hourly, today's and yesterday's partitions.
    new events_.Rule(this, 'CompactionSchedule', {
      schedule: events_.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(fns.processor, { event: events_.RuleTargetInput.fromObject({ compact: {} }) })],
    });

    // --- HTTP API ------------------------------------------------------------------------
    this.api = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Errata: Sentry ingest and the /api/0/ JSON API',
      // Browsers send preflights for ingest (browser SDKs) and the API (the web app).
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST, apigwv2.CorsHttpMethod.PUT, apigwv2.CorsHttpMethod.DELETE, apigwv2.CorsHttpMethod.OPTIONS],
        allowHeaders: ['x-sentry-auth', 'x-requested-with', 'origin', 'accept', 'content-type', 'content-encoding', 'authorization', 'sentry-trace', 'baggage'],
        exposeHeaders: ['x-sentry-error', 'x-sentry-rate-limits', 'retry-after', 'link', 'x-hits'],
        maxAge: Duration.hours(1),
      },
    });
    const ingestIntegration = new HttpLambdaIntegration('IngestIntegration', fns.ingest);
    for (const endpoint of INGEST_ENDPOINTS) {
      const [route] = this.api.addRoutes({ path: `/api/{project_id}/${endpoint}`, methods: [apigwv2.HttpMethod.POST], integration: ingestIntegration });
      // SDKs post to `/envelope/` with the slash; the route construct refuses a trailing slash,
      // the API accepts it, so set the key directly.
      (route.node.defaultChild as apigwv2.CfnRoute).routeKey = `POST /api/{project_id}/${endpoint}/`;
    }
    this.api.addRoutes({ path: '/api/0/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration: new HttpLambdaIntegration('ApiIntegration', fns.api) });
    // Throttling (429 above it) and one JSON access-log line per request. The path is logged,
    // never the query string, which can carry a DSN key.
    const apiLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const stage = this.api.defaultStage!.node.defaultChild as apigwv2.CfnStage;
    const throttle = props.apiThrottle ?? { rateLimit: 1000, burstLimit: 2000 };
    stage.defaultRouteSettings = { throttlingRateLimit: throttle.rateLimit, throttlingBurstLimit: throttle.burstLimit };
    stage.accessLogSettings = {
      destinationArn: apiLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        time: '$context.requestTime',
        method: '$context.httpMethod',
        path: '$context.path',
        status: '$context.status',
        bytes: '$context.responseLength',
        latencyMs: '$context.responseLatency',
        integrationMs: '$context.integrationLatency',
        error: '$context.integrationErrorMessage',
      }),
    };
    // DSNs point at ingest's function URL: Lambda bills nothing for the URL, where API Gateway
    // bills every request (a million envelopes: $1.00, more than ingest's Lambda and SQS
    // together). The URL answers CORS itself, as the HTTP API does. A custom domain (publicUrl,
    // mapped to the HTTP API) replaces it; the API's ingest routes above take the same requests.
    this.ingestUrl = fns.ingest.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      cors: {
        allowedOrigins: ['*'],
        allowedMethods: [lambda.HttpMethod.POST],
        allowedHeaders: ['x-sentry-auth', 'x-requested-with', 'origin', 'accept', 'content-type', 'content-encoding', 'sentry-trace', 'baggage'],
        exposedHeaders: ['x-sentry-error', 'x-sentry-rate-limits', 'retry-after'],
        maxAge: Duration.hours(1),
      },
    });
    this.dsnBaseUrl = props.publicUrl ?? Fn.join('', ['https://', Fn.select(2, Fn.split('/', this.ingestUrl.url))]);
    fns.api.addEnvironment('DSN_URL', this.dsnBaseUrl);
    // The API's own public base (sentry-cli's chunk uploads): the custom domain, or the HTTP API.
    fns.api.addEnvironment('PUBLIC_URL', props.publicUrl ?? this.api.apiEndpoint);

    // --- web app: S3 behind CloudFront (origin access control), the API under /api/0/ -----
    // One origin for the app and its API keeps the session cookie (SameSite=Strict) first-party.
    if (props.cdn ?? true) {
      const certificate = props.certificateArn ? acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn) : undefined;
      if (!!props.domainName !== !!certificate) throw new Error('domainName and certificateArn go together');
      // The Content-Security-Policy web/index.html declares in its meta tag, as a header, plus
      // frame-ancestors, which works only in a header. connect-src names the HTTP API's own
      // origin where the meta tag allows any https origin: behind CloudFront the app calls its
      // API on its own origin ('self'), served elsewhere it calls the API's (config.json).
      const csp = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        `connect-src 'self' ${this.api.apiEndpoint}`,
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
      ].join('; ');
      const headers = new cloudfront.ResponseHeadersPolicy(this, 'WebHeaders', {
        securityHeadersBehavior: {
          contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
          strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, preload: true, override: true },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
          referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        },
      });
      const apiHost = Fn.select(2, Fn.split('/', this.api.apiEndpoint));
      const distribution = new cloudfront.Distribution(this, 'Web', {
        comment: 'Errata web app and its API',
        defaultRootObject: 'index.html',
        defaultBehavior: {
          origin: origins.S3BucketOrigin.withOriginAccessControl(this.buckets.web),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          responseHeadersPolicy: headers,
        },
        additionalBehaviors: {
          '/api/0/*': {
            origin: new origins.HttpOrigin(apiHost, { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY }),
            viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
            cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
            originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            responseHeadersPolicy: headers,
          },
        },
        domainNames: props.domainName ? [props.domainName] : undefined,
        certificate,
        minimumProtocolVersion: certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
        priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
        httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
        webAclId: props.webAclId,
      });
      if (!certificate) {
        skip(distribution.node.defaultChild as cloudfront.CfnDistribution,
          { id: 'CKV2_AWS_42', comment: 'No custom domain given: the default *.cloudfront.net certificate serves the app.' },
          { id: 'CKV_AWS_174', comment: 'The default certificate cannot set a minimum TLS version; with domainName and certificateArn it is TLS 1.2.' });
      }
      this.distribution = distribution;
    }
    const host = props.domainName ?? this.distribution?.distributionDomainName;
    this.webUrl = props.webUrl ?? (host ? `https://${host}/` : '');
    // Links in API answers and e-mails: the app's routes follow the `#`.
    const links = props.webUrl ?? (host ? `https://${host}/#` : '');
    fns.api.addEnvironment('WEB_URL', links);
    fns.processor.addEnvironment('WEB_URL', links);

    if (props.webAssetsDir) {
      // The built app and its runtime config; CloudFront forgets its copies on each deploy.
      new s3deploy.BucketDeployment(this, 'WebDeployment', {
        destinationBucket: this.buckets.web,
        sources: [
          s3deploy.Source.asset(props.webAssetsDir),
          s3deploy.Source.jsonData('config.json', {
            api: this.distribution ? '' : this.api.apiEndpoint,
            ...props.webDefaults,
          }),
        ],
        cacheControl: [s3deploy.CacheControl.noCache()],
        distribution: this.distribution,
        distributionPaths: this.distribution ? ['/*'] : undefined,
        memoryLimit: 256,
      });
      // Its handler is a stack-level singleton, outside this construct.
      for (const child of Stack.of(this).node.children) {
        if (child.node.id.startsWith('Custom::CDKBucketDeployment')) Aspects.of(child).add(new CheckovSkips(DEPLOYMENT_HANDLER_SKIPS));
      }
    }

    // --- alarms ----------------------------------------------------------------------------
    // Anything in a dead-letter queue is work that failed five times: someone should look.
    // A function's errors are failed invocations (a handler that reports per-message
    // failures still succeeds). Both publish to one topic, e-mailed when alarmEmail is set.
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      displayName: 'Errata alarms',
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const alarmAction = new cwActions.SnsAction(this.alarmTopic);
    for (const [name, { dlq }] of Object.entries(this.queues)) {
      const alarm = new cloudwatch.Alarm(this, `${name}DlqAlarm`, {
        alarmDescription: `Messages in the ${name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)} dead-letter queue: they failed five times and wait for a look (and a redrive).`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(alarmAction);
    }
    for (const name of FUNCTIONS) {
      const alarm = new cloudwatch.Alarm(this, `${name}ErrorsAlarm`, {
        alarmDescription: `The ${name} function failed invocations in the last 5 minutes.`,
        metric: fns[name].metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(alarmAction);
    }
  }
}
