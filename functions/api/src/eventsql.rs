//! SQL over the event store (the Glue table `events`, Parquet partitioned by `project_id` and
//! `dt`), kept to what both Athena (Trino) and the local emulator's DuckDB run: every query
//! names its project and a `dt` lower bound, so only those partitions are read.

use crate::{ApiError, Deps};
use errata_domain::search::EventTerm;
use errata_domain::Timestamp;
use errata_ports::Rows;
use std::collections::HashSet;
use std::time::Duration;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
/// How far back queries look at most: the event store's retention.
pub const RETENTION_MS: i64 = 90 * DAY_MS;
/// The most issue ids an event-term search returns.
const MAX_MATCHING_ISSUES: usize = 10_000;

/// A string literal: single quotes doubled, NUL removed.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\0', "").replace('\'', "''"))
}

/// The `dt` partition value of a time: `YYYY-MM-DD`.
pub fn day(ms: i64) -> String {
    Timestamp::from_unix_millis(ms).map(|t| t.to_rfc3339()[..10].to_owned()).unwrap_or_else(|| "1970-01-01".into())
}

/// A timestamp literal, to the second.
pub fn timestamp(ms: i64) -> String {
    let iso = Timestamp::from_unix_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default();
    format!("TIMESTAMP '{} {}'", iso.get(..10).unwrap_or("1970-01-01"), iso.get(11..19).unwrap_or("00:00:00"))
}

/// The partitions and time range of a project from `since_ms` on, rounded down to the hour:
/// the same question asked again within the hour is the same SQL, so its cached result serves.
pub fn scope(project_id: u64, since_ms: i64) -> String {
    let since = since_ms.div_euclid(HOUR_MS) * HOUR_MS;
    format!("project_id = {project_id} AND dt >= '{}' AND \"timestamp\" >= {}", day(since), timestamp(since))
}

/// The rows of an issue's events: its id, from its first sighting on. An issue deleted and
/// started anew by a later event of the same group has the same id; the earlier issue's rows
/// all lie before the new one's first sighting.
pub fn issue_rows(issue: &errata_domain::Issue) -> String {
    format!("issue_id = {} AND \"timestamp\" >= {}", issue.id, timestamp(issue.first_seen.unix_millis()))
}

/// A bucket or time cell as Unix ms: `2026-11-26 01:00:00.000`, `2026-11-26T01:00:00`, …
pub fn parse_time(cell: &str) -> Option<i64> {
    let t = cell.trim().replace(' ', "T");
    let base = t.get(..19)?;
    Timestamp::parse(&format!("{base}Z")).map(|t| t.unix_millis())
}

/// The column holding a search key: standard fields are columns, other tags are in `tags`.
pub fn column(key: &str) -> Option<&'static str> {
    Some(match key {
        "release" => "release",
        "dist" => "dist",
        "environment" => "environment",
        "level" => "level",
        "platform" => "platform",
        "transaction" => "\"transaction\"",
        "browser.name" => "browser_name",
        "os.name" => "os_name",
        "device" | "device.family" => "device_family",
        "user.id" => "user_id",
        "user.email" => "user_email",
        "user.ip" => "user_ip",
        "sdk.name" => "sdk_name",
        "sdk.version" => "sdk_version",
        "logger" => return None,
        _ => return None,
    })
}

/// The SQL value of a search key in an event row (NULL when the event has no such tag).
pub fn value_of(key: &str) -> String {
    match column(key) {
        Some(c) => c.to_owned(),
        None => {
            let k = quote(key);
            format!("CASE WHEN contains(map_keys(tags), {k}) THEN tags[{k}] END")
        }
    }
}

fn term_sql(term: &EventTerm) -> String {
    let values: Vec<String> = term.values.iter().map(|v| quote(v)).collect();
    format!("{} IN ({})", value_of(&term.key), values.join(", "))
}

/// Runs `sql`, waiting at most `wait`: 503 with a retry hint while it still runs.
pub async fn rows(deps: &Deps, sql: &str, wait: Duration) -> Result<Rows, ApiError> {
    match deps.queries.rows(sql, wait).await? {
        Some(rows) => Ok(rows),
        None => Err(ApiError::new(503, "The query over the event store is still running; retry in a few seconds.")),
    }
}

