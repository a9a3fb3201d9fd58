# The five functions: provided.al2023, the prebuilt zips, logs kept var.log_retention_days,
# the environment each one reads (a function missing a variable fails at cold start).

locals {
  # Where alert webhooks may go (the API sends test deliveries, the notifier the alerts).
  webhook_allow_http       = var.webhook_allow_http ? "true" : "false"
  webhook_allowed_networks = join(",", var.webhook_allowed_networks)

  environment = {
    ingest = {
      DIRECTORY_TABLE    = aws_dynamodb_table.directory.name
      QUOTAS_TABLE       = aws_dynamodb_table.quotas.name
      RAW_BUCKET         = aws_s3_bucket.raw.id
      ENVELOPE_QUEUE_URL = aws_sqs_queue.queue["envelopes"].url
      # Claim checks of envelopes too large for an SQS message (stored in RAW_BUCKET).
      LARGE_ENVELOPE_QUEUE_URL = aws_sqs_queue.queue["large_envelopes"].url
      RUST_LOG                 = "info"
    }
    processor = {
      DIRECTORY_TABLE  = aws_dynamodb_table.directory.name
      ISSUES_TABLE     = aws_dynamodb_table.issues.name
      EVENTS_TABLE     = aws_dynamodb_table.events.name
      RAW_BUCKET       = aws_s3_bucket.raw.id
      EVENTS_BUCKET    = aws_s3_bucket.events.id
      RETENTION_DAYS   = tostring(var.retention_days)
      # How long a batch can run: a batch that died is recounted once this is well past.
      WRITER_LEASE_SECONDS = tostring(local.function_settings["processor"].timeout)
      QUOTAS_TABLE     = aws_dynamodb_table.quotas.name
      NOTIFY_QUEUE_URL = aws_sqs_queue.queue["notifications"].url
      WEB_URL          = local.links
      RUST_LOG         = "info"
      # Events to symbolicate.
      SYMBOLICATION_QUEUE_URL = aws_sqs_queue.queue["symbolication"].url
      # Poison messages, parked with their reason.
      ENVELOPE_DLQ_URL = aws_sqs_queue.dlq["envelopes"].url
    }
    symbolicator = {
      DIRECTORY_TABLE    = aws_dynamodb_table.directory.name
      DEBUG_FILES_BUCKET = aws_s3_bucket.debug_files.id
      EVENTS_BUCKET      = aws_s3_bucket.events.id
      ENVELOPE_QUEUE_URL = aws_sqs_queue.queue["envelopes"].url
      RUST_LOG           = "info"
    }
    api = {
      DIRECTORY_TABLE  = aws_dynamodb_table.directory.name
      ISSUES_TABLE     = aws_dynamodb_table.issues.name
      EVENTS_TABLE     = aws_dynamodb_table.events.name
      EVENTS_BUCKET      = aws_s3_bucket.events.id
      DEBUG_FILES_BUCKET = aws_s3_bucket.debug_files.id
      NOTIFY_QUEUE_URL   = aws_sqs_queue.queue["notifications"].url
      ATHENA_DATABASE  = aws_glue_catalog_database.events.name
      ATHENA_WORKGROUP = aws_athena_workgroup.events.name
      PUBLIC_URL       = local.api_base
      DSN_URL          = local.dsn_base
      WEB_URL          = local.links
      # Login throttles and per-organization e-mail limits (expiring counters).
      QUOTAS_TABLE = aws_dynamodb_table.quotas.name
      # The value is in the function's configuration (and Terraform's state). Acceptable: the
      # secret is single-use, only opens `POST setup/` until the first user exists, and is
      # readable only to principals who can read the function's configuration.
      SETUP_SECRET = aws_secretsmanager_secret_version.setup.secret_string
      # Limits a key or project created without explicit ones gets (count/seconds, "" none).
      DEFAULT_KEY_RATE_LIMIT   = var.default_key_rate_limit
      DEFAULT_PROJECT_QUOTA    = var.default_project_quota
      WEBHOOK_ALLOW_HTTP       = local.webhook_allow_http
      WEBHOOK_ALLOWED_NETWORKS = local.webhook_allowed_networks
      RUST_LOG                 = "info"
    }
    notifier = {
      SENDER_EMAIL   = var.sender_email
      ISSUES_TABLE   = aws_dynamodb_table.issues.name
      EVENTS_TABLE   = aws_dynamodb_table.events.name
      RETENTION_DAYS = tostring(var.retention_days)
      # Per-organization e-mail limits (expiring counters).
      QUOTAS_TABLE             = aws_dynamodb_table.quotas.name
      WEBHOOK_ALLOW_HTTP       = local.webhook_allow_http
      WEBHOOK_ALLOWED_NETWORKS = local.webhook_allowed_networks
      RUST_LOG                 = "info"
    }
  }
}

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest by default; a customer-managed key is optional.
  #checkov:skip=CKV_AWS_338:Function logs are for debugging; var.log_retention_days (default 30) keeps costs down.
  for_each          = toset(local.function_names)
  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  log_group_class   = var.log_group_class
  tags              = var.tags
}

