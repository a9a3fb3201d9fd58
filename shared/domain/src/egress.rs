//! Where Errata may send requests on a tenant's behalf (alert webhooks): public addresses only.
//!
//! A webhook URL comes from a tenant, so it is hostile: it may name the instance metadata
//! service, a database inside the VPC, or a host name that resolves there. The policy is
//! applied twice: when a rule is saved (a clear 400) and at delivery, to the very addresses the
//! connection is made to (resolved once, so DNS cannot change its answer in between).
//!
//! Every special-purpose range of IANA's IPv4 and IPv6 registries is refused. Loopback,
//! private (RFC 1918), shared (CGNAT) and unique-local addresses may be let through by an
//! operator's explicit list of networks; link-local addresses (the metadata service at
//! 169.254.169.254 among them) never are.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use thiserror::Error;

/// What webhooks may reach: `https` to public addresses, unless the operator widens it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Plain `http` URLs are accepted too (the local stack's tests need it).
    pub allow_http: bool,
    /// Loopback, private, shared or unique-local networks that may be reached anyway.
    pub allowed_networks: Vec<IpNet>,
}

/// Why a URL or an address is refused; the message is what the user sees.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refused {
    #[error("the URL is not valid: {0}")]
    Invalid(String),
    #[error("only https URLs are allowed")]
    NotHttps,
    #[error("{0} is a link-local or instance-service address (like the metadata service), which is never allowed")]
    LinkLocal(IpAddr),
    #[error("{0} is a {1} address; webhooks go to public addresses only")]
    NotPublic(IpAddr, &'static str),
    #[error("{0} does not resolve to any address")]
    Unresolved(String),
}

/// A URL that passed the checks that need no DNS: what to resolve next, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An address written in the URL (in any spelling: decimal, hex, IPv4-mapped…), already checked.
    Ip(IpAddr),
    /// A name to resolve; each address it resolves to must pass [`EgressPolicy::check_ip`].
    Name(String),
}

/// What kind of non-public address an address is, and whether an operator may allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Public,
    /// Never reachable: link-local.
    LinkLocal,
    /// Reachable only when in the allowed networks.
    Internal(&'static str),
    /// Never reachable: unspecified, multicast, broadcast, documentation, reserved…
    Special(&'static str),
}

impl EgressPolicy {
    /// The policy from its two settings (`WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOWED_NETWORKS`):
    /// `true`/`false` and a comma-separated list of CIDRs.
    pub fn from_settings(allow_http: &str, networks: &str) -> Result<EgressPolicy, String> {
        let allow_http = match allow_http.trim() {
            "" | "false" => false,
            "true" => true,
            other => return Err(format!("allow-http must be true or false, not {other:?}")),
        };
        let allowed_networks = networks
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.parse::<IpNet>().map_err(|e| format!("{n:?} is not a network (CIDR): {e}")))
            .collect::<Result<_, _>>()?;
        Ok(EgressPolicy { allow_http, allowed_networks })
    }

    /// Checks a URL's scheme and, when its host is an address, that address.
    pub fn check_url(&self, raw: &str) -> Result<Host, Refused> {
        let url = url::Url::parse(raw).map_err(|e| Refused::Invalid(e.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(Refused::NotHttps),
            other => return Err(Refused::Invalid(format!("{other}: is not a web URL"))),
        }
        // The WHATWG parser has read every IPv4 spelling (`2852039166`, `0xa9.0xfe.…`) as an
        // address already, so a name here is a real name.
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)).map(|()| Host::Ip(IpAddr::V4(ip))),
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)).map(|()| Host::Ip(IpAddr::V6(ip))),
            Some(url::Host::Domain(name)) if !name.is_empty() => Ok(Host::Name(name.to_owned())),
            _ => Err(Refused::Invalid("it has no host".into())),
        }
    }

    /// Checks one address a request would be sent to.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        let (effective, kind) = classify(ip);
        match kind {
            Kind::Public => Ok(()),
            Kind::LinkLocal => Err(Refused::LinkLocal(ip)),
            Kind::Special(what) => Err(Refused::NotPublic(ip, what)),
            Kind::Internal(what) => {
                let allowed = self.allowed_networks.iter().any(|n| n.contains(&effective) || n.contains(&ip));
                if allowed {
                    Ok(())
                } else {
                    Err(Refused::NotPublic(ip, what))
                }
            }
        }
    }

    /// Checks every address a name resolved to: all must pass (a connection may use any).
    pub fn check_resolved(&self, name: &str, addresses: &[IpAddr]) -> Result<(), Refused> {
        if addresses.is_empty() {
            return Err(Refused::Unresolved(name.to_owned()));
        }
        addresses.iter().try_for_each(|ip| self.check_ip(*ip))
    }
}

