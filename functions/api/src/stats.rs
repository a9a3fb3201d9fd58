//! Numbers from the event store: event counts over time (per issue, per project), tag keys and
//! top values per issue, releases and environments with first and last seen. Each is one
//! query over the Glue table, limited to the project's partitions and a time range, waited on
//! for a bounded time (503 with a retry hint after it) and cached a minute.

use crate::eventsql::{self, quote, rows, scope, Period, DAY_MS, RETENTION_MS};
use crate::router::Ctx;
use crate::{ApiError, ApiResult, Deps};
use errata_domain::{Issue, Timestamp};
use errata_runtime::http;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// How long a stats route waits for its query.
const WAIT: Duration = Duration::from_secs(20);
/// Top values shown per tag key, as Sentry shows them.
const TOP_VALUES: usize = 9;
/// The most (key, value) rows a tag query returns.
const MAX_TAG_ROWS: usize = 2_000;

fn period_param(ctx: &Ctx<'_>, default: &str) -> Result<Period, ApiError> {
    let given = ctx.req.query_string_parameters.first("statsPeriod").unwrap_or(default);
    Period::parse(given)?.ok_or_else(|| ApiError::new(400, "statsPeriod is required: 24h, 7d, 14d, 30d or 90d."))
}

fn time_cell(row: &[Option<String>], i: usize) -> Option<i64> {
    row.get(i)?.as_deref().and_then(eventsql::parse_time)
}

