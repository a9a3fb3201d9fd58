import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { Errata, ErrataProps } from './errata.js';

export interface ErrataStackProps extends StackProps, ErrataProps {
  readonly lambdaDir: string;
  readonly architecture: lambda.Architecture;
}

/** The stack `make up` deploys locally and `cdk deploy` deploys to AWS. */
export class ErrataStack extends Stack {
  readonly errata: Errata;

  constructor(scope: Construct, id: string, props: ErrataStackProps) {
    super(scope, id, props);
    const errata = (this.errata = new Errata(this, 'Errata', props));
    const outputs: Record<string, string> = {
      // What a team needs: the base of its DSNs and where people sign in.
      DsnBaseUrl: errata.dsnBaseUrl,
      IngestUrl: errata.ingestUrl.url,
      ApiId: errata.api.apiId,
      ApiEndpoint: errata.api.apiEndpoint,
      DirectoryTable: errata.tables.directory.tableName,
      IssuesTable: errata.tables.issues.tableName,
      EventsTable: errata.tables.events.tableName,
      QuotasTable: errata.tables.quotas.tableName,
      WebBucket: errata.buckets.web.bucketName,
      EventsBucket: errata.buckets.events.bucketName,
      AthenaDatabase: errata.eventStore.database,
      AthenaWorkGroup: errata.eventStore.workGroup,
      ProcessorFunction: errata.functions.processor.functionName,
      ApiFunction: errata.functions.api.functionName,
      NotificationQueueUrl: errata.queues.notifications.queue.queueUrl,
      AlarmTopic: errata.alarmTopic.topicArn,
      EnvelopeQueueUrl: errata.queues.envelopes.queue.queueUrl,
      EnvelopeDlqUrl: errata.queues.envelopes.dlq.queueUrl,
      LargeEnvelopeDlqUrl: errata.queues.largeEnvelopes.dlq.queueUrl,
    };
    // The first-run page asks for the setup secret: where it is and how to read it (never the
    // value itself, which an output would print to every deploy log).
    outputs.SetupSecretArn = errata.setupSecret.secretArn;
    outputs.SetupSecretCommand = `aws secretsmanager get-secret-value --secret-id ${errata.setupSecret.secretArn} --query SecretString --output text`;
    if (errata.webUrl) outputs.WebUrl = errata.webUrl;
    if (errata.distribution) outputs.WebDistribution = errata.distribution.distributionId;
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}
