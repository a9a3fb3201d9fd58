# Inputs of the Errata module. The same inputs as the CDK construct (infra/cdk/lib/errata.ts).

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name (tables, buckets, queues, functions). Lower-case letters, digits and hyphens."
  default     = "errata"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2 to 31 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "lambda_zips" {
  type        = map(string)
  description = "Path of each function's prebuilt zip (`cargo lambda build --release --arm64 --output-format zip`, or `make package`), keyed by function: ingest, processor, symbolicator, api, notifier."

  validation {
    condition     = length(setsubtract(["ingest", "processor", "symbolicator", "api", "notifier"], keys(var.lambda_zips))) == 0
    error_message = "lambda_zips needs a zip for each of ingest, processor, symbolicator, api and notifier."
  }
}

variable "architecture" {
  type        = string
  description = "Lambda architecture the zips were built for: arm64 (cheaper, default) or x86_64."
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "functions" {
  type = map(object({
    memory_size          = optional(number)
    timeout              = optional(number)
    reserved_concurrency = optional(number)
  }))
  description = "Per-function overrides of memory (MB), timeout (seconds) and reserved concurrency, keyed by function name. Unset: the defaults in locals.tf (reserved concurrency: ingest 100, processor 20, symbolicator 5, api 20, notifier 5). A reserved_concurrency of 0 means no reservation (not Lambda's \"never run\"): AWS keeps 100 of an account's limit unreserved, so an account with a low limit (new ones may have 10) sets 0 for every function."
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.functions), ["ingest", "processor", "symbolicator", "api", "notifier"])) == 0
    error_message = "functions is keyed by ingest, processor, symbolicator, api or notifier."
  }
  validation {
    condition     = alltrue([for f in values(var.functions) : coalesce(f.reserved_concurrency, 0) >= 0 && floor(coalesce(f.reserved_concurrency, 0)) == coalesce(f.reserved_concurrency, 0)])
    error_message = "reserved_concurrency must be a whole number; 0 for no reservation."
  }
}

variable "retention_days" {
  type        = number
  description = "Days events are kept: the event index's TTL and the event bucket's lifecycle."
  default     = 90

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650
    error_message = "retention_days must be 1 to 3650."
  }
}

variable "log_group_class" {
  type        = string
  description = "The functions' log class: INFREQUENT_ACCESS (half the ingestion price, queried with Logs Insights) or STANDARD (adds Live Tail, metric and subscription filters)."
  default     = "INFREQUENT_ACCESS"
  validation {
    condition     = contains(["STANDARD", "INFREQUENT_ACCESS"], var.log_group_class)
    error_message = "log_group_class is STANDARD or INFREQUENT_ACCESS."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days function logs and API access logs are kept (a CloudWatch Logs retention value)."
  default     = 30
}

variable "sender_email" {
  type        = string
  description = "Address alert and invitation e-mail comes from. It becomes an SES identity; AWS e-mails it a verification link (see docs/deploy.md for the SES sandbox)."
}

variable "cdn" {
  type        = bool
  description = "Serve the web app through CloudFront (S3 with origin access control, /api/0/* to the API)."
  default     = true
}

variable "domain_name" {
  type        = string
  description = "A custom domain for the web app and its API (point a CNAME or alias at the distribution). Needs certificate_arn."
  default     = null
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for domain_name, in us-east-1 (CloudFront's region)."
  default     = null
}

variable "web_acl_id" {
  type        = string
  description = "ARN of a WAF web ACL to attach to the distribution, if any."
  default     = null
}

variable "web_dir" {
  type        = string
  description = "The built web app (web/dist from `make package`) to upload with its config.json; null to upload it yourself."
  default     = null
}

variable "web_defaults" {
  type = object({
    org     = optional(string)
    project = optional(string)
  })
  description = "The organization and project the web app opens first (written into config.json)."
  default     = {}
}

variable "web_url" {
  type        = string
  description = "Where the web app is served, for links in API answers and e-mails. Default: the distribution's URL."
  default     = null
}

variable "public_url" {
  type        = string
  description = "Base URL of ingest for DSNs: a custom domain mapped to the HTTP API (which bills $1.00 per million requests). Default: ingest's Lambda function URL (no request charge)."
  default     = null
}

variable "api_throttle" {
  type = object({
    rate_limit  = number
    burst_limit = number
  })
  description = "Requests per second (steady and burst) the HTTP API accepts before answering 429."
  default     = { rate_limit = 1000, burst_limit = 2000 }
}

variable "max_receive_count" {
  type        = number
  description = "Receives before a message moves to its dead-letter queue."
  default     = 5
}

variable "queue_visibility_seconds" {
  type        = map(number)
  description = "Visibility timeout per queue (envelopes, large_envelopes, symbolication, notifications). Default: six times the consuming function's timeout."
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.queue_visibility_seconds), ["envelopes", "large_envelopes", "symbolication", "notifications"])) == 0
    error_message = "queue_visibility_seconds is keyed by envelopes, large_envelopes, symbolication or notifications."
  }
}

