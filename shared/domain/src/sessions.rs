//! Release health: SDK sessions (one update per state change, or pre-aggregated counts from
//! servers) turned into hourly counters per release and environment. A session counts once as
//! started (its `init` update) and once in its end state: healthy (exited without errors),
//! errored, crashed or abnormal. Sessions still open count as healthy, as in Sentry.

use crate::Timestamp;
use serde::Deserialize;
use serde_json::Value;

/// Where a session's counts go: its release and environment, and the hour it started.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionBucket {
    pub release: String,
    pub environment: String,
    /// The start of the hour, ms since the epoch.
    pub hour_ms: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounts {
    pub started: u64,
    pub errored: u64,
    pub crashed: u64,
    pub abnormal: u64,
}

impl SessionCounts {
    pub fn add(&mut self, other: &SessionCounts) {
        self.started += other.started;
        self.errored += other.errored;
        self.crashed += other.crashed;
        self.abnormal += other.abnormal;
    }

    /// Started sessions that ended well or have not ended yet.
    pub fn healthy(&self) -> u64 {
        self.started.saturating_sub(self.errored + self.crashed + self.abnormal)
    }

    pub fn is_empty(&self) -> bool {
        *self == SessionCounts::default()
    }
}

/// One contribution to the counters, with the key that makes it count once (a redelivered
/// message or a repeated update changes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionContribution {
    pub bucket: SessionBucket,
    pub counts: SessionCounts,
    pub dedup_key: String,
}

#[derive(Deserialize)]
struct Attrs {
    release: Option<String>,
    environment: Option<String>,
}

#[derive(Deserialize)]
struct Update {
    sid: Option<String>,
    did: Option<Value>,
    #[serde(default)]
    init: bool,
    started: Option<Timestamp>,
    status: Option<String>,
    #[serde(default)]
    errors: u64,
    attrs: Option<Attrs>,
}

#[derive(Deserialize)]
struct Aggregates {
    aggregates: Vec<Aggregate>,
    attrs: Option<Attrs>,
}

#[derive(Deserialize)]
struct Aggregate {
    started: Timestamp,
    #[serde(default)]
    exited: u64,
    #[serde(default)]
    errored: u64,
    #[serde(default)]
    abnormal: u64,
    #[serde(default)]
    crashed: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid session payload: {0}")]
pub struct SessionError(String);

fn bucket(attrs: Option<Attrs>, started: Timestamp) -> Result<SessionBucket, SessionError> {
    let attrs = attrs.ok_or_else(|| SessionError("attrs.release is required".into()))?;
    let release = attrs
        .release
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| SessionError("attrs.release is required".into()))?;
    let ms = started.unix_millis();
    Ok(SessionBucket {
        release,
        environment: attrs.environment.unwrap_or_else(|| "production".into()),
        hour_ms: ms - ms.rem_euclid(3_600_000),
    })
}

/// The contributions of one `session` item (a single session's update).
pub fn from_update(payload: &[u8]) -> Result<Vec<SessionContribution>, SessionError> {
    let u: Update = serde_json::from_slice(payload).map_err(|e| SessionError(e.to_string()))?;
    let sid = u
        .sid
        .or_else(|| u.did.as_ref().map(|d| d.to_string()))
        .ok_or_else(|| SessionError("sid is required".into()))?;
    let started = u.started.ok_or_else(|| SessionError("started is required".into()))?;
    let bucket = bucket(u.attrs, started)?;
    let mut out = Vec::new();
    if u.init {
        let counts = SessionCounts { started: 1, ..Default::default() };
        out.push(SessionContribution { bucket: bucket.clone(), counts, dedup_key: format!("{sid}/init") });
    }
    let end = match u.status.as_deref().unwrap_or("ok") {
        "crashed" => Some(SessionCounts { crashed: 1, ..Default::default() }),
        "abnormal" => Some(SessionCounts { abnormal: 1, ..Default::default() }),
        "errored" => Some(SessionCounts { errored: 1, ..Default::default() }),
        "exited" if u.errors > 0 => Some(SessionCounts { errored: 1, ..Default::default() }),
        "exited" => Some(SessionCounts::default()),
        _ => None,
    };
    if let Some(counts) = end.filter(|c| !c.is_empty()) {
        out.push(SessionContribution { bucket, counts, dedup_key: format!("{sid}/end") });
    }
    Ok(out)
}

/// The most aggregates read from one `sessions` item; the rest are dropped (counted).
pub const MAX_AGGREGATES: usize = 1000;
/// Aggregates older than this are dropped, as Relay drops sessions started too long ago.
pub const MAX_AGE_MS: i64 = 5 * 86_400_000;
/// Aggregates that claim to start later than this after receipt are dropped.
pub const MAX_FUTURE_MS: i64 = 60_000;

/// What one `sessions` item adds: one contribution per (release, environment, hour), whatever
/// the number of aggregates (so one write each), and how many aggregates were dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Aggregated {
    pub contributions: Vec<SessionContribution>,
    pub dropped: usize,
}

