locals {
  function_names = ["ingest", "processor", "symbolicator", "api", "notifier"]

  # Memory (MB), timeout (s) and reserved concurrency unless var.functions says otherwise (as
  # the CDK construct). Reserved concurrency both guarantees a function its share and caps it:
  # a flood at ingest (its function URL has no throttle of its own) takes at most 100
  # executions and cannot starve the API or the processor. 150 in all, so the account needs a
  # limit of at least 250 (AWS keeps 100 unreserved; the default is 1,000).
  function_defaults = {
    ingest       = { memory_size = 256, timeout = 10, reserved_concurrency = 100 }
    processor    = { memory_size = 512, timeout = 30, reserved_concurrency = 20 }
    symbolicator = { memory_size = 1024, timeout = 60, reserved_concurrency = 5 }
    api          = { memory_size = 512, timeout = 29, reserved_concurrency = 20 }
    notifier     = { memory_size = 256, timeout = 30, reserved_concurrency = 5 }
  }
  reserved_concurrency = {
    for name in local.function_names : name => coalesce(try(var.functions[name].reserved_concurrency, null), local.function_defaults[name].reserved_concurrency)
  }
  function_settings = {
    for name in local.function_names : name => {
      memory_size = coalesce(try(var.functions[name].memory_size, null), local.function_defaults[name].memory_size)
      timeout     = coalesce(try(var.functions[name].timeout, null), local.function_defaults[name].timeout)
      # 0 leaves the reservation unset: Lambda would read 0 as "never run".
      reserved_concurrency = local.reserved_concurrency[name] == 0 ? null : local.reserved_concurrency[name]
    }
  }

  # Each queue, the function that consumes it, its batch size, and how many invocations its
  # mapping may start at once (null: as many as the function's reservation allows).
  queues = {
    # The processor's S3 writes, settings read and invocation are per batch: batches of up to
    # 100, gathered for at most a second, make them a tenth of what batches of 10 cost.
    envelopes = { consumer = "processor", batch_size = 100, window = 1, max_concurrency = var.processor_max_concurrency }
    # Claim checks of envelopes too large for an SQS message (the envelope waits in the raw
    # bucket), one at a time: a batch of them could run to the timeout and take small
    # envelopes of other tenants down with it.
    large_envelopes = { consumer = "processor", batch_size = 1, window = 0, max_concurrency = var.large_envelope_max_concurrency }
    symbolication   = { consumer = "symbolicator", batch_size = 5, window = 0, max_concurrency = null }
    notifications   = { consumer = "notifier", batch_size = 10, window = 0, max_concurrency = null }
  }

  ingest_endpoints = ["envelope", "store", "minidump", "security"]

  # Where people open the app, and the base of links (its routes follow the `#`).
  web_host = var.domain_name != null ? var.domain_name : (var.cdn ? aws_cloudfront_distribution.web[0].domain_name : null)
  web_url  = var.web_url != null ? var.web_url : (local.web_host != null ? "https://${local.web_host}/" : "")
  links    = var.web_url != null ? var.web_url : (local.web_host != null ? "https://${local.web_host}/#" : "")
  dsn_base = var.public_url != null ? var.public_url : trimsuffix(aws_lambda_function_url.ingest.function_url, "/")
  api_base = var.public_url != null ? var.public_url : aws_apigatewayv2_api.http.api_endpoint

  event_columns = jsondecode(file("${path.module}/../../shared/rows/columns.json"))
  glue_database = replace("${var.name_prefix}_events", "-", "_")
}
