// The checkov findings this stack accepts, each with its reason, written into the template as
// resource metadata (`Metadata.checkov.skip`) so `checkov` reports them as skipped, not passed.
// Everything else checkov checks must pass (`scripts/test.sh infra` runs it on the template).
import { CfnResource, IAspect } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

export interface Skip {
  id: string;
  comment: string;
}

const LAMBDA: Skip[] = [
  { id: 'CKV_AWS_117', comment: 'No VPC: the functions reach only AWS APIs; a VPC would add NAT cost and cold-start time and protect nothing.' },
  { id: 'CKV_AWS_173', comment: "Environment variables hold resource names and settings, and the API's single-use setup secret (it only opens first-run setup until the first user exists); Lambda encrypts them at rest with its AWS-managed key." },
  { id: 'CKV_AWS_116', comment: 'Queue consumers have their DLQ on the source queue (redrive policy); the HTTP functions are invoked synchronously, never asynchronously.' },
];

// CKV_AWS_115 (reserved concurrency) is not skipped here: every function has a reservation by
// default, and only one deployed without (`<fn>ReservedConcurrency=0`) skips it (lib/errata.ts).

/** Skips by resource type; a resource can add more with `skip()`. */
export const SKIPS: Record<string, Skip[]> = {
  'AWS::Lambda::Function': LAMBDA,
  'AWS::DynamoDB::Table': [
    { id: 'CKV_AWS_119', comment: 'Encrypted at rest with the AWS-managed key (SSE, KMS); a customer-managed key is an extra $1/month and per-request cost, optional.' },
  ],
  'AWS::Logs::LogGroup': [
    { id: 'CKV_AWS_158', comment: 'CloudWatch Logs encrypts log data at rest by default; a customer-managed key is optional.' },
  ],
  'AWS::Lambda::Url': [
    { id: 'CKV_AWS_258', comment: 'Sentry SDKs cannot sign requests: they authenticate with their DSN key, which ingest checks in constant time.' },
  ],
  'AWS::SQS::Queue': [
    { id: 'CKV_AWS_27', comment: 'Encrypted at rest with SQS-managed SSE (SSE-SQS); checkov only recognizes KMS keys.' },
  ],
  'AWS::CloudFront::Distribution': [
    { id: 'CKV_AWS_68', comment: 'No WAF by default (a web ACL costs $5+/month); attach one with the webAclId input.' },
    { id: 'CKV2_AWS_47', comment: 'No WAF by default (see CKV_AWS_68).' },
    { id: 'CKV_AWS_310', comment: 'One origin per behaviour: S3 and the API are regional and have no failover pair.' },
    { id: 'CKV_AWS_86', comment: 'The web app is static files; the API behind it writes its own access log (API Gateway stage).' },
  ],
};

export function skip(resource: CfnResource, ...skips: Skip[]): void {
  const current = (resource.getMetadata('checkov') as { skip?: Skip[] } | undefined)?.skip ?? [];
  const merged = [...current, ...skips.filter((s) => !current.some((c) => c.id === s.id))];
  resource.addMetadata('checkov', { skip: merged });
}

/** CDK's own handler that copies the web app into its bucket during a deploy (BucketDeployment). */
export const DEPLOYMENT_HANDLER_SKIPS: Record<string, Skip[]> = {
  'AWS::Lambda::Function': [
    { id: 'CKV_AWS_117', comment: "CDK's deploy-time copy handler reaches only S3 and CloudFront APIs; no VPC needed." },
    { id: 'CKV_AWS_173', comment: "CDK's deploy-time copy handler has no secrets in its environment." },
    { id: 'CKV_AWS_116', comment: 'CloudFormation invokes the deploy-time copy handler synchronously and reports its failure; no DLQ applies.' },
    { id: 'CKV_AWS_115', comment: 'Runs once per deploy; reserving concurrency for it would take it from the account for nothing.' },
  ],
  'AWS::IAM::Policy': [
    { id: 'CKV_AWS_111', comment: 'cloudfront:CreateInvalidation and GetInvalidation take no resource scope in the handler CDK generates; its S3 access is limited to the two buckets.' },
  ],
};

/** Adds the per-type skips (`table`, default SKIPS) to every resource in scope. */
export class CheckovSkips implements IAspect {
  constructor(private readonly table: Record<string, Skip[]> = SKIPS) {}

  visit(node: IConstruct): void {
    if (node instanceof CfnResource && this.table[node.cfnResourceType]) skip(node, ...this.table[node.cfnResourceType]);
  }
}