resource "aws_lambda_function" "fn" {
  #checkov:skip=CKV_AWS_117:No VPC: the functions reach only AWS APIs; a VPC would add NAT cost and cold-start time and protect nothing.
  #checkov:skip=CKV_AWS_173:Environment variables hold resource names and settings, and the API's single-use setup secret (it only opens first-run setup until the first user exists); Lambda encrypts them at rest with its AWS-managed key.
  #checkov:skip=CKV_AWS_116:Queue consumers have their DLQ on the source queue (redrive policy); the HTTP functions are invoked synchronously.
  #checkov:skip=CKV_AWS_272:Code signing is not used: the zips are built from this repository by the deploying team.
  #checkov:skip=CKV_AWS_50:X-Ray tracing is optional; each function logs one line per request with its duration.
  for_each                       = toset(local.function_names)
  function_name                  = "${var.name_prefix}-${each.key}"
  description                    = "Errata ${each.key}"
  role                           = aws_iam_role.fn[each.key].arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = var.lambda_zips[each.key]
  source_code_hash               = filebase64sha256(var.lambda_zips[each.key])
  memory_size                    = local.function_settings[each.key].memory_size
  timeout                        = local.function_settings[each.key].timeout
  reserved_concurrent_executions = local.function_settings[each.key].reserved_concurrency

  environment {
    variables = local.environment[each.key]
  }
  # The functions log JSON lines already. At WARN, Lambda's own START/END/REPORT lines (about
  # 300 bytes an invocation, billed as log ingestion) are left out.
  logging_config {
    log_format            = "JSON"
    system_log_level      = "WARN"
    application_log_level = "INFO"
    log_group             = aws_cloudwatch_log_group.function[each.key].name
  }
  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.logs]
}

# SQS consumers report per-message failures, so one bad message never fails its batch.
resource "aws_lambda_event_source_mapping" "queue" {
  for_each                           = local.queues
  event_source_arn                   = aws_sqs_queue.queue[each.key].arn
  function_name                      = aws_lambda_function.fn[each.value.consumer].arn
  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = each.value.window
  function_response_types            = ["ReportBatchItemFailures"]

  # Each envelope queue starts at most its own number of processors, so neither takes the
  # processor's whole reservation.
  dynamic "scaling_config" {
    for_each = each.value.max_concurrency == null ? [] : [each.value.max_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }

  lifecycle {
    # Together within the processor's reservation: Lambda throttles invocations past it, and a
    # throttled receive counts towards max_receive_count (the message would end in the DLQ
    # unprocessed). No reservation, nothing to fit in.
    precondition {
      condition     = var.processor_max_concurrency + var.large_envelope_max_concurrency <= coalesce(local.function_settings["processor"].reserved_concurrency, var.processor_max_concurrency + var.large_envelope_max_concurrency)
      error_message = "processor_max_concurrency + large_envelope_max_concurrency exceed the processor's reserved concurrency (functions.processor.reserved_concurrency)."
    }
  }
}

# Compaction of the Parquet event store: hourly, today's and yesterday's partitions.
resource "aws_cloudwatch_event_rule" "compaction" {
  name                = "${var.name_prefix}-compaction"
  description         = "Errata: compact the Parquet event store"
  schedule_expression = "rate(1 hour)"
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "compaction" {
  rule  = aws_cloudwatch_event_rule.compaction.name
  arn   = aws_lambda_function.fn["processor"].arn
  input = jsonencode({ compact = {} })
}

resource "aws_lambda_permission" "compaction" {
  statement_id  = "CompactionSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["processor"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.compaction.arn
}
