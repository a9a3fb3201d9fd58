# The web app: S3 behind CloudFront with origin access control, and /api/0/* to the HTTP API on
# the same origin, so the session cookie (SameSite=Strict) stays first-party.

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_cache_policy" "disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

resource "aws_cloudfront_origin_access_control" "web" {
  count                             = var.cdn ? 1 : 0
  name                              = "${var.name_prefix}-web"
  description                       = "Errata web app bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# The Content-Security-Policy web/index.html declares in its meta tag, as a header, plus
# frame-ancestors, which works only in a header. connect-src names the HTTP API's own origin
# where the meta tag allows any https origin: behind CloudFront the app calls its API on its own
# origin ('self'), served elsewhere it calls the API's (config.json).
locals {
  web_csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ${aws_apigatewayv2_api.http.api_endpoint}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

resource "aws_cloudfront_response_headers_policy" "web" {
  count = var.cdn ? 1 : 0
  name  = "${var.name_prefix}-web-headers"
  security_headers_config {
    content_security_policy {
      content_security_policy = local.web_csp
      override                = true
    }
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }
}

resource "aws_cloudfront_distribution" "web" {
  #checkov:skip=CKV_AWS_68:No WAF by default (a web ACL costs $5+/month); attach one with web_acl_id.
  #checkov:skip=CKV2_AWS_47:No WAF by default (see CKV_AWS_68).
  #checkov:skip=CKV_AWS_310:One origin per behaviour: S3 and the API are regional and have no failover pair.
  #checkov:skip=CKV_AWS_86:The web app is static files; the API behind it writes its own access log (API Gateway stage).
  #checkov:skip=CKV_AWS_374:No geo restriction: who may use the app is decided by its accounts.
  #checkov:skip=CKV2_AWS_42:The default *.cloudfront.net certificate serves the app unless domain_name and certificate_arn are given.
  #checkov:skip=CKV_AWS_174:The default certificate cannot set a minimum TLS version; with a custom certificate it is TLS 1.2.
  count               = var.cdn ? 1 : 0
  enabled             = true
  comment             = "Errata web app and its API"
  default_root_object = "index.html"
  price_class         = "PriceClass_100"
  http_version        = "http2and3"
  aliases             = var.domain_name == null ? [] : [var.domain_name]
  web_acl_id          = var.web_acl_id

  origin {
    origin_id                = "web"
    domain_name              = aws_s3_bucket.web.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.web[0].id
  }
  origin {
    origin_id   = "api"
    domain_name = replace(aws_apigatewayv2_api.http.api_endpoint, "https://", "")
    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  default_cache_behavior {
    target_origin_id           = "web"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web[0].id
  }
  ordered_cache_behavior {
    path_pattern               = "/api/0/*"
    target_origin_id           = "api"
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.disabled.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.web[0].id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = var.certificate_arn == null
    acm_certificate_arn            = var.certificate_arn
    ssl_support_method             = var.certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }
  tags = var.tags

  lifecycle {
    precondition {
      condition     = (var.domain_name == null) == (var.certificate_arn == null)
      error_message = "domain_name and certificate_arn go together."
    }
  }
}

# The built app and its runtime config (no build inside Terraform: web_dir is `make package`'s).
locals {
  web_files = var.web_dir == null ? toset([]) : fileset(var.web_dir, "**")
  mime = {
    html = "text/html", js = "text/javascript", css = "text/css", json = "application/json",
    map  = "application/json", png = "image/png", svg = "image/svg+xml", ico = "image/x-icon"
  }
}

resource "aws_s3_object" "web" {
  for_each      = local.web_files
  bucket        = aws_s3_bucket.web.id
  key           = each.value
  source        = "${var.web_dir}/${each.value}"
  etag          = filemd5("${var.web_dir}/${each.value}")
  content_type  = lookup(local.mime, reverse(split(".", each.value))[0], "application/octet-stream")
  cache_control = "no-cache"
}

resource "aws_s3_object" "web_config" {
  count         = var.web_dir == null ? 0 : 1
  bucket        = aws_s3_bucket.web.id
  key           = "config.json"
  content_type  = "application/json"
  cache_control = "no-cache"
  content = jsonencode(merge(
    { api = var.cdn ? "" : aws_apigatewayv2_api.http.api_endpoint },
    { for k, v in var.web_defaults : k => v if v != null },
  ))
}
