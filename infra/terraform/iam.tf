# Least privilege: each function's role allows exactly what its code calls, the same grants as
# the CDK construct (tests/parity.py compares them action by action, resource by resource and
# condition by condition).
#
# S3 by key prefix: a function reads, writes and deletes only the prefixes its code names (the
# `format!("<prefix>/…")` keys in functions/*/src and shared/). Listing (s3:ListBucket, on the
# bucket) is allowed for the prefixes it reads and no others (s3:prefix): S3 checks that
# permission, with the key as the prefix, when a read finds nothing, and answers 404
# (NoSuchKey, which the code takes for "not there": a cache miss, a vanished file) only if it
# holds; otherwise 403.

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "fn" {
  for_each           = toset(local.function_names)
  name_prefix        = "${var.name_prefix}-${each.key}-"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "logs" {
  for_each   = toset(local.function_names)
  role       = aws_iam_role.fn[each.key].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

locals {
  # The action sets the grants use (the same lists CDK's grant helpers expand to).
  table_read   = ["dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"]
  table_stream = ["dynamodb:GetRecords", "dynamodb:GetShardIterator"]
  table_write  = ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
  table_rw     = ["dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
  queue_send   = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
  queue_consume = ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]

  issues_and_indexes = [aws_dynamodb_table.issues.arn, "${aws_dynamodb_table.issues.arn}/index/*"]
  events_and_indexes = [aws_dynamodb_table.events.arn, "${aws_dynamodb_table.events.arn}/index/*"]
  region             = data.aws_region.current.name
  account            = data.aws_caller_identity.current.account_id
  partition          = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "DirectoryRead"
    actions   = local.table_read
    resources = [aws_dynamodb_table.directory.arn]
  }
  statement {
    sid       = "DirectoryStream"
    actions   = local.table_stream
    resources = [aws_dynamodb_table.directory.arn]
  }
  statement {
    sid       = "QuotaCounters"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.quotas.arn]
  }
  statement {
    sid       = "Envelopes"
    actions   = local.queue_send
    resources = [aws_sqs_queue.queue["envelopes"].arn]
  }
  # Claim checks of envelopes too large for SQS.
  statement {
    sid       = "LargeEnvelopes"
    actions   = local.queue_send
    resources = [aws_sqs_queue.queue["large_envelopes"].arn]
  }
  # Envelopes too large for SQS, under their project (claim checks).
  statement {
    sid       = "RawPayloads"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.raw.arn}/envelopes/*"]
  }
}

data "aws_iam_policy_document" "processor" {
  statement {
    sid       = "RawPayloads"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.raw.arn}/envelopes/*"]
  }
  statement {
    sid       = "RawPayloadsList"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.raw.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["envelopes/*"]
    }
  }
  # Project settings, alert rules, members to notify.
  statement {
    sid       = "DirectoryRead"
    actions   = local.table_read
    resources = [aws_dynamodb_table.directory.arn]
  }
  statement {
    sid       = "DirectoryStream"
    actions   = local.table_stream
    resources = [aws_dynamodb_table.directory.arn]
  }
  # Alert throttles and window counters (expiring items in the quotas table).
  statement {
    sid       = "AlertState"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.quotas.arn]
  }
  statement {
    sid       = "Notices"
    actions   = local.queue_send
    resources = [aws_sqs_queue.queue["notifications"].arn]
  }
  statement {
    sid       = "EventsToSymbolicate"
    actions   = local.queue_send
    resources = [aws_sqs_queue.queue["symbolication"].arn]
  }
  # Poison messages are parked in the envelope DLQ with their reason.
  statement {
    sid       = "PoisonToDeadLetters"
    actions   = local.queue_send
    resources = [aws_sqs_queue.dlq["envelopes"].arn]
  }
  # Event bodies, attachments and Parquet rows.
  statement {
    sid     = "EventData"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.events.arn}/bodies/*",
      "${aws_s3_bucket.events.arn}/attachments/*",
      "${aws_s3_bucket.events.arn}/parquet/*",
    ]
  }
  statement {
    sid       = "Issues"
    actions   = local.table_rw
    resources = local.issues_and_indexes
  }
  statement {
    sid       = "IssuesStream"
    actions   = local.table_stream
    resources = local.issues_and_indexes
  }
  # Event index entries: read back while counting (a redelivery), and the hourly run purges
  # deleted issues' entries found through by-issue.
  statement {
    sid       = "EventIndex"
    actions   = local.table_rw
    resources = local.events_and_indexes
  }
  statement {
    sid       = "EventIndexStream"
    actions   = local.table_stream
    resources = local.events_and_indexes
  }
  # Compaction lists, reads and replaces the Parquet files (it lists under parquet/events/
  # alone); the hourly run deletes the attachments of deleted issues' events (listing each
  # event's folder).
  statement {
    sid     = "CompactionRead"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.events.arn}/parquet/*",
      "${aws_s3_bucket.events.arn}/attachments/*",
    ]
  }
  statement {
    sid       = "CompactionList"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.events.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["parquet/*", "attachments/*"]
    }
  }
  statement {
    sid     = "CompactionDelete"
    actions = ["s3:DeleteObject"]
    resources = [
      "${aws_s3_bucket.events.arn}/parquet/*",
      "${aws_s3_bucket.events.arn}/attachments/*",
    ]
  }
  statement {
    sid       = "EnvelopesConsume"
    actions   = local.queue_consume
    resources = [aws_sqs_queue.queue["envelopes"].arn]
  }
  statement {
    sid       = "LargeEnvelopesConsume"
    actions   = local.queue_consume
    resources = [aws_sqs_queue.queue["large_envelopes"].arn]
  }
}

data "aws_iam_policy_document" "symbolicator" {
  # The project's debug files and source-map bundles; their caches are kept beside them.
  statement {
    sid       = "DirectoryRead"
    actions   = local.table_read
    resources = [aws_dynamodb_table.directory.arn]
  }
  statement {
    sid       = "DirectoryStream"
    actions   = local.table_stream
    resources = [aws_dynamodb_table.directory.arn]
  }
  statement {
    sid     = "DebugFilesRead"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.debug_files.arn}/difs/*",
      "${aws_s3_bucket.debug_files.arn}/artifacts/*",
      "${aws_s3_bucket.debug_files.arn}/symcaches/*",
    ]
  }
  statement {
    sid       = "DebugFilesList"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.debug_files.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["difs/*", "artifacts/*", "symcaches/*"]
    }
  }
  statement {
    sid       = "SymCaches"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.debug_files.arn}/symcaches/*"]
  }
  # Minidumps, stored as attachments by the processor.
  statement {
    sid       = "Minidumps"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.events.arn}/attachments/*"]
  }
  statement {
    sid       = "MinidumpsList"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.events.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["attachments/*"]
    }
  }
  # Symbolicated events go back to the processor.
  statement {
    sid       = "Envelopes"
    actions   = local.queue_send
    resources = [aws_sqs_queue.queue["envelopes"].arn]
  }
  statement {
    sid       = "SymbolicationConsume"
    actions   = local.queue_consume
    resources = [aws_sqs_queue.queue["symbolication"].arn]
  }
}

data "aws_iam_policy_document" "api" {
  # Accounts, organizations, projects, keys, sessions and invitations.
  statement {
    sid       = "Directory"
    actions   = local.table_rw
    resources = [aws_dynamodb_table.directory.arn]
  }
  statement {
    sid       = "DirectoryStream"
    actions   = local.table_stream
    resources = [aws_dynamodb_table.directory.arn]
  }
  statement {
    sid       = "InvitationMail"
    actions   = local.queue_send
    resources = [aws_sqs_queue.queue["notifications"].arn]
  }
  # Stats, tag distributions and tag search: Athena over the Glue table. StopQueryExecution:
  # a query the API stops waiting for is stopped, not left to scan on.
  statement {
    sid       = "Athena"
    actions   = ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"]
    resources = ["arn:${local.partition}:athena:${local.region}:${local.account}:workgroup/${aws_athena_workgroup.events.name}"]
  }
  statement {
    sid     = "Glue"
    actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account}:catalog",
      "arn:${local.partition}:glue:${local.region}:${local.account}:database/${aws_glue_catalog_database.events.name}",
      "arn:${local.partition}:glue:${local.region}:${local.account}:table/${aws_glue_catalog_database.events.name}/events",
    ]
  }
  statement {
    sid       = "IssuesRead"
    actions   = local.table_read
    resources = local.issues_and_indexes
  }
  statement {
    sid       = "IssuesStream"
    actions   = local.table_stream
    resources = local.issues_and_indexes
  }
  # Status changes (resolve, ignore…).
  statement {
    sid       = "IssueStatus"
    actions   = ["dynamodb:UpdateItem"]
    resources = local.issues_and_indexes
  }
  statement {
    sid       = "EventIndexRead"
    actions   = local.table_read
    resources = local.events_and_indexes
  }
  statement {
    sid       = "EventIndexStream"
    actions   = local.table_stream
    resources = local.events_and_indexes
  }
  # Deleting an issue deletes its items and writes its purge marker, then takes its events'
  # index entries (found through by-issue, read above) off the issue, by key from the tables:
  # writes never name an index.
  statement {
    sid       = "IssueDelete"
    actions   = ["dynamodb:DeleteItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.issues.arn]
  }
  statement {
    sid       = "EventIndexPurge"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.events.arn]
  }
  # Login throttles and per-organization e-mail limits: expiring counters.
  statement {
    sid       = "Throttles"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.quotas.arn]
  }
  # Event bodies and attachments (deleted with their issue); Athena runs with the API's
  # credentials, so the API reads the Parquet files and reads and writes the query results.
  statement {
    sid     = "EventDataRead"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.events.arn}/bodies/*",
      "${aws_s3_bucket.events.arn}/attachments/*",
      "${aws_s3_bucket.events.arn}/parquet/*",
      "${aws_s3_bucket.events.arn}/athena-results/*",
    ]
  }
  statement {
    sid       = "EventDataList"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.events.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["bodies/*", "attachments/*", "parquet/*", "athena-results/*"]
    }
  }
  statement {
    sid       = "AthenaResults"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.events.arn}/athena-results/*"]
  }
  statement {
    sid       = "AttachmentsDelete"
    actions   = ["s3:DeleteObject"]
    resources = ["${aws_s3_bucket.events.arn}/attachments/*"]
  }
  # What else Athena asks of the results location: the bucket's region, and its multipart
  # uploads of large results (only Athena uploads in parts to this bucket).
  statement {
    sid       = "AthenaResultsBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    resources = [aws_s3_bucket.events.arn]
  }
  statement {
    sid       = "AthenaResultsUploads"
    actions   = ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${aws_s3_bucket.events.arn}/athena-results/*"]
  }
  # Debug file uploads: chunks in (read back to assemble), assembled files and bundles out,
  # deletions of those (chunks expire after a day; SymCaches are the symbolicator's).
  statement {
    sid       = "ChunksRead"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.debug_files.arn}/chunks/*"]
  }
  statement {
    sid       = "ChunksList"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.debug_files.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["chunks/*"]
    }
  }
  statement {
    sid     = "DebugFilesPut"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.debug_files.arn}/chunks/*",
      "${aws_s3_bucket.debug_files.arn}/difs/*",
      "${aws_s3_bucket.debug_files.arn}/artifacts/*",
    ]
  }
  statement {
    sid     = "DebugFilesDelete"
    actions = ["s3:DeleteObject"]
    resources = [
      "${aws_s3_bucket.debug_files.arn}/difs/*",
      "${aws_s3_bucket.debug_files.arn}/artifacts/*",
    ]
  }
}

data "aws_iam_policy_document" "notifier" {
  # Records each notification on its issue ("notified at").
  statement {
    sid       = "NotificationLog"
    actions   = ["dynamodb:PutItem"]
    resources = local.issues_and_indexes
  }
  # Per-organization e-mail limits: expiring counters.
  statement {
    sid       = "MailLimits"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.quotas.arn]
  }
  # Mails from the stack's sender identity only.
  statement {
    sid       = "Mail"
    actions   = ["ses:SendEmail"]
    resources = ["arn:${local.partition}:ses:${local.region}:${local.account}:identity/${aws_sesv2_email_identity.sender.email_identity}"]
  }
  statement {
    sid       = "NotificationsConsume"
    actions   = local.queue_consume
    resources = [aws_sqs_queue.queue["notifications"].arn]
  }
}

locals {
  function_policies = {
    ingest       = data.aws_iam_policy_document.ingest.json
    processor    = data.aws_iam_policy_document.processor.json
    symbolicator = data.aws_iam_policy_document.symbolicator.json
    api          = data.aws_iam_policy_document.api.json
    notifier     = data.aws_iam_policy_document.notifier.json
  }
}

resource "aws_iam_role_policy" "fn" {
  for_each = local.function_policies
  name     = "least-privilege"
  role     = aws_iam_role.fn[each.key].id
  policy   = each.value
}
