//! Inbound filters: events a project chose not to keep (Sentry's "Inbound Filters"). A filtered
//! event is counted as an outcome with the filter's reason and never stored.

use crate::normalize::user_agent;
use crate::tags::plain;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Instant;

/// A project's inbound filters. The defaults are Sentry's for a new project: browser
/// extensions and web crawlers on, the rest off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InboundFilters {
    /// Events from `localhost`, `127.0.0.1` or `::1` (the user's IP or the request URL).
    pub localhost: bool,
    /// Errors caused by browser extensions (extension URLs in frames, known extension errors).
    pub browser_extensions: bool,
    /// Browsers too old to support: Internet Explorer, Safari < 12, Firefox < 67, Chrome < 64,
    /// Opera < 51, Opera Mini.
    pub legacy_browsers: bool,
    /// Requests by search-engine and monitoring bots.
    pub web_crawlers: bool,
    /// Globs (`*` any run, `?` one character, case-insensitive) over the error message and
    /// `Type: value` of each exception.
    pub error_messages: Vec<String>,
    /// Globs over the release.
    pub releases: Vec<String>,
}

impl Default for InboundFilters {
    fn default() -> Self {
        InboundFilters {
            localhost: false,
            browser_extensions: true,
            legacy_browsers: false,
            web_crawlers: true,
            error_messages: Vec::new(),
            releases: Vec::new(),
        }
    }
}

/// Why an event was filtered: Sentry's outcome reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterReason {
    Localhost,
    BrowserExtensions,
    LegacyBrowsers,
    WebCrawlers,
    ErrorMessage,
    ReleaseVersion,
}

impl FilterReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            FilterReason::Localhost => "localhost",
            FilterReason::BrowserExtensions => "browser-extensions",
            FilterReason::LegacyBrowsers => "legacy-browsers",
            FilterReason::WebCrawlers => "web-crawlers",
            FilterReason::ErrorMessage => "error-message",
            FilterReason::ReleaseVersion => "release-version",
        }
    }
}

const EXTENSION_URLS: &[&str] = &[
    "chrome-extension://",
    "moz-extension://",
    "safari-extension://",
    "safari-web-extension://",
    "ms-browser-extension://",
];

/// Errors that extensions and injected scripts are known to throw.
const EXTENSION_ERRORS: &[&str] = &[
    "top.globals",
    "originalcreatenotification",
    "canvas.contentdocument",
    "myapp_removeallhighlights",
    "atomicfindclose",
    "fb_xd_fragment",
    "bmi_safeaddonload",
    "ebcallbackmessagereceived",
    "conduitpage",
    "can't find variable: zitereader",
    "jigsaw is not defined",
    "combosearch is not defined",
    "loading.retry.widdit.com",
    "__gcrweb",
];

/// Search engines, SEO and AI crawlers, uptime monitors and health checkers. (Headless browsers
/// are not on the list: people test their own apps with them.)
const CRAWLERS: &[&str] = &[
    "googlebot",
    "adsbot-google",
    "mediapartners-google",
    "feedfetcher-google",
    "bingbot",
    "bingpreview",
    "slurp",
    "duckduckbot",
    "baiduspider",
    "yandexbot",
    "sogou",
    "facebookexternalhit",
    "twitterbot",
    "linkedinbot",
    "applebot",
    "ahrefsbot",
    "semrushbot",
    "mj12bot",
    "petalbot",
    "bytespider",
    "gptbot",
    "claudebot",
    "ccbot",
    "perplexitybot",
    "oai-searchbot",
    "ia_archiver",
    "pingdom",
    "uptimerobot",
    "better uptime",
    "statuscake",
    "site24x7",
    "gtmetrix",
    "elb-healthchecker",
    "cloudflare-healthchecks",
    "bot.html",
    "crawler",
    "spider",
];

impl InboundFilters {
    /// The first filter `event` (normalized JSON) matches, if any.
    pub fn check(&self, event: &Value) -> Option<FilterReason> {
        self.check_within(event, None).unwrap_or(None)
    }