variable "processor_max_concurrency" {
  type        = number
  description = "Processors the envelopes queue may start at once (its event source mapping's maximum concurrency). With large_envelope_max_concurrency it must fit in the processor's reserved concurrency: Lambda throttles the excess, and a throttled receive counts towards max_receive_count."
  default     = 15

  validation {
    condition     = var.processor_max_concurrency >= 2 && var.processor_max_concurrency <= 1000 && floor(var.processor_max_concurrency) == var.processor_max_concurrency
    error_message = "processor_max_concurrency must be a whole number from 2 to 1000 (what SQS event source mappings take)."
  }
}

variable "large_envelope_max_concurrency" {
  type        = number
  description = "Processors the large-envelopes queue (claim checks of envelopes too large for SQS, one per invocation) may start at once."
  default     = 3

  validation {
    condition     = var.large_envelope_max_concurrency >= 2 && var.large_envelope_max_concurrency <= 1000 && floor(var.large_envelope_max_concurrency) == var.large_envelope_max_concurrency
    error_message = "large_envelope_max_concurrency must be a whole number from 2 to 1000 (what SQS event source mappings take)."
  }
}

variable "default_key_rate_limit" {
  type        = string
  description = "The rate limit a DSN key gets when the API creates it without one, as count/seconds (1000/60: 1,000 events a minute); \"\" for none. Existing keys keep theirs (`errata-admin rate-limit --public-key` changes them)."
  default     = "1000/60"

  validation {
    condition     = can(regex("^(?:[1-9][0-9]{0,17}/[1-9][0-9]{0,17})?$", var.default_key_rate_limit))
    error_message = "default_key_rate_limit must be count/seconds with both above 0 (e.g. 1000/60), or \"\" for none."
  }
}

variable "default_project_quota" {
  type        = string
  description = "The quota a new project gets when the API creates it without one, as count/seconds (1000000/86400: a million events a day); \"\" for none. Existing projects keep theirs (`errata-admin rate-limit --project-id` changes them)."
  default     = "1000000/86400"

  validation {
    condition     = can(regex("^(?:[1-9][0-9]{0,17}/[1-9][0-9]{0,17})?$", var.default_project_quota))
    error_message = "default_project_quota must be count/seconds with both above 0 (e.g. 1000000/86400), or \"\" for none."
  }
}

variable "alarm_email" {
  type        = string
  description = "Where alarms (a message in a dead-letter queue, function errors) are e-mailed; null for none (the SNS topic is an output)."
  default     = null
}

variable "force_destroy" {
  type        = bool
  description = "Let `terraform destroy` delete buckets with objects in them (data is lost), and the setup secret at once instead of after Secrets Manager's 30-day recovery window. Keep false in production."
  default     = false
}

variable "athena_bytes_scanned_cutoff" {
  type        = number
  description = "Bytes one Athena query may scan before Athena cancels it (the workgroup enforces it). Default 10 GiB ($0.05 at $5 per TB); at least 10 MiB."
  default     = 10737418240

  validation {
    condition     = var.athena_bytes_scanned_cutoff >= 10485760 && floor(var.athena_bytes_scanned_cutoff) == var.athena_bytes_scanned_cutoff
    error_message = "athena_bytes_scanned_cutoff must be a whole number of bytes, at least 10485760 (10 MiB)."
  }
}

variable "webhook_allow_http" {
  type        = bool
  description = "Let alert webhooks use plain http. By default (false) webhooks must be https to public addresses."
  default     = false
}

variable "webhook_allowed_networks" {
  type        = list(string)
  description = "CIDRs alert webhooks may reach although they are loopback or private (e.g. 10.20.0.0/16 for a chat server inside a VPN). By default none: webhooks must go to public addresses. Link-local addresses (169.254.0.0/16, the instance metadata address 169.254.169.254 among them) are refused whatever this says."
  default     = []

  validation {
    condition     = alltrue([for n in var.webhook_allowed_networks : can(cidrhost(n, 0))])
    error_message = "webhook_allowed_networks must hold CIDRs, e.g. 10.0.0.0/8."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource that takes them."
  default     = {}
}