/// The IPv4 address an IPv6 address carries (IPv4-mapped, IPv4-compatible, NAT64 and 6to4
/// forms reach that IPv4 address), or the address itself.
fn embedded(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    let s = v6.segments();
    let from = |hi: u16, lo: u16| IpAddr::V4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    match s {
        // IPv4-compatible (deprecated, ::a.b.c.d), but not :: and ::1.
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) > (0, 1) => from(hi, lo),
        // NAT64 well-known prefix 64:ff9b::/96.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => from(hi, lo),
        // 6to4 2002:a.b.c.d::/48.
        [0x2002, hi, lo, ..] => from(hi, lo),
        _ => ip,
    }
}

fn classify(ip: IpAddr) -> (IpAddr, Kind) {
    let effective = embedded(ip);
    let kind = match effective {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    };
    (effective, kind)
}

/// IANA IPv4 special-purpose registry, by what the range is.
const V4: &[(&str, Kind)] = &[
    ("0.0.0.0/8", Kind::Special("unspecified (\"this network\")")),
    ("10.0.0.0/8", Kind::Internal("private")),
    ("100.64.0.0/10", Kind::Internal("shared (carrier-grade NAT)")),
    ("127.0.0.0/8", Kind::Internal("loopback")),
    ("169.254.0.0/16", Kind::LinkLocal),
    ("172.16.0.0/12", Kind::Internal("private")),
    ("192.0.0.0/24", Kind::Special("IETF protocol assignment")),
    ("192.0.2.0/24", Kind::Special("documentation")),
    ("192.88.99.0/24", Kind::Special("6to4 relay anycast")),
    ("192.168.0.0/16", Kind::Internal("private")),
    ("198.18.0.0/15", Kind::Special("benchmarking")),
    ("198.51.100.0/24", Kind::Special("documentation")),
    ("203.0.113.0/24", Kind::Special("documentation")),
    ("224.0.0.0/4", Kind::Special("multicast")),
    ("240.0.0.0/4", Kind::Special("reserved")),
];

/// IANA IPv6 special-purpose registry (the IPv4-carrying forms are unwrapped before this).
const V6: &[(&str, Kind)] = &[
    ("::/128", Kind::Special("unspecified")),
    ("::1/128", Kind::Internal("loopback")),
    ("::ffff:0:0/96", Kind::Special("IPv4-mapped")),
    ("64:ff9b:1::/48", Kind::Special("local-use IPv4/IPv6 translation")),
    ("100::/64", Kind::Special("discard-only")),
    ("2001::/23", Kind::Special("IETF protocol assignment (Teredo, ORCHID…)")),
    ("2001:db8::/32", Kind::Special("documentation")),
    ("3fff::/20", Kind::Special("documentation")),
    ("5f00::/16", Kind::Special("segment routing")),
    // AWS's instance services over IPv6 (metadata at fd00:ec2::254, DNS, time): never.
    ("fd00:ec2::/32", Kind::LinkLocal),
    ("fc00::/7", Kind::Internal("unique-local")),
    ("fe80::/10", Kind::LinkLocal),
    ("fec0::/10", Kind::Special("site-local (deprecated)")),
    ("ff00::/8", Kind::Special("multicast")),
];

fn lookup(table: &[(&str, Kind)], ip: IpAddr) -> Option<Kind> {
    table.iter().find(|(net, _)| net.parse::<IpNet>().is_ok_and(|n| n.contains(&ip))).map(|(_, kind)| *kind)
}

fn classify_v4(ip: Ipv4Addr) -> Kind {
    if ip.is_broadcast() {
        return Kind::Special("broadcast");
    }
    lookup(V4, IpAddr::V4(ip)).unwrap_or(Kind::Public)
}

