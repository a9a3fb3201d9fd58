output "dsn_base_url" {
  description = "The base of the project DSNs (`<scheme>://<key>@<host>/<project id>`); the API shows each key's DSN."
  value       = local.dsn_base
}

output "web_url" {
  description = "Where people sign in (the web app); '' without a CDN or web_url."
  value       = local.web_url
}

output "ingest_url" {
  description = "Ingest's Lambda function URL, which DSNs point at unless public_url is set."
  value       = aws_lambda_function_url.ingest.function_url
}

output "api_endpoint" {
  description = "The HTTP API's own endpoint (ingest and /api/0/)."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "web_distribution_id" {
  description = "The CloudFront distribution serving the web app (invalidate it after uploading a new build), or null."
  value       = var.cdn ? aws_cloudfront_distribution.web[0].id : null
}

output "web_bucket" {
  description = "The bucket the web app is served from."
  value       = aws_s3_bucket.web.id
}

output "tables" {
  description = "DynamoDB table names: directory, issues, events, quotas."
  value = {
    directory = aws_dynamodb_table.directory.name
    issues    = aws_dynamodb_table.issues.name
    events    = aws_dynamodb_table.events.name
    quotas    = aws_dynamodb_table.quotas.name
  }
}

output "queues" {
  description = "Queue and dead-letter queue URLs, by queue."
  value       = { for k, q in aws_sqs_queue.queue : k => { url = q.url, dlq_url = aws_sqs_queue.dlq[k].url } }
}

output "functions" {
  description = "Function names, by function."
  value       = { for k, f in aws_lambda_function.fn : k => f.function_name }
}

output "setup_secret_arn" {
  description = "The secret the first-run setup page asks for: `aws secretsmanager get-secret-value --secret-id <arn> --query SecretString --output text`."
  value       = aws_secretsmanager_secret.setup.arn
}

output "setup_secret" {
  description = "The secret the first-run setup page asks for (`terraform output -raw setup_secret`)."
  value       = random_password.setup.result
  sensitive   = true
}

output "alarm_topic_arn" {
  description = "The SNS topic alarms publish to; subscribe a pager or chat to it."
  value       = aws_sns_topic.alarms.arn
}
