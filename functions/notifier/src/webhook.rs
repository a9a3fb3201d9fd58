//! Webhook deliveries: a JSON POST per webhook action, either a Slack incoming-webhook body or
//! Errata's generic one, signed with HMAC-SHA256 over the body when the action has a secret
//! (`X-Errata-Signature: sha256=<hex>`). A non-2xx answer or a timeout is a failure: SQS
//! retries the notice, then parks it in the DLQ.

use async_trait::async_trait;
use bytes::Bytes;
use errata_domain::alerts::WebhookFormat;
use errata_domain::notice::AlertIssue;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;

/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends a POST; `Err` with a reason when it did not reach a 2xx answer.
#[async_trait]
pub trait Webhooks: Send + Sync {
    async fn post(&self, url: &str, body: Vec<u8>, headers: Vec<(&'static str, String)>) -> Result<(), String>;
}

/// HTTP(S) with hyper and rustls (the platform's root certificates).
pub struct HyperWebhooks {
    client: hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Full<Bytes>,
    >,
}

impl HyperWebhooks {
    pub fn new() -> Result<HyperWebhooks, String> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("no root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https);
        Ok(HyperWebhooks { client })
    }
}

#[async_trait]
impl Webhooks for HyperWebhooks {
    async fn post(&self, url: &str, body: Vec<u8>, headers: Vec<(&'static str, String)>) -> Result<(), String> {
        let mut req = hyper::Request::post(url).header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let req = req.body(Full::new(Bytes::from(body))).map_err(|e| format!("bad webhook request: {e}"))?;
        let resp = tokio::time::timeout(TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| format!("no answer within {}s", TIMEOUT.as_secs()))?
            .map_err(|e| format!("webhook request failed: {e}"))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {}", resp.status()))
        }
    }
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped; everything from events goes through this.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The body of a webhook for an alert.
pub fn body(format: WebhookFormat, rule_id: &str, rule_name: &str, reason: &str, issue: &AlertIssue) -> Value {
    match format {
        WebhookFormat::Generic => json!({
            "action": "triggered",
            "rule": { "id": rule_id, "name": rule_name },
            "reason": reason,
            "issue": issue,
        }),
        WebhookFormat::Slack => {
            let title = slack_escape(&issue.title);
            let mut details = format!(
                "*<{}|{}>*\n{}\n{} · {} events · {} users",
                issue.link,
                title,
                slack_escape(&issue.culprit),
                slack_escape(&issue.level),
                issue.count,
                issue.users
            );
            if let Some(r) = &issue.release {
                details.push_str(&format!(" · release {}", slack_escape(r)));
            }
            if let Some(e) = &issue.environment {
                details.push_str(&format!(" · {}", slack_escape(e)));
            }
            let mut blocks = vec![json!({ "type": "section", "text": { "type": "mrkdwn", "text": details } })];
            if !issue.frames.is_empty() {
                let frames: Vec<String> = issue.frames.iter().map(|f| format!("`{}`", slack_escape(f))).collect();
                blocks
                    .push(json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": frames.join("\n") }] }));
            }
            blocks.push(json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": format!("Alert *{}*: {}", slack_escape(rule_name), slack_escape(reason)) }] }));
            json!({ "text": format!("[{}] {}: {}", issue.project, issue.level.to_uppercase(), title), "blocks": blocks })
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of the body>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