    /// `check` within a time budget: the glob filters (error messages, releases) give up with
    /// `OverBudget` once `deadline` has passed, and the caller keeps the event unfiltered.
    pub fn check_within(&self, event: &Value, deadline: Option<Instant>) -> Result<Option<FilterReason>, OverBudget> {
        if self.localhost && is_localhost(event) {
            return Ok(Some(FilterReason::Localhost));
        }
        if self.browser_extensions && from_extension(event) {
            return Ok(Some(FilterReason::BrowserExtensions));
        }
        if self.legacy_browsers || self.web_crawlers {
            if let Some(ua) = user_agent(event) {
                if self.web_crawlers && is_crawler(ua) {
                    return Ok(Some(FilterReason::WebCrawlers));
                }
                if self.legacy_browsers && is_legacy_browser(ua) {
                    return Ok(Some(FilterReason::LegacyBrowsers));
                }
            }
        }
        if !self.error_messages.is_empty() {
            for m in messages(event) {
                for g in &self.error_messages {
                    if glob_within(g, &m, deadline)? {
                        return Ok(Some(FilterReason::ErrorMessage));
                    }
                }
            }
        }
        if let Some(release) = event.get("release").and_then(Value::as_str) {
            for g in &self.releases {
                if glob_within(g, release, deadline)? {
                    return Ok(Some(FilterReason::ReleaseVersion));
                }
            }
        }
        Ok(None)
    }
}

fn is_localhost(event: &Value) -> bool {
    let local_ip = |ip: &str| matches!(ip, "127.0.0.1" | "::1");
    if event.pointer("/user/ip_address").and_then(Value::as_str).is_some_and(local_ip) {
        return true;
    }
    let Some(url) = event.pointer("/request/url").and_then(Value::as_str) else { return false };
    let host = url.split("://").nth(1).unwrap_or(url).split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost") || local_ip(host) || host.ends_with(".localhost")
}

fn from_extension(event: &Value) -> bool {
    let Some(values) = event.pointer("/exception/values").and_then(Value::as_array) else { return false };
    values.iter().any(|exc| {
        let text = format!(
            "{} {}",
            exc.get("type").map(plain).unwrap_or_default(),
            exc.get("value").map(plain).unwrap_or_default()
        )
        .to_lowercase();
        let known_error = EXTENSION_ERRORS.iter().any(|e| text.contains(e));
        let frames = exc.pointer("/stacktrace/frames").and_then(Value::as_array);
        let extension_frame = frames.is_some_and(|frames| {
            frames.iter().any(|f| {
                let path = f.get("abs_path").or_else(|| f.get("filename")).and_then(Value::as_str).unwrap_or("");
                EXTENSION_URLS.iter().any(|u| path.starts_with(u))
            })
        });
        known_error || extension_frame
    })
}

fn is_crawler(ua: &str) -> bool {
    let lower = ua.to_ascii_lowercase();
    CRAWLERS.iter().any(|c| lower.contains(c))
        || woothee::parser::Parser::new().parse(ua).is_some_and(|r| r.category == "crawler")
}

fn is_legacy_browser(ua: &str) -> bool {
    let Some(r) = woothee::parser::Parser::new().parse(ua) else { return false };
    let major: u32 = r.version.split('.').next().and_then(|v| v.parse().ok()).unwrap_or(u32::MAX);
    match r.name {
        "Internet Explorer" => true,
        "Safari" => major < 12,
        "Firefox" => major < 67,
        "Chrome" => major < 64,
        "Opera" => major < 51 || ua.contains("Opera Mini"),
        _ => false,
    }
}

/// The texts error-message globs run over: the message and `Type: value` of each exception.
fn messages(event: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for pointer in ["/logentry/formatted", "/logentry/message"] {
        if let Some(m) = event.pointer(pointer).and_then(Value::as_str) {
            out.push(m.to_owned());
        }
    }
    if let Some(values) = event.pointer("/exception/values").and_then(Value::as_array) {
        for exc in values {
            let ty = exc.get("type").map(plain);
            let value = exc.get("value").map(plain);
            out.push(match (ty, value) {
                (Some(t), Some(v)) => format!("{t}: {v}"),
                (Some(t), None) => t,
                (None, Some(v)) => v,
                (None, None) => continue,
            });
        }
    }
    out
}

