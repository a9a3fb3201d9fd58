//! Outcomes: what happened to every item Errata received — accepted, or dropped with a reason.
//! Each is one structured log line in CloudWatch's Embedded Metric Format, so it is both a
//! searchable log record and a metric (`Errata/Outcomes` by outcome, reason and category)
//! without an API call on the hot path.

use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why an item was not accepted, or that it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// Refused by a rate limit or quota.
    RateLimited,
    /// Malformed, too large, or otherwise unusable.
    Invalid,
    /// Dropped by an inbound filter.
    Filtered,
    /// Accepted but not used (item types Errata does not process).
    Ignored,
    /// Dropped by the SDK itself before sending, as its client report says.
    ClientDiscard,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::RateLimited => "rate_limited",
            Outcome::Invalid => "invalid",
            Outcome::Filtered => "filtered",
            Outcome::Ignored => "ignored",
            Outcome::ClientDiscard => "client_discard",
        }
    }
}

/// The log line for `quantity` items of `category` in `project_id`.
pub fn outcome_line(project_id: u64, outcome: Outcome, reason: &str, category: &str, quantity: u64) -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    json!({
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": "Errata",
                "Dimensions": [["outcome", "reason", "category"]],
                "Metrics": [{ "Name": "Outcomes", "Unit": "Count" }],
            }],
        },
        "outcome": outcome.as_str(),
        "reason": reason,
        "category": category,
        "project_id": project_id,
        "Outcomes": quantity,
    })
    .to_string()
}

/// Records an outcome (stdout, where Lambda's log agent turns EMF lines into metrics).
/// Drops and refusals are written at once, one line each; accepted items, the bulk, are summed
/// in memory and written at most every [`FLUSH_EVERY`] per project and category, so the hot
/// path does no I/O for them. (A sum not yet written when an idle environment is shut down is
/// lost: accepted counts are a rate, drop counts are exact.)
pub fn record(project_id: u64, outcome: Outcome, reason: &str, category: &str, quantity: u64) {
    if quantity == 0 {
        return;
    }
    if outcome != Outcome::Accepted {
        println!("{}", outcome_line(project_id, outcome, reason, category, quantity));
        return;
    }
    let mut acc = ACCEPTED.lock().unwrap_or_else(|p| p.into_inner());
    let acc = acc.get_or_insert_with(|| Accumulator { since: Instant::now(), counts: HashMap::new() });
    *acc.counts.entry((project_id, category.to_owned())).or_default() += quantity;
    if acc.since.elapsed() >= FLUSH_EVERY || acc.counts.len() >= 1000 {
        for ((project, category), n) in acc.counts.drain() {
            println!("{}", outcome_line(project, Outcome::Accepted, "", &category, n));
        }
        acc.since = Instant::now();
    }
}

/// How often summed accepted outcomes are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);

struct Accumulator {
    since: Instant,
    counts: HashMap<(u64, String), u64>,
}

static ACCEPTED: Mutex<Option<Accumulator>> = Mutex::new(None);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_line_names_its_dimensions() {
        let line: serde_json::Value =
            serde_json::from_str(&outcome_line(3, Outcome::RateLimited, "key_quota", "error", 2)).unwrap();
        assert_eq!(line["outcome"], "rate_limited");
        assert_eq!(line["Outcomes"], 2);
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0], json!(["outcome", "reason", "category"]));
    }
}