fn count_cell(row: &[Option<String>], i: usize) -> u64 {
    row.get(i).and_then(|c| c.as_deref()).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn iso(ms: Option<i64>) -> Value {
    ms.and_then(Timestamp::from_unix_millis).map_or(Value::Null, |t| json!(t.to_rfc3339()))
}

/// Counts per bucket for the rows `condition` selects.
async fn series(deps: &Deps, project_id: u64, condition: &str, period: Period) -> Result<Value, ApiError> {
    let now = Timestamp::now().unix_millis();
    let sql = format!(
        "SELECT date_trunc('{}', \"timestamp\") AS bucket, count(DISTINCT event_id) AS n FROM events \
         WHERE {} AND {condition} GROUP BY 1",
        period.trunc(),
        scope(project_id, period.start(now)),
    );
    let counts: HashMap<i64, u64> =
        rows(deps, &sql, WAIT).await?.iter().filter_map(|r| Some((time_cell(r, 0)?, count_cell(r, 1)))).collect();
    Ok(json!(period.series(now, &counts)))
}

/// `GET /api/0/issues/{issue_id}/stats/?statsPeriod=24h|30d…`: `[[unix seconds, events], …]`.
pub async fn issue_stats(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let issue = ctx.issue()?;
    let period = period_param(ctx, "24h")?;
    let body = series(deps, issue.project_id, &eventsql::issue_rows(issue), period).await?;
    Ok(http::json(200, &body))
}

/// `GET /api/0/projects/{org}/{project}/stats/?statsPeriod=24h&stat=received|transactions`:
/// the project's error events (or transactions) per bucket, as Sentry's project stats.
pub async fn project_stats(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let period = period_param(ctx, "24h")?;
    let condition = match ctx.req.query_string_parameters.first("stat").unwrap_or("received") {
        "received" | "errors" => "issue_id IS NOT NULL",
        "transactions" => "event_type = 'transaction'",
        other => return Err(ApiError::new(400, format!("Invalid stat {other:?}: use received or transactions."))),
    };
    Ok(http::json(200, &series(deps, project.id, condition, period).await?))
}

/// When an issue's events start, for its queries: its first sighting, within retention.
fn issue_since(issue: &Issue) -> i64 {
    issue.first_seen.unix_millis().max(Timestamp::now().unix_millis() - RETENTION_MS) - DAY_MS
}

/// Every (key, value) of an issue's events with counts and first/last seen, most frequent
/// first; `key` limits it to one key.
async fn tag_rows(deps: &Deps, issue: &Issue, key: Option<&str>) -> Result<Vec<TagValue>, ApiError> {
    let only = key.map(|k| format!(" AND k = {}", quote(k))).unwrap_or_default();
    let sql = format!(
        "SELECT k, tags[k] AS v, count(DISTINCT event_id) AS n, min(\"timestamp\") AS first, max(\"timestamp\") AS last \
         FROM events CROSS JOIN UNNEST(map_keys(tags)) AS u(k) \
         WHERE {} AND {}{only} GROUP BY 1, 2 ORDER BY 3 DESC LIMIT {MAX_TAG_ROWS}",
        scope(issue.project_id, issue_since(issue)),
        eventsql::issue_rows(issue),
    );
    Ok(rows(deps, &sql, WAIT)
        .await?
        .iter()
        .filter_map(|r| {
            Some(TagValue {
                key: r.first()?.clone()?,
                value: r.get(1)?.clone()?,
                count: count_cell(r, 2),
                first: time_cell(r, 3),
                last: time_cell(r, 4),
            })
        })
        .collect())
}

struct TagValue {
    key: String,
    value: String,
    count: u64,
    first: Option<i64>,
    last: Option<i64>,
}

fn value_json(v: &TagValue) -> Value {
    json!({
        "key": v.key, "name": v.value, "value": v.value, "count": v.count,
        "firstSeen": iso(v.first), "lastSeen": iso(v.last),
    })
}

/// Sentry's tag key shape with its top values.
fn key_json(key: &str, values: &[&TagValue]) -> Value {
    let total: u64 = values.iter().map(|v| v.count).sum();
    json!({
        "key": key,
        "name": key,
        "totalValues": total,
        "uniqueValues": values.len(),
        "topValues": values.iter().take(TOP_VALUES).map(|v| value_json(v)).collect::<Vec<_>>(),
    })
}

fn by_key(values: &[TagValue]) -> Vec<(&str, Vec<&TagValue>)> {
    let mut keys: Vec<(&str, Vec<&TagValue>)> = Vec::new();
    for v in values {
        match keys.iter_mut().find(|(k, _)| *k == v.key) {
            Some((_, list)) => list.push(v),
            None => keys.push((&v.key, vec![v])),
        }
    }
    // Keys most events carry first.
    keys.sort_by_key(|(k, list)| (std::cmp::Reverse(list.iter().map(|v| v.count).sum::<u64>()), k.to_string()));
    keys
}

/// `GET /api/0/issues/{issue_id}/tags/`: every tag key of the issue's events, with the top
/// values of each (the tag distribution bars of the issue page).
pub async fn issue_tags(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let values = tag_rows(deps, ctx.issue()?, None).await?;
    let body: Vec<Value> = by_key(&values).iter().map(|(k, list)| key_json(k, list)).collect();
    Ok(http::json(200, &body))
}

/// `GET /api/0/issues/{issue_id}/tags/{key}/`
pub async fn issue_tag(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let key = ctx.param("key");
    let values = tag_rows(deps, ctx.issue()?, Some(key)).await?;
    if values.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(http::json(200, &key_json(key, &values.iter().collect::<Vec<_>>())))
}

/// `GET /api/0/issues/{issue_id}/tags/{key}/values/`: every value of one key, paged.
pub async fn issue_tag_values(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let key = ctx.param("key");
    let values = tag_rows(deps, ctx.issue()?, Some(key)).await?;
    if values.is_empty() {
        return Err(ApiError::not_found());
    }
    crate::paged(ctx, values.iter().map(value_json).collect())
}

/// `GET /api/0/issues/{issue_id}/grouping-info/`: how the issue's hash was made (the
/// "why grouped" panel).
pub async fn grouping_info(_deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let g = &ctx.issue()?.grouping;
    Ok(http::json(
        200,
        &json!({
            "hash": g.hash,
            "variant": g.variant,
            "components": g.components,
            "config": { "id": g.version },
        }),
    ))
}

/// `GET /api/0/issues/{issue_id}/hashes/`
pub async fn hashes(_deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    Ok(http::json(200, &json!([{ "id": ctx.issue()?.grouping.hash }])))
}

/// One row per value of `column` over the project's retained events: count, first and last
/// seen, most recent first.
async fn seen_values(deps: &Deps, project_id: u64, column: &str) -> Result<Vec<TagValue>, ApiError> {
    let since = Timestamp::now().unix_millis() - RETENTION_MS;
    let sql = format!(
        "SELECT {column}, count(DISTINCT event_id) AS n, min(\"timestamp\") AS first, max(\"timestamp\") AS last \
         FROM events WHERE {} AND {column} IS NOT NULL GROUP BY 1 ORDER BY 4 DESC LIMIT 1000",
        scope(project_id, since),
    );
    Ok(rows(deps, &sql, WAIT)
        .await?
        .iter()
        .filter_map(|r| {
            Some(TagValue {
                key: column.to_owned(),
                value: r.first()?.clone()?,
                count: count_cell(r, 1),
                first: time_cell(r, 2),
                last: time_cell(r, 3),
            })
        })
        .collect())
}

/// `GET /api/0/projects/{org}/{project}/releases/`: the project's releases — those its events
/// name (with first and last event and count) and those created for it with `sentry-cli
/// releases new` — newest first, in Sentry's release shape.
pub async fn releases(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let (found, created) = futures_util::future::try_join(seen_values(deps, project.id, "release"), async {
        deps.directory.releases(&project.org).await.map_err(ApiError::from)
    })
    .await?;
    let created: Vec<_> = created.into_iter().filter(|r| r.projects.contains(&project.slug)).collect();
    let this = std::slice::from_ref(project);
    let mut body: Vec<(i64, Value)> = found
        .iter()
        .map(|r| {
            let mut json = json!({
                "version": r.value,
                "shortVersion": r.value,
                "dateCreated": iso(r.first),
                "firstEvent": iso(r.first),
                "lastEvent": iso(r.last),
                "eventCount": r.count,
                "projects": [{ "id": project.id, "slug": project.slug, "name": project.name }],
            });
            if let Some(stored) = created.iter().find(|c| c.version == r.value) {
                let shape = crate::releases::release_json(stored, this);
                for key in ["url", "status", "dateReleased", "dateStarted", "dateCreated"] {
                    json[key] = shape[key].clone();
                }
            }
            (r.last.unwrap_or(0), json)
        })
        .collect();
    for stored in created.iter().filter(|c| !found.iter().any(|r| r.value == c.version)) {
        let mut json = crate::releases::release_json(stored, this);
        json["eventCount"] = 0.into();
        body.push((stored.date_created, json));
    }
    body.sort_by_key(|b| std::cmp::Reverse(b.0));
    crate::paged(ctx, body.into_iter().map(|(_, v)| v).collect())
}

/// `GET /api/0/projects/{org}/{project}/environments/`
pub async fn environments(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let found = seen_values(deps, project.id, "environment").await?;
    let body = found
        .iter()
        .map(|e| {
            json!({
                "id": e.value, "name": e.value, "isHidden": false,
                "firstSeen": iso(e.first), "lastSeen": iso(e.last), "eventCount": e.count,
            })
        })
        .collect();
    crate::paged(ctx, body)
}

/// How far back the project's tag keys are looked up.
const TAG_KEYS_DAYS: i64 = 14;

/// `GET /api/0/projects/{org}/{project}/tags/`: the tag keys of the project's events of the
/// last 14 days, with how many events carry each and how many values each has, most used
/// first (the search bar's suggestions).
pub async fn project_tags(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let since = Timestamp::now().unix_millis() - TAG_KEYS_DAYS * DAY_MS;
    let sql = format!(
        "SELECT k, count(DISTINCT tags[k]) AS vs, count(DISTINCT event_id) AS n \
         FROM events CROSS JOIN UNNEST(map_keys(tags)) AS u(k) \
         WHERE {} GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 200",
        scope(project.id, since),
    );
    let body = rows(deps, &sql, WAIT)
        .await?
        .iter()
        .filter_map(|r| {
            let key = r.first()?.clone()?;
            Some(json!({ "key": key, "name": key, "uniqueValues": count_cell(r, 1), "totalValues": count_cell(r, 2) }))
        })
        .collect();
    crate::paged(ctx, body)
}
