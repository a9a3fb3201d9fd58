# Least privilege: each function's role allows exactly what its code calls, the same grants as
# the CDK construct (tests/parity.py compares them action by action and resource by resource).

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
  bucket_read  = ["s3:GetObject*", "s3:GetBucket*", "s3:List*"]
  bucket_put   = ["s3:PutObject", "s3:PutObjectLegalHold", "s3:PutObjectRetention", "s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:Abort*"]
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
  statement {
    sid       = "RawPayloads"
    actions   = local.bucket_put
    resources = ["${aws_s3_bucket.raw.arn}/*"]
  }
}

data "aws_iam_policy_document" "processor" {
  statement {
    sid       = "RawPayloads"
    actions   = local.bucket_read
    resources = [aws_s3_bucket.raw.arn, "${aws_s3_bucket.raw.arn}/*"]
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
  statement {
    sid       = "EventBodies"
    actions   = local.bucket_put
    resources = ["${aws_s3_bucket.events.arn}/*"]
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
  statement {
    sid       = "EventIndex"
    actions   = local.table_write
    resources = local.events_and_indexes
  }
  # Compaction reads, lists and replaces the Parquet files (and only those).
  statement {
    sid       = "CompactionRead"
    actions   = local.bucket_read
    resources = [aws_s3_bucket.events.arn, "${aws_s3_bucket.events.arn}/parquet/*"]
  }
  statement {
    sid       = "CompactionDelete"
    actions   = ["s3:DeleteObject*"]
    resources = ["${aws_s3_bucket.events.arn}/parquet/*"]
  }
  statement {
    sid       = "EnvelopesConsume"
    actions   = local.queue_consume
    resources = [aws_sqs_queue.queue["envelopes"].arn]
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
    sid       = "DebugFilesRead"
    actions   = local.bucket_read
    resources = [aws_s3_bucket.debug_files.arn, "${aws_s3_bucket.debug_files.arn}/*"]
  }
  statement {
    sid       = "SymCaches"
    actions   = local.bucket_put
    resources = ["${aws_s3_bucket.debug_files.arn}/symcaches/*"]
  }
  # Minidumps, stored as attachments by the processor.
  statement {
    sid       = "Minidumps"
    actions   = local.bucket_read
    resources = [aws_s3_bucket.events.arn, "${aws_s3_bucket.events.arn}/attachments/*"]
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
  # Stats, tag distributions and tag search: Athena over the Glue table.
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
    sid       = "AthenaResults"
    actions   = local.bucket_put
    resources = ["${aws_s3_bucket.events.arn}/athena-results/*"]
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
  statement {
    sid       = "EventBodies"
    actions   = local.bucket_read
    resources = [aws_s3_bucket.events.arn, "${aws_s3_bucket.events.arn}/*"]
  }
  # Debug file uploads: chunks in, assembled files out, deletions.
  statement {
    sid       = "DebugFilesRead"
    actions   = local.bucket_read
    resources = [aws_s3_bucket.debug_files.arn, "${aws_s3_bucket.debug_files.arn}/*"]
  }
  statement {
    sid       = "DebugFilesPut"
    actions   = local.bucket_put
    resources = ["${aws_s3_bucket.debug_files.arn}/*"]
  }
  statement {
    sid       = "DebugFilesDelete"
    actions   = ["s3:DeleteObject*"]
    resources = ["${aws_s3_bucket.debug_files.arn}/*"]
  }
}

data "aws_iam_policy_document" "notifier" {
  # Records each notification on its issue ("notified at").
  statement {
    sid       = "NotificationLog"
    actions   = ["dynamodb:PutItem"]
    resources = local.issues_and_indexes
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
