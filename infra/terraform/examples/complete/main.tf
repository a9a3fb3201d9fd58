# Errata in a team's AWS account, every input set. Build first: `make package` writes the zips
# to target/lambda/errata-<fn>/bootstrap.zip and the web app to web/dist.

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60.0, < 7.0.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type        = string
  description = "The region to deploy into."
  default     = "eu-west-1"
}

variable "artifacts" {
  type        = string
  description = "Where `make package` put the function zips (errata-<fn>/bootstrap.zip)."
  default     = "../../../../target/lambda"
}

module "errata" {
  source = "../.."

  name_prefix = "errata"
  lambda_zips = { for fn in ["ingest", "processor", "symbolicator", "api", "notifier"] : fn => "${var.artifacts}/errata-${fn}/bootstrap.zip" }
  architecture = "arm64"
  # Reserved concurrency defaults to ingest 100, processor 20, symbolicator 5, api 20,
  # notifier 5; 0 reserves none (an account with a low concurrency limit sets 0 for each).
  functions = {
    processor = { memory_size = 1024, reserved_concurrency = 50 }
  }
  retention_days     = 90
  log_retention_days = 30
  sender_email       = "errata@example.com"

  cdn             = true
  domain_name     = "errata.example.com"
  certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  web_dir         = "../../../../web/dist"
  web_defaults    = { org = "acme" }

  api_throttle             = { rate_limit = 500, burst_limit = 1000 }
  max_receive_count        = 5
  queue_visibility_seconds = { notifications = 120 }
  # Processors each envelope queue may start at once, together within the processor's 50.
  processor_max_concurrency      = 40
  large_envelope_max_concurrency = 5
  # Limits new DSN keys and projects get (count/seconds; "" for none).
  default_key_rate_limit = "1000/60"
  default_project_quota  = "1000000/86400"
  alarm_email              = "oncall@example.com"
  force_destroy            = false
  tags                     = { app = "errata" }

  athena_bytes_scanned_cutoff = 10737418240 # 10 GiB
  webhook_allow_http          = false
  webhook_allowed_networks    = [] # e.g. ["10.20.0.0/16"]: a chat server inside a VPN
}

output "dsn_base_url" {
  description = "The base of the DSNs."
  value       = module.errata.dsn_base_url
}

output "web_url" {
  description = "Where people sign in."
  value       = module.errata.web_url
}

output "setup_secret" {
  description = "What the first-run setup page asks for: `terraform output -raw setup_secret`."
  value       = module.errata.setup_secret
  sensitive   = true
}
