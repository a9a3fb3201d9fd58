locals {
  function_names = ["ingest", "processor", "symbolicator", "api", "notifier"]

  # Memory (MB) and timeout (s) unless var.functions says otherwise (as the CDK construct).
  function_defaults = {
    ingest       = { memory_size = 256, timeout = 10 }
    processor    = { memory_size = 512, timeout = 30 }
    symbolicator = { memory_size = 1024, timeout = 60 }
    api          = { memory_size = 512, timeout = 29 }
    notifier     = { memory_size = 256, timeout = 30 }
  }
  function_settings = {
    for name in local.function_names : name => {
      memory_size          = coalesce(try(var.functions[name].memory_size, null), local.function_defaults[name].memory_size)
      timeout              = coalesce(try(var.functions[name].timeout, null), local.function_defaults[name].timeout)
      reserved_concurrency = try(var.functions[name].reserved_concurrency, null)
    }
  }

  # Each queue, the function that consumes it, and its batch size.
  queues = {
    # The processor's S3 writes, settings read and invocation are per batch: batches of up to
    # 100, gathered for at most a second, make them a tenth of what batches of 10 cost.
    envelopes     = { consumer = "processor", batch_size = 100, window = 1 }
    symbolication = { consumer = "symbolicator", batch_size = 5, window = 0 }
    notifications = { consumer = "notifier", batch_size = 10, window = 0 }
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
