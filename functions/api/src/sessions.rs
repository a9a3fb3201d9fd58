//! Release health in the shape of Sentry's sessions API:
//! `GET /api/0/organizations/{org}/sessions/?project=ID&field=sum(session)&groupBy=session.status
//! &query=release:app@1.0&statsPeriod=24h&interval=1h`.

use crate::router::Ctx;
use crate::{ApiError, ApiResult, Deps};
use errata_domain::sessions::{SessionBucket, SessionCounts};
use errata_domain::Timestamp;
use errata_runtime::http;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const HOUR_MS: i64 = 3_600_000;
const MAX_PERIOD_MS: i64 = 90 * 24 * HOUR_MS;
const STATUSES: [&str; 4] = ["healthy", "errored", "crashed", "abnormal"];

pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let (req, org) = (ctx.req, &ctx.member()?.org);
    let params = &req.query_string_parameters;
    let project_id: u64 = params
        .first("project")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| ApiError::new(400, "project=<id> is required."))?;
    // Only a project of this organization: any other id is as unknown as a missing one.
    let project =
        deps.directory.project(project_id).await?.filter(|p| &p.org == org).ok_or_else(ApiError::not_found)?;
    let fields: Vec<&str> = params.all("field").unwrap_or_default();
    if fields.is_empty() {
        return Err(ApiError::new(400, "field is required: sum(session) or crash_free_rate(session)."));
    }
    if let Some(f) = fields.iter().find(|f| !matches!(**f, "sum(session)" | "crash_free_rate(session)")) {
        return Err(ApiError::new(
            400,
            format!("Unsupported field {f:?}: use sum(session) or crash_free_rate(session)."),
        ));
    }
    let group_by: Vec<&str> = params.all("groupBy").unwrap_or_default();
    if let Some(g) = group_by.iter().find(|g| !matches!(**g, "session.status" | "release" | "environment")) {
        return Err(ApiError::new(
            400,
            format!("Unsupported groupBy {g:?}: use session.status, release or environment."),
        ));
    }
    if group_by.contains(&"session.status") && fields.contains(&"crash_free_rate(session)") {
        // Within one status the rate is 0 or 1 by definition: Sentry refuses it too.
        return Err(ApiError::new(400, "crash_free_rate(session) cannot be grouped by session.status."));
    }
    let (mut release, mut environment) = (None, None);
    for term in params.first("query").unwrap_or("").split_whitespace() {
        match term.split_once(':') {
            Some(("release", v)) => release = Some(v.trim_matches('"').to_owned()),
            Some(("environment", v)) => environment = Some(v.trim_matches('"').to_owned()),
            _ => {
                return Err(ApiError::new(
                    400,
                    format!("Unsupported query term {term:?}: use release: and environment:."),
                ))
            }
        }
    }
    let period = parse_duration(params.first("statsPeriod").unwrap_or("24h"))
        .filter(|p| *p > 0 && *p <= MAX_PERIOD_MS)
        .ok_or_else(|| ApiError::new(400, "statsPeriod must be like 24h or 14d, at most 90d."))?;
    let interval = parse_duration(params.first("interval").unwrap_or("1h"))
        .filter(|i| *i >= HOUR_MS && i % HOUR_MS == 0)
        .ok_or_else(|| ApiError::new(400, "interval must be whole hours or days, like 1h or 1d."))?;

    let now = Timestamp::now().unix_millis();
    let end = now - now.rem_euclid(interval) + interval;
    let start = end - (period + interval - 1) / interval * interval;
    let buckets = deps.health.session_counts(project.id, release.as_deref(), start).await?;
    let slots = ((end - start) / interval) as usize;

    // Group key → per-interval counts.
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<SessionCounts>> = BTreeMap::new();
    for (bucket, counts) in buckets {
        if environment.as_deref().is_some_and(|e| e != bucket.environment) || bucket.hour_ms >= end {
            continue;
        }
        let key: Vec<(String, String)> = group_by
            .iter()
            .filter(|g| **g != "session.status")
            .map(|g| (g.to_string(), by_value(g, &bucket)))
            .collect();
        let slot = ((bucket.hour_ms - start) / interval) as usize;
        groups.entry(key).or_insert_with(|| vec![SessionCounts::default(); slots])[slot].add(&counts);
    }
    if groups.is_empty() && group_by.iter().all(|g| *g == "session.status") {
        groups.insert(Vec::new(), vec![SessionCounts::default(); slots]);
    }
    let by_status = group_by.contains(&"session.status");
    let mut out = Vec::new();
    for (key, series) in groups {
        let statuses: Vec<Option<&str>> =
            if by_status { STATUSES.iter().map(|s| Some(*s)).collect() } else { vec![None] };
        for status in statuses {
            let mut by = Map::new();
            for (k, v) in &key {
                by.insert(k.clone(), json!(v));
            }
            if let Some(s) = status {
                by.insert("session.status".into(), json!(s));
            }
            let mut totals = Map::new();
            let mut series_out = Map::new();
            let mut total = SessionCounts::default();
            series.iter().for_each(|c| total.add(c));
            for field in &fields {
                totals.insert(field.to_string(), metric(field, &total, status));
                series_out.insert(
                    field.to_string(),
                    json!(series.iter().map(|c| metric(field, c, status)).collect::<Vec<_>>()),
                );
            }
            out.push(json!({ "by": by, "totals": totals, "series": series_out }));
        }
    }
    let iso = |ms: i64| Timestamp::from_unix_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default();
    Ok(http::json(
        200,
        &json!({
            "start": iso(start),
            "end": iso(end),
            "intervals": (0..slots).map(|i| iso(start + i as i64 * interval)).collect::<Vec<_>>(),
            "groups": out,
            "query": params.first("query").unwrap_or(""),
        }),
    ))
}

fn by_value(group: &str, bucket: &SessionBucket) -> String {
    match group {
        "release" => bucket.release.clone(),
        _ => bucket.environment.clone(),
    }
}

/// A field's value for counts, within one session status when grouped by status.
fn metric(field: &str, c: &SessionCounts, status: Option<&str>) -> Value {
    match (field, status) {
        ("crash_free_rate(session)", _) if c.started == 0 => Value::Null,
        ("crash_free_rate(session)", _) => json!(1.0 - c.crashed as f64 / c.started as f64),
        (_, Some("healthy")) => json!(c.healthy()),
        (_, Some("errored")) => json!(c.errored),
        (_, Some("crashed")) => json!(c.crashed),
        (_, Some("abnormal")) => json!(c.abnormal),
        _ => json!(c.started),
    }
}

/// `24h`, `14d`, `30m` → milliseconds.
fn parse_duration(s: &str) -> Option<i64> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit {
        "m" => 60_000,
        "h" => HOUR_MS,
        "d" => 24 * HOUR_MS,
        "w" => 7 * 24 * HOUR_MS,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}