fn classify_v6(ip: Ipv6Addr) -> Kind {
    // Only global unicast (2000::/3) is public at all.
    if ip.segments()[0] & 0xe000 != 0x2000 {
        return lookup(V6, IpAddr::V6(ip)).unwrap_or(Kind::Special("reserved"));
    }
    lookup(V6, IpAddr::V6(ip)).unwrap_or(Kind::Public)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> EgressPolicy {
        EgressPolicy::default()
    }

    fn refused(policy: &EgressPolicy, url: &str) -> Refused {
        match policy.check_url(url) {
            Err(e) => e,
            Ok(host) => panic!("{url} was allowed ({host:?})"),
        }
    }

    #[test]
    fn public_https_names_and_addresses_pass() {
        assert_eq!(
            strict().check_url("https://hooks.slack.com/services/T/B/x"),
            Ok(Host::Name("hooks.slack.com".into()))
        );
        assert_eq!(strict().check_url("https://1.1.1.1/x"), Ok(Host::Ip("1.1.1.1".parse().unwrap())));
        assert_eq!(
            strict().check_url("https://[2606:4700:4700::1111]/"),
            Ok(Host::Ip("2606:4700:4700::1111".parse().unwrap()))
        );
        assert!(strict().check_resolved("example.com", &["93.184.215.14".parse().unwrap()]).is_ok());
    }

    #[test]
    fn the_metadata_service_is_refused_in_every_spelling_and_every_configuration() {
        let open = EgressPolicy::from_settings("true", "0.0.0.0/0, ::/0").unwrap();
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://2852039166/",
            "http://0xa9fea9fe/",
            "http://0xa9.0xfe.0xa9.0xfe/",
            "http://0251.0376.0251.0376/",
            "http://169.254.43518/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:a9fe:a9fe::1]/",
            "http://[fe80::1]/",
            "http://[fd00:ec2::254]/", // the metadata service's IPv6 address is unique-local
        ] {
            let e = refused(&strict(), url);
            assert!(matches!(e, Refused::NotHttps), "{url}: http is refused first: {e}");
            let e = refused(&EgressPolicy { allow_http: true, ..strict() }, url);
            assert!(matches!(e, Refused::LinkLocal(_) | Refused::NotPublic(..)), "{url}: {e}");
            assert!(matches!(refused(&open, url), Refused::LinkLocal(_)), "{url} is never allowed");
        }
    }

    #[test]
    fn internal_and_special_addresses_are_refused_with_their_kind() {
        let http = EgressPolicy { allow_http: true, ..strict() };
        for (url, kind) in [
            ("http://127.0.0.1:8080/", "loopback"),
            ("http://2130706433/", "loopback"),
            ("http://[::1]/", "loopback"),
            ("http://[::ffff:127.0.0.1]/", "loopback"),
            ("http://[::127.0.0.2]/", "loopback"),
            ("http://10.0.0.5/", "private"),
            ("http://172.31.255.255/", "private"),
            ("http://192.168.1.1/", "private"),
            ("http://100.100.100.200/", "shared"),
            ("http://[fd12:3456::1]/", "unique-local"),
            ("http://0.0.0.0/", "unspecified"),
            ("http://[::]/", "unspecified"),
            ("http://224.0.0.1/", "multicast"),
            ("http://[ff02::1]/", "multicast"),
            ("http://255.255.255.255/", "broadcast"),
            ("http://192.0.2.1/", "documentation"),
            ("http://240.0.0.1/", "reserved"),
        ] {
            let e = refused(&http, url);
            assert!(e.to_string().contains(kind), "{url}: {e}");
        }
        let resolved: Vec<IpAddr> = vec!["93.184.215.14".parse().unwrap(), "10.1.2.3".parse().unwrap()];
        assert!(strict().check_resolved("mixed.example", &resolved).is_err(), "one internal answer is enough");
        assert!(matches!(strict().check_resolved("nothing.example", &[]), Err(Refused::Unresolved(_))));
    }

    #[test]
    fn an_operator_may_allow_named_internal_networks_only() {
        let local = EgressPolicy::from_settings("true", "127.0.0.2/32,10.1.0.0/16").unwrap();
        assert_eq!(local.check_url("http://127.0.0.2:9000/hook"), Ok(Host::Ip("127.0.0.2".parse().unwrap())));
        assert!(local.check_url("http://[::ffff:127.0.0.2]/").is_ok());
        assert!(local.check_url("http://10.1.200.3/").is_ok());
        assert!(local.check_url("http://127.0.0.1/").is_err(), "only the listed loopback address");
        assert!(local.check_url("http://10.2.0.1/").is_err());
        assert!(local.check_ip("169.254.169.254".parse().unwrap()).is_err());
        // Listing a special range does not make it reachable.
        let wide = EgressPolicy::from_settings("false", "224.0.0.0/4").unwrap();
        assert!(wide.check_url("https://224.0.0.1/").is_err());
    }

    #[test]
    fn settings_and_urls_that_are_not_valid() {
        assert!(EgressPolicy::from_settings("yes", "").is_err());
        assert!(EgressPolicy::from_settings("false", "10.0.0.0/33").is_err());
        assert_eq!(EgressPolicy::from_settings("", " ").unwrap(), strict());
        assert!(matches!(refused(&strict(), "ftp://x.example/"), Refused::Invalid(_)));
        assert!(matches!(refused(&strict(), "https://"), Refused::Invalid(_)));
        assert!(matches!(refused(&strict(), "not a url"), Refused::Invalid(_)));
        assert!(matches!(refused(&strict(), "http://hooks.example/"), Refused::NotHttps));
    }
}
