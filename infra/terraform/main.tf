# Errata's AWS footprint: the same resources, permissions and environment as the CDK construct
# (infra/cdk/lib/errata.ts); tests/parity.py checks it. Storage, queues and the event store are
# here; functions.tf, iam.tf, api.tf, web.tf and alarms.tf hold the rest.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

# --- buckets: SSE-S3, no public access, TLS only, server access logs to one log bucket -------

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log bucket itself.
  #checkov:skip=CKV_AWS_21:Access logs are written once and expire after 90 days; versions would add nothing.
  #checkov:skip=CKV_AWS_144:Cross-region replication of access logs is not needed; they expire after 90 days.
  #checkov:skip=CKV_AWS_145:SSE-S3 is the encryption S3 server access logging supports for its target.
  #checkov:skip=CKV2_AWS_62:Nothing needs to react to new access-log objects.
  bucket_prefix = "${var.name_prefix}-access-logs-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket" "raw" {
  #checkov:skip=CKV_AWS_21:Claim-check payloads live minutes and expire after 14 days; versions would only keep deleted data.
  #checkov:skip=CKV_AWS_144:Transient payloads; replication would copy data that is deleted within minutes.
  #checkov:skip=CKV_AWS_145:SSE-S3 (S3-managed keys) encrypts at rest without KMS request costs.
  #checkov:skip=CKV2_AWS_62:The processor is told about payloads through SQS, not S3 events.
  bucket_prefix = "${var.name_prefix}-raw-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket" "events" {
  #checkov:skip=CKV_AWS_21:Compaction rewrites the Parquet files hourly and retention deletes them: versions would keep every deleted byte.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a team's choice (cost); point-in-time copies of tables exist.
  #checkov:skip=CKV_AWS_145:SSE-S3 (S3-managed keys) encrypts at rest without KMS request costs.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to new event files; queries read them.
  bucket_prefix = "${var.name_prefix}-events-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket" "debug_files" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a team's choice (cost).
  #checkov:skip=CKV_AWS_145:SSE-S3 (S3-managed keys) encrypts at rest without KMS request costs.
  #checkov:skip=CKV2_AWS_62:Uploads are indexed by the API as they are assembled, not by S3 events.
  bucket_prefix = "${var.name_prefix}-debug-files-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket" "web" {
  #checkov:skip=CKV_AWS_144:The web app is rebuilt from source; replication adds nothing.
  #checkov:skip=CKV_AWS_145:SSE-S3: CloudFront's origin access control reads SSE-S3 objects without a KMS grant.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to new web files.
  bucket_prefix = "${var.name_prefix}-web-"
  force_destroy = var.force_destroy
  tags          = var.tags
}

locals {
  bucket_ids = {
    raw         = aws_s3_bucket.raw.id
    events      = aws_s3_bucket.events.id
    debug_files = aws_s3_bucket.debug_files.id
    web         = aws_s3_bucket.web.id
    access_logs = aws_s3_bucket.access_logs.id
  }
  bucket_arns = {
    raw         = aws_s3_bucket.raw.arn
    events      = aws_s3_bucket.events.arn
    debug_files = aws_s3_bucket.debug_files.arn
    web         = aws_s3_bucket.web.arn
    access_logs = aws_s3_bucket.access_logs.arn
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "all" {
  for_each = local.bucket_ids
  bucket   = each.value
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "all" {
  for_each                = local.bucket_ids
  bucket                  = each.value
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Written out per bucket (not for_each) so scanners can follow each bucket to its settings.
resource "aws_s3_bucket_logging" "raw" {
  bucket        = aws_s3_bucket.raw.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "raw/"
}

resource "aws_s3_bucket_logging" "events" {
  bucket        = aws_s3_bucket.events.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "events/"
}

resource "aws_s3_bucket_logging" "debug_files" {
  bucket        = aws_s3_bucket.debug_files.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "debug_files/"
}

resource "aws_s3_bucket_logging" "web" {
  bucket        = aws_s3_bucket.web.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "web/"
}

# Uploaded debug files and the web app's files are kept with their earlier versions a month.
resource "aws_s3_bucket_versioning" "debug_files" {
  bucket = aws_s3_bucket.debug_files.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_versioning" "web" {
  bucket = aws_s3_bucket.web.id
  versioning_configuration {
    status = "Enabled"
  }
}

# Envelopes too large for an SQS message wait in `raw` until processed (claim check).
resource "aws_s3_bucket_lifecycle_configuration" "raw" {
  bucket = aws_s3_bucket.raw.id
  rule {
    id     = "retention"
    status = "Enabled"
    filter {}
    expiration {
      days = 14
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "events" {
  bucket = aws_s3_bucket.events.id
  rule {
    id     = "retention"
    status = "Enabled"
    filter {}
    expiration {
      days = var.retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "debug_files" {
  bucket = aws_s3_bucket.debug_files.id
  # Upload chunks are only needed until their file is assembled.
  rule {
    id     = "chunks"
    status = "Enabled"
    filter {
      prefix = "chunks/"
    }
    expiration {
      days = 1
    }
  }
  rule {
    id     = "old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "web" {
  bucket = aws_s3_bucket.web.id
  rule {
    id     = "old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "retention"
    status = "Enabled"
    filter {}
    expiration {
      days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# TLS only, for every bucket; plus what each bucket's readers need.
data "aws_iam_policy_document" "bucket" {
  for_each = local.bucket_arns

  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = each.key == "access_logs" ? [1] : []
    content {
      sid       = "ServerAccessLogs"
      actions   = ["s3:PutObject"]
      resources = ["${each.value}/*"]
      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "web" && var.cdn ? [1] : []
    content {
      sid       = "CloudFrontReads"
      actions   = ["s3:GetObject"]
      resources = ["${each.value}/*"]
      principals {
        type        = "Service"
        identifiers = ["cloudfront.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "AWS:SourceArn"
        values   = [aws_cloudfront_distribution.web[0].arn]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "all" {
  for_each   = local.bucket_ids
  bucket     = each.value
  policy     = data.aws_iam_policy_document.bucket[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.all]
}

# --- tables: on demand, encrypted, point-in-time recovery ------------------------------------

resource "aws_dynamodb_table" "directory" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed key (SSE, KMS); a customer-managed key is optional.
  name         = "${var.name_prefix}-directory"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  # Sessions and invitations carry `expires_at`; DynamoDB deletes them after it.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  server_side_encryption {
    enabled = true
  }
  point_in_time_recovery {
    enabled = true
  }
  tags = var.tags
}

resource "aws_dynamodb_table" "issues" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed key (SSE, KMS); a customer-managed key is optional.
  name         = "${var.name_prefix}-issues"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "issue_id"
    type = "N"
  }
  attribute {
    name = "seen_day"
    type = "S"
  }
  attribute {
    name = "list_seen"
    type = "N"
  }
  attribute {
    name = "first_day"
    type = "S"
  }
  attribute {
    name = "first_seen"
    type = "N"
  }
  # DynamoDB bills a write to every index whose copy of an item changes, and every counted
  # event changes its issue: the issues' indexes hold keys only, and lists read the issues
  # from the table. by-last-seen orders by the hour of the last sighting (list_seen), so a
  # count moves an issue in it once an hour, not with every event.
  global_secondary_index {
    name            = "by-id"
    hash_key        = "issue_id"
    projection_type = "KEYS_ONLY"
  }
  # Issue lists: one partition per project, status and day of last (first) sighting.
  global_secondary_index {
    name            = "by-last-seen"
    hash_key        = "seen_day"
    range_key       = "list_seen"
    projection_type = "KEYS_ONLY"
  }
  global_secondary_index {
    name            = "by-first-seen"
    hash_key        = "first_day"
    range_key       = "first_seen"
    projection_type = "KEYS_ONLY"
  }
  server_side_encryption {
    enabled = true
  }
  point_in_time_recovery {
    enabled = true
  }
  tags = var.tags
}

resource "aws_dynamodb_table" "events" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed key (SSE, KMS); a customer-managed key is optional.
  name         = "${var.name_prefix}-events"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "issue_id"
    type = "N"
  }
  attribute {
    name = "ts"
    type = "N"
  }
  global_secondary_index {
    name            = "by-issue"
    hash_key        = "issue_id"
    range_key       = "ts"
    projection_type = "ALL"
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  server_side_encryption {
    enabled = true
  }
  point_in_time_recovery {
    enabled = true
  }
  tags = var.tags
}

# Rate-limit counters and alert claims: one item per key or project and window, gone after it.
resource "aws_dynamodb_table" "quotas" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed key (SSE, KMS); a customer-managed key is optional.
  name         = "${var.name_prefix}-quotas"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  server_side_encryption {
    enabled = true
  }
  point_in_time_recovery {
    enabled = true
  }
  tags = var.tags
}

# --- queues, each with its dead-letter queue; SSE-SQS, TLS only --------------------------------

# Names use hyphens (errata-large-envelopes), keys underscores (large_envelopes).
resource "aws_sqs_queue" "dlq" {
  #checkov:skip=CKV_AWS_27:Encrypted at rest with SQS-managed SSE (SSE-SQS); checkov only recognizes KMS keys.
  for_each                  = local.queues
  name                      = "${var.name_prefix}-${replace(each.key, "_", "-")}-dlq"
  message_retention_seconds = 14 * 24 * 3600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "queue" {
  #checkov:skip=CKV_AWS_27:Encrypted at rest with SQS-managed SSE (SSE-SQS); checkov only recognizes KMS keys.
  for_each                   = local.queues
  name                       = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  message_retention_seconds  = 4 * 24 * 3600
  sqs_managed_sse_enabled    = true
  # Six times the consumer's timeout, as AWS advises for Lambda consumers.
  visibility_timeout_seconds = lookup(var.queue_visibility_seconds, each.key, 6 * local.function_settings[each.value.consumer].timeout)
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

data "aws_iam_policy_document" "queue_tls" {
  for_each = merge(
    { for k, q in aws_sqs_queue.queue : k => q.arn },
    { for k, q in aws_sqs_queue.dlq : "${k}-dlq" => q.arn },
  )
  statement {
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [each.value]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "tls" {
  for_each  = data.aws_iam_policy_document.queue_tls
  queue_url = endswith(each.key, "-dlq") ? aws_sqs_queue.dlq[trimsuffix(each.key, "-dlq")].id : aws_sqs_queue.queue[each.key].id
  policy    = each.value.json
}

# --- the event store: Parquet on S3, a Glue table with partition projection, Athena ------------

resource "aws_glue_catalog_database" "events" {
  name        = local.glue_database
  description = "Errata event store"
}

resource "aws_glue_catalog_table" "events" {
  name          = "events"
  database_name = aws_glue_catalog_database.events.name
  table_type    = "EXTERNAL_TABLE"

  # Partition projection: Athena derives partitions from the key layout, so nothing has to
  # register a new project or day.
  parameters = {
    classification              = "parquet"
    EXTERNAL                    = "TRUE"
    "projection.enabled"        = "true"
    "projection.project_id.type"  = "integer"
    "projection.project_id.range" = "1,1000000000"
    "projection.dt.type"        = "date"
    "projection.dt.format"      = "yyyy-MM-dd"
    "projection.dt.range"       = "2020-01-01,NOW"
    "storage.location.template" = "s3://${aws_s3_bucket.events.id}/parquet/events/project_id=$${project_id}/dt=$${dt}/"
  }

  partition_keys {
    name = "project_id"
    type = "bigint"
  }
  partition_keys {
    name = "dt"
    type = "string"
  }

  storage_descriptor {
    location      = "s3://${aws_s3_bucket.events.id}/parquet/events/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }
    # The processor writes exactly these columns (shared/rows/columns.json is shared with it).
    dynamic "columns" {
      for_each = local.event_columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}

# The workgroup's settings bind every query (enforced): results under athena-results/, and a cap
# on what one query may scan, so a query that misses its partitions costs cents.
resource "aws_athena_workgroup" "events" {
  name          = var.name_prefix
  force_destroy = true
  configuration {
    enforce_workgroup_configuration = true
    bytes_scanned_cutoff_per_query  = var.athena_bytes_scanned_cutoff
    result_configuration {
      output_location = "s3://${aws_s3_bucket.events.id}/athena-results/"
      encryption_configuration {
        encryption_option = "SSE_S3"
      }
    }
  }
  tags = var.tags
}

# --- e-mail ----------------------------------------------------------------------------------

resource "aws_sesv2_email_identity" "sender" {
  email_identity = var.sender_email
  tags           = var.tags
}

# --- first-run setup secret ------------------------------------------------------------------
# `POST setup/` creates the first user; until one exists it asks for this secret, so only whoever
# deployed the module (and can read the secret) can take the installation over. Letters and
# digits only: it is typed or pasted into the first-run page.

resource "random_password" "setup" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "setup" {
  #checkov:skip=CKV_AWS_149:The single-use setup secret is encrypted with the AWS-managed key; a customer-managed key would add $1/month for it alone.
  #checkov:skip=CKV2_AWS_57:The setup secret is single-use: it only opens first-run setup until the first user exists, so there is nothing to rotate.
  name_prefix             = "${var.name_prefix}-setup-"
  description             = "Errata: the one-time secret the first-run setup page asks for"
  recovery_window_in_days = var.force_destroy ? 0 : 30
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "setup" {
  secret_id     = aws_secretsmanager_secret.setup.id
  secret_string = random_password.setup.result
}
