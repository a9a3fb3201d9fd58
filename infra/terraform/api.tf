# The HTTP API: Sentry's ingest endpoints (trailing slash, as SDKs send them) to ingest, and
# /api/0/ to the api; throttled, with one JSON access-log line per request.

resource "aws_apigatewayv2_api" "http" {
  name          = "${var.name_prefix}-http"
  description   = "Errata: Sentry ingest and the /api/0/ JSON API"
  protocol_type = "HTTP"

  # Browsers send preflights for ingest (browser SDKs) and the API (the web app).
  cors_configuration {
    allow_origins  = ["*"]
    allow_methods  = ["GET", "POST", "PUT", "DELETE", "OPTIONS"]
    allow_headers  = ["x-sentry-auth", "x-requested-with", "origin", "accept", "content-type", "content-encoding", "authorization", "sentry-trace", "baggage"]
    expose_headers = ["x-sentry-error", "x-sentry-rate-limits", "retry-after", "link", "x-hits"]
    max_age        = 3600
  }
  tags = var.tags
}

resource "aws_apigatewayv2_integration" "fn" {
  for_each               = toset(["ingest", "api"])
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.fn[each.key].invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "ingest" {
  #checkov:skip=CKV_AWS_309:SDKs authenticate with their DSN key, which the ingest function checks in constant time.
  for_each  = toset(local.ingest_endpoints)
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "POST /api/{project_id}/${each.key}/"
  target    = "integrations/${aws_apigatewayv2_integration.fn["ingest"].id}"
}

resource "aws_apigatewayv2_route" "api" {
  #checkov:skip=CKV_AWS_309:The API authenticates sessions and tokens itself (route table in functions/api/src/router.rs).
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "ANY /api/0/{proxy+}"
  target    = "integrations/${aws_apigatewayv2_integration.fn["api"].id}"
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts log data at rest by default; a customer-managed key is optional.
  #checkov:skip=CKV_AWS_338:Access logs are for debugging; var.log_retention_days (default 30) keeps costs down.
  name              = "/aws/apigateway/${var.name_prefix}-http"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api_throttle.rate_limit
    throttling_burst_limit = var.api_throttle.burst_limit
  }
  # The path is logged, never the query string, which can carry a DSN key.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId     = "$context.requestId"
      ip            = "$context.identity.sourceIp"
      time          = "$context.requestTime"
      method        = "$context.httpMethod"
      path          = "$context.path"
      status        = "$context.status"
      bytes         = "$context.responseLength"
      latencyMs     = "$context.responseLatency"
      integrationMs = "$context.integrationLatency"
      error         = "$context.integrationErrorMessage"
    })
  }
  tags = var.tags
}

resource "aws_lambda_permission" "http" {
  for_each      = toset(["ingest", "api"])
  statement_id  = "HttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}

# DSNs point at ingest's function URL: Lambda bills nothing for it, where the HTTP API bills
# every request ($1.00 per million). It answers CORS itself, as the HTTP API does. With
# var.public_url (a custom domain mapped to the HTTP API) DSNs use that instead; the HTTP API's
# ingest routes take the same requests.
resource "aws_lambda_function_url" "ingest" {
  #checkov:skip=CKV_AWS_258:Sentry SDKs cannot sign requests; they authenticate with their DSN key, which the ingest function checks in constant time.
  function_name      = aws_lambda_function.fn["ingest"].function_name
  authorization_type = "NONE"
  cors {
    allow_origins  = ["*"]
    allow_methods  = ["POST"]
    allow_headers  = ["x-sentry-auth", "x-requested-with", "origin", "accept", "content-type", "content-encoding", "sentry-trace", "baggage"]
    expose_headers = ["x-sentry-error", "x-sentry-rate-limits", "retry-after"]
    max_age        = 3600
  }
}

# Anyone may call the URL (SDKs carry no AWS credentials): both permissions AWS requires.
resource "aws_lambda_permission" "ingest_url" {
  #checkov:skip=CKV_AWS_301:The URL is public by design: SDKs authenticate with their DSN key, which ingest checks in constant time.
  statement_id           = "FunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.fn["ingest"].function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "ingest_url_invoke" {
  #checkov:skip=CKV_AWS_301:Only through the function URL (invoked_via_function_url), which is public by design (see above).
  statement_id             = "FunctionUrlInvoke"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.fn["ingest"].function_name
  principal                = "*"
  invoked_via_function_url = true
}