/// The contributions of one `sessions` item (counts a server pre-aggregated per minute),
/// summed per hour. `item_key` identifies the item (its envelope and position) for
/// deduplication; `received_ms` bounds how old and how new an aggregate may be.
pub fn from_aggregates(payload: &[u8], item_key: &str, received_ms: i64) -> Result<Aggregated, SessionError> {
    let a: Aggregates = serde_json::from_slice(payload).map_err(|e| SessionError(e.to_string()))?;
    let mut dropped = a.aggregates.len().saturating_sub(MAX_AGGREGATES);
    let attrs = a.attrs.map(|a| (a.release, a.environment));
    let mut buckets: std::collections::BTreeMap<SessionBucket, SessionCounts> = std::collections::BTreeMap::new();
    for agg in a.aggregates.into_iter().take(MAX_AGGREGATES) {
        let at = agg.started.unix_millis();
        if at < received_ms - MAX_AGE_MS || at > received_ms + MAX_FUTURE_MS {
            dropped += 1;
            continue;
        }
        let attrs = attrs.clone().map(|(release, environment)| Attrs { release, environment });
        let counts = SessionCounts {
            started: agg.exited + agg.errored + agg.abnormal + agg.crashed,
            errored: agg.errored,
            crashed: agg.crashed,
            abnormal: agg.abnormal,
        };
        if counts.is_empty() {
            continue;
        }
        buckets.entry(bucket(attrs, agg.started)?).or_default().add(&counts);
    }
    let contributions = buckets
        .into_iter()
        .map(|(bucket, counts)| {
            let dedup_key = format!("{item_key}/{}", bucket.hour_ms);
            SessionContribution { bucket, counts, dedup_key }
        })
        .collect();
    Ok(Aggregated { contributions, dropped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_counts_when_it_starts_and_when_it_ends() {
        let start = br#"{"sid":"s1","init":true,"started":"2026-11-25T21:31:58.211Z","status":"ok","errors":0,"attrs":{"release":"app@1","environment":"e2e"}}"#;
        let end = br#"{"sid":"s1","init":false,"started":"2026-11-25T21:31:58.211Z","status":"exited","errors":1,"attrs":{"release":"app@1","environment":"e2e"}}"#;
        let first = from_update(start).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].counts, SessionCounts { started: 1, ..Default::default() });
        assert_eq!(first[0].bucket.hour_ms, Timestamp::parse("2026-11-25T21:00:00Z").unwrap().unix_millis());
        let last = from_update(end).unwrap();
        assert_eq!((last[0].counts.errored, last[0].dedup_key.as_str()), (1, "s1/end"));
        let crashed = br#"{"sid":"s2","init":true,"started":"2026-11-25T21:00:00Z","status":"crashed","attrs":{"release":"app@1"}}"#;
        let both = from_update(crashed).unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(both[1].counts.crashed, 1);
        assert_eq!(both[1].bucket.environment, "production");
        assert!(from_update(br#"{"sid":"s3","started":"2026-11-25T21:00:00Z"}"#).is_err(), "a release is required");
    }

    #[test]
    fn aggregates_count_every_state() {
        let payload = br#"{"aggregates":[{"started":"2026-11-25T21:05:00Z","exited":5,"errored":2,"crashed":1},{"started":"2026-11-25T22:01:00Z","exited":1}],"attrs":{"release":"srv@2","environment":"prod"}}"#;
        let now = Timestamp::parse("2026-11-25T22:02:00Z").unwrap().unix_millis();
        let c = from_aggregates(payload, "env1/0", now).unwrap().contributions;
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].counts, SessionCounts { started: 8, errored: 2, crashed: 1, abnormal: 0 });
        assert_eq!(c[0].counts.healthy(), 5);
        assert_ne!(c[0].bucket, c[1].bucket);
        assert_eq!(c[1].dedup_key, format!("env1/0/{}", c[1].bucket.hour_ms));
    }

    /// 20,000 per-minute aggregates are one write per hour, not 20,000; the item's first 1,000
    /// count, and aggregates from too long ago or the future are dropped.
    #[test]
    fn aggregates_are_summed_per_hour_and_bounded() {
        let now = Timestamp::parse("2026-11-25T22:00:00Z").unwrap().unix_millis();
        let minute = |m: i64| Timestamp::from_unix_millis(now - 3_600_000 + m * 60_000).unwrap().to_rfc3339();
        let mut aggregates: Vec<String> =
            (0..20_000).map(|i| format!(r#"{{"started":"{}","exited":1}}"#, minute(i % 60))).collect();
        aggregates[0] = r#"{"started":"2026-11-01T00:00:00Z","exited":1}"#.into();
        aggregates[1] = r#"{"started":"2026-12-25T00:00:00Z","exited":1}"#.into();
        let payload = format!(r#"{{"aggregates":[{}],"attrs":{{"release":"srv@2"}}}}"#, aggregates.join(","));
        let a = from_aggregates(payload.as_bytes(), "e/0", now).unwrap();
        assert_eq!(a.contributions.len(), 1, "one hour: one write");
        assert_eq!(a.contributions[0].counts.started, 998);
        assert_eq!(a.dropped, 19_000 + 2);
    }
}