/// A glob match, case-insensitive: `*` any run of characters, `?` exactly one.
pub fn glob(pattern: &str, text: &str) -> bool {
    glob_within(pattern, text, None).unwrap_or(false)
}

/// Time ran out: what a project's rules or filters asked for took longer than an event may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget;

/// `glob`, giving up with `OverBudget` once `deadline` has passed: a pattern and a text chosen
/// to backtrack (`*a*a*a…b` over 16 KiB) cost one event its rules, never a whole batch.
pub fn glob_within(pattern: &str, text: &str, deadline: Option<Instant>) -> Result<bool, OverBudget> {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Greedy with backtracking to the last `*`: linear in practice, no regex needed.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    let mut steps = 0u32;
    while ti < t.len() {
        steps = steps.wrapping_add(1);
        if steps.is_multiple_of(65_536) && deadline.is_some_and(|d| Instant::now() > d) {
            return Err(OverBudget);
        }
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return Ok(false);
        }
    }
    Ok(p[pi..].iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all() -> InboundFilters {
        InboundFilters {
            localhost: true,
            browser_extensions: true,
            legacy_browsers: true,
            web_crawlers: true,
            error_messages: vec!["*ResizeObserver loop*".into(), "ChunkLoadError: *".into()],
            releases: vec!["*-dev".into()],
        }
    }

    fn ua(ua: &str) -> Value {
        json!({"request": {"headers": {"User-Agent": ua}}})
    }

    #[test]
    fn globs() {
        assert!(glob("*-dev", "app@1.0-dev"));
        assert!(glob("a?c*", "ABCdef"));
        assert!(!glob("a?c", "abcd"));
        assert!(glob("*", ""));
        assert!(!glob("x*y", "xaaaz"));
    }

    #[test]
    fn each_filter_fires_on_its_own_events_only() {
        let f = all();
        let check = |v: Value| f.check(&v).map(|r| r.as_str());
        assert_eq!(check(json!({"user": {"ip_address": "127.0.0.1"}})), Some("localhost"));
        assert_eq!(check(json!({"request": {"url": "http://localhost:3000/x"}})), Some("localhost"));
        assert_eq!(check(json!({"request": {"url": "https://[::1]:8080/"}})), Some("localhost"));
        assert_eq!(check(json!({"request": {"url": "https://example.com/localhost"}})), None);
        assert_eq!(
            check(
                json!({"exception": {"values": [{"type": "TypeError", "value": "x", "stacktrace": {"frames": [{"abs_path": "chrome-extension://abc/content.js"}]}}]}})
            ),
            Some("browser-extensions")
        );
        assert_eq!(
            check(json!({"exception": {"values": [{"value": "top.GLOBALS is undefined"}]}})),
            Some("browser-extensions")
        );
        assert_eq!(
            check(ua("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")),
            Some("web-crawlers")
        );
        assert_eq!(check(ua("Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko")), Some("legacy-browsers"));
        let headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";
        assert_eq!(check(ua(headless)), None, "a headless browser is someone testing their app");
        assert_eq!(
            check(ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:60.0) Gecko/20100101 Firefox/60.0")),
            Some("legacy-browsers")
        );
        assert_eq!(check(ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0")), None);
        assert_eq!(
            check(json!({"logentry": {"formatted": "ResizeObserver loop limit exceeded"}})),
            Some("error-message")
        );
        assert_eq!(
            check(json!({"exception": {"values": [{"type": "ChunkLoadError", "value": "Loading chunk 3 failed"}]}})),
            Some("error-message")
        );
        assert_eq!(check(json!({"release": "web@2.0-dev"})), Some("release-version"));
        assert_eq!(check(json!({"release": "web@2.0", "logentry": {"formatted": "real error"}})), None);
    }

    #[test]
    fn defaults_are_sentrys() {
        let f = InboundFilters::default();
        assert!(f.browser_extensions && f.web_crawlers && !f.localhost && !f.legacy_browsers);
        assert_eq!(f.check(&json!({"user": {"ip_address": "127.0.0.1"}})), None);
        let parsed: InboundFilters = serde_json::from_str(r#"{"localhost": true}"#).unwrap();
        assert!(parsed.localhost && parsed.web_crawlers, "missing settings keep their defaults");
    }
}
