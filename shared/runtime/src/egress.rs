//! The egress policy's plumbing: its settings from the environment, host names resolved by the
//! system, and the whole check of a webhook URL (scheme, address or every resolved address).

use errata_domain::egress::{EgressPolicy, Host, Refused};
use errata_ports::Resolver;
use std::net::IpAddr;

/// The policy from `WEBHOOK_ALLOW_HTTP` and `WEBHOOK_ALLOWED_NETWORKS` (absent: https to
/// public addresses only). A malformed setting fails the cold start.
pub fn policy_from_env() -> Result<EgressPolicy, String> {
    let var = |name| std::env::var(name).unwrap_or_default();
    EgressPolicy::from_settings(&var("WEBHOOK_ALLOW_HTTP"), &var("WEBHOOK_ALLOWED_NETWORKS"))
}

/// Host names resolved the way the system does (`getaddrinfo`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait::async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let found = tokio::net::lookup_host((host, 0)).await.map_err(|e| format!("{host} does not resolve: {e}"))?;
        let mut addresses: Vec<IpAddr> = found.map(|a| a.ip()).collect();
        addresses.dedup();
        Ok(addresses)
    }
}

/// Checks a webhook URL completely: its scheme, and its address or every address its host
/// resolves to. Returns the checked addresses (empty for an address in the URL).
pub async fn check_url(policy: &EgressPolicy, resolver: &dyn Resolver, url: &str) -> Result<Vec<IpAddr>, Refused> {
    match policy.check_url(url)? {
        Host::Ip(_) => Ok(Vec::new()),
        Host::Name(name) => {
            let addresses = resolver.resolve(&name).await.map_err(|_| Refused::Unresolved(name.clone()))?;
            policy.check_resolved(&name, &addresses)?;
            Ok(addresses)
        }
    }
}