/// The issues with an event matching each positive term, minus those with an event matching
/// a negated one. `None` when there are no terms.
pub async fn matching_issues(
    deps: &Deps,
    project_id: u64,
    since_ms: i64,
    terms: &[EventTerm],
) -> Result<Option<IssueSet>, ApiError> {
    if terms.is_empty() {
        return Ok(None);
    }
    let mut set = IssueSet { include: None, exclude: HashSet::new() };
    for term in terms {
        let sql = format!(
            "SELECT DISTINCT issue_id FROM events WHERE {} AND issue_id IS NOT NULL AND {} LIMIT {MAX_MATCHING_ISSUES}",
            scope(project_id, since_ms),
            term_sql(term)
        );
        let found: HashSet<u64> = rows(deps, &sql, Duration::from_secs(10))
            .await?
            .iter()
            .filter_map(|r| r.first()?.as_ref()?.parse().ok())
            .collect();
        if term.negated {
            set.exclude.extend(found);
        } else {
            set.include = Some(match set.include.take() {
                Some(prev) => prev.intersection(&found).copied().collect(),
                None => found,
            });
        }
    }
    Ok(Some(set))
}

/// Issue ids an event-term search allows.
#[derive(Debug, Clone)]
pub struct IssueSet {
    /// Only these (when a positive term was given).
    pub include: Option<HashSet<u64>>,
    pub exclude: HashSet<u64>,
}

impl IssueSet {
    pub fn allows(&self, id: u64) -> bool {
        self.include.as_ref().is_none_or(|i| i.contains(&id)) && !self.exclude.contains(&id)
    }
}

/// A stats period: `24h` (hourly buckets) or `14d`/`30d`/`90d` (daily).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub name: &'static str,
    pub bucket_ms: i64,
    pub buckets: i64,
}

impl Period {
    pub fn parse(s: &str) -> Result<Option<Period>, ApiError> {
        Ok(Some(match s {
            "" => return Ok(None),
            "24h" | "1d" => Period { name: "24h", bucket_ms: HOUR_MS, buckets: 24 },
            "7d" => Period { name: "7d", bucket_ms: DAY_MS, buckets: 7 },
            "14d" => Period { name: "14d", bucket_ms: DAY_MS, buckets: 14 },
            "30d" => Period { name: "30d", bucket_ms: DAY_MS, buckets: 30 },
            "90d" => Period { name: "90d", bucket_ms: DAY_MS, buckets: 90 },
            other => {
                return Err(ApiError::new(400, format!("Invalid statsPeriod {other:?}: use 24h, 7d, 14d, 30d or 90d.")))
            }
        }))
    }

    /// The first bucket's start: buckets end with the one holding `now`.
    pub fn start(&self, now_ms: i64) -> i64 {
        now_ms.div_euclid(self.bucket_ms) * self.bucket_ms - (self.buckets - 1) * self.bucket_ms
    }

    pub fn trunc(&self) -> &'static str {
        if self.bucket_ms == HOUR_MS {
            "hour"
        } else {
            "day"
        }
    }

    /// `[[unix seconds, count], …]` for every bucket, zeros included.
    pub fn series(&self, now_ms: i64, counts: &std::collections::HashMap<i64, u64>) -> Vec<(i64, u64)> {
        let start = self.start(now_ms);
        (0..self.buckets)
            .map(|i| {
                let at = start + i * self.bucket_ms;
                (at / 1000, counts.get(&at).copied().unwrap_or(0))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_times() {
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(day(1_764_118_800_000), "2025-11-26");
        assert_eq!(timestamp(1_764_118_800_000), "TIMESTAMP '2025-11-26 01:00:00'");
        assert_eq!(parse_time("2025-11-26 01:00:00.000"), Some(1_764_118_800_000));
        assert_eq!(parse_time("2025-11-26 01:00:00"), Some(1_764_118_800_000));
        assert_eq!(parse_time("nope"), None);
        assert_eq!(value_of("release"), "release");
        assert_eq!(value_of("x'y"), "CASE WHEN contains(map_keys(tags), 'x''y') THEN tags['x''y'] END");
    }

    #[test]
    fn periods_end_with_the_current_bucket() {
        let p = Period::parse("24h").unwrap().unwrap();
        let now = 10 * DAY_MS + 5 * HOUR_MS + 123;
        assert_eq!(p.start(now), 10 * DAY_MS + 5 * HOUR_MS - 23 * HOUR_MS);
        let series = p.series(now, &[(10 * DAY_MS + 5 * HOUR_MS, 3)].into_iter().collect());
        assert_eq!(series.len(), 24);
        assert_eq!(series[23], ((10 * DAY_MS + 5 * HOUR_MS) / 1000, 3));
        assert_eq!(Period::parse("").unwrap(), None);
        assert_eq!(Period::parse("1y").unwrap_err().status, 400);
    }
}
