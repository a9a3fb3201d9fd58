//! Webhook deliveries: a JSON POST per webhook action, either a Slack incoming-webhook body or
//! Errata's generic one, signed with HMAC-SHA256 over the body when the action has a secret
//! (`X-Errata-Signature: sha256=<hex>`). A non-2xx answer or a timeout is a failure: SQS
//! retries the notice, then parks it in the DLQ.

use async_trait::async_trait;
use bytes::Bytes;
use errata_domain::alerts::WebhookFormat;
use errata_domain::egress::EgressPolicy;
use errata_domain::notice::AlertIssue;
use errata_ports::Resolver;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use sha2::Sha256;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends a POST; `Err` with a reason when it did not reach a 2xx answer.
#[async_trait]
pub trait Webhooks: Send + Sync {
    async fn post(&self, url: &str, body: Vec<u8>, headers: Vec<(&'static str, String)>) -> Result<(), String>;
}

type CheckedConnector = hyper_rustls::HttpsConnector<HttpConnector<CheckedResolver>>;

/// HTTP(S) with hyper and rustls (the platform's root certificates), to the addresses the
/// egress policy allows and no others: a URL's own address is checked before the request, a
/// host name's addresses by the connector's resolver, which hands the connector exactly the
/// addresses it checked (no second lookup that DNS could answer differently). Redirects are
/// never followed: a 3xx answer is a failed delivery.
pub struct HyperWebhooks {
    policy: Arc<EgressPolicy>,
    client: hyper_util::client::legacy::Client<CheckedConnector, Full<Bytes>>,
}

impl HyperWebhooks {
    pub fn new(policy: EgressPolicy, resolver: Arc<dyn Resolver>) -> Result<HyperWebhooks, String> {
        let policy = Arc::new(policy);
        let mut http = HttpConnector::new_with_resolver(CheckedResolver { policy: policy.clone(), resolver });
        http.enforce_http(false);
        http.set_connect_timeout(Some(TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("no root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https);
        Ok(HyperWebhooks { policy, client })
    }
}

#[async_trait]
impl Webhooks for HyperWebhooks {
    async fn post(&self, url: &str, body: Vec<u8>, headers: Vec<(&'static str, String)>) -> Result<(), String> {
        self.policy.check_url(url).map_err(|e| format!("webhook refused: {e}"))?;
        let mut req = hyper::Request::post(url).header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let req = req.body(Full::new(Bytes::from(body))).map_err(|e| format!("bad webhook request: {e}"))?;
        let resp = tokio::time::timeout(TIMEOUT, self.client.request(req))
            .await
            .map_err(|_| format!("no answer within {}s", TIMEOUT.as_secs()))?
            .map_err(|e| format!("webhook request failed: {}", chain(&e)))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {}", resp.status()))
        }
    }
}

/// An error and its causes, one line (hyper's own message hides the resolver's reason).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// The connector's resolver: resolves, checks every address against the policy, and answers
/// with those addresses only when all of them pass.
#[derive(Clone)]
struct CheckedResolver {
    policy: Arc<EgressPolicy>,
    resolver: Arc<dyn Resolver>,
}

impl tower_service::Service<Name> for CheckedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str();
            let refused = |reason: String| std::io::Error::new(std::io::ErrorKind::PermissionDenied, reason);
            let addresses = this.resolver.resolve(host).await.map_err(refused)?;
            this.policy.check_resolved(host, &addresses).map_err(|e| refused(e.to_string()))?;
            // The connector sets the URL's port on each.
            Ok(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect::<Vec<_>>().into_iter())
        })
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
    use std::collections::HashMap;
    use std::net::IpAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A DNS whose answers the test decides.
    struct FakeDns(HashMap<&'static str, Vec<IpAddr>>);

    #[async_trait]
    impl Resolver for FakeDns {
        async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, String> {
            self.0.get(host).cloned().ok_or_else(|| format!("{host}: no such host"))
        }
    }

    /// A receiver on 127.0.0.2 that answers every request 200 and counts them.
    async fn receiver() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = vec![0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            }
        });
        (port, hits)
    }

    fn hooks(networks: &str, dns: &[(&'static str, &str)]) -> HyperWebhooks {
        let dns = dns.iter().map(|(name, ip)| (*name, vec![ip.parse().unwrap()])).collect();
        let policy = EgressPolicy::from_settings("true", networks).unwrap();
        HyperWebhooks::new(policy, Arc::new(FakeDns(dns))).unwrap()
    }

    #[tokio::test]
    async fn deliveries_reach_only_the_addresses_the_policy_allows() {
        let (port, hits) = receiver().await;
        let names = [("allowed.test", "127.0.0.2"), ("rebound.test", "10.0.0.7"), ("metadata.test", "169.254.169.254")];
        let allowed = hooks("127.0.0.2/32", &names);
        allowed.post(&format!("http://allowed.test:{port}/hook"), b"{}".to_vec(), vec![]).await.unwrap();
        allowed.post(&format!("http://127.0.0.2:{port}/hook"), b"{}".to_vec(), vec![]).await.unwrap();
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);

        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            format!("http://2130706433:{port}/"),
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            format!("http://rebound.test:{port}/"),
            "http://metadata.test/latest/meta-data/".to_owned(),
            format!("http://unknown.test:{port}/"),
        ] {
            let e = allowed.post(&url, b"{}".to_vec(), vec![]).await.unwrap_err();
            assert!(
                ["webhook refused", "public addresses only", "never allowed", "no such host"]
                    .iter()
                    .any(|w| e.contains(w)),
                "{url}: {e}"
            );
        }
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2, "nothing else reached a socket");

        // Without the operator's allowance, the same receiver is out of reach by name or address.
        let strict = hooks("", &names);
        for url in [format!("http://allowed.test:{port}/"), format!("http://127.0.0.2:{port}/")] {
            let e = strict.post(&url, b"{}".to_vec(), vec![]).await.unwrap_err();
            assert!(e.contains("loopback"), "{url}: {e}");
        }
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let answer =
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n";
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        let e = hooks("127.0.0.2/32", &[]).post(&format!("http://127.0.0.2:{port}/"), b"{}".to_vec(), vec![]).await;
        assert_eq!(e.unwrap_err(), "webhook answered 307 Temporary Redirect");
    }

    #[test]
    fn hmac_matches_the_rfc_4231_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
