//! `GET /api/0/projects/{org}/{project}/issues/` (and the organization-wide form with
//! `?project=ID`): Sentry's issue search, sorts, cursor pages and per-issue counts.
//!
//! Terms about the issue are decided on the issue records while the store walks its day
//! partitions; `release:` and tag terms are first turned into issue ids by one query over the
//! event store each (cached a minute). `statsPeriod=24h|14d` adds per-issue counts for
//! sparklines, from one query per page (cached too); without it the list never waits on the
//! event store.

use crate::eventsql::{self, Period, RETENTION_MS};
use crate::issues::link;
use crate::router::Ctx;
use crate::shapes::issue_json;
use crate::{ApiError, ApiResult, Deps};
use errata_domain::search::Query;
use errata_domain::{Issue, Project, Timestamp};
use errata_ports::{IssueQuery, IssueSort, ListPosition};
use errata_runtime::http;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;
/// How long a page waits for its per-issue counts before it goes without them.
const STATS_WAIT: Duration = Duration::from_secs(5);

pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    list_project(deps, ctx, project).await
}

/// `GET /api/0/organizations/{org}/issues/?project=ID`: the same list, as Sentry's newer
/// clients ask for it (one project at a time).
pub async fn list_in_org(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let org = &ctx.member()?.org;
    let params = &ctx.req.query_string_parameters;
    let ids: Vec<&str> = params.all("project").unwrap_or_default();
    let [id] = ids.as_slice() else {
        return Err(ApiError::new(400, "Name exactly one project with project=<id>."));
    };
    let id: u64 = id.parse().map_err(|_| ApiError::new(400, "project must be a project id."))?;
    let project = deps.directory.project(id).await?.filter(|p| &p.org == org).ok_or_else(ApiError::not_found)?;
    list_project(deps, ctx, &project).await
}

async fn list_project(deps: &Deps, ctx: &Ctx<'_>, project: &Project) -> ApiResult {
    let req = ctx.req;
    let params = &req.query_string_parameters;
    let text = params.first("query").unwrap_or("is:unresolved");
    let query = Query::parse(text).map_err(|e| ApiError::new(400, e.0))?;
    let sort = match params.first("sort").unwrap_or("date") {
        "date" => IssueSort::LastSeen,
        "new" => IssueSort::FirstSeen,
        "freq" => IssueSort::TimesSeen,
        "user" => IssueSort::UsersSeen,
        other => return Err(ApiError::new(400, format!("Invalid sort {other:?}: use date, new, freq or user."))),
    };
    let limit = crate::limit_param(req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let cursor = params.first("cursor").filter(|c| !c.is_empty());
    let now = Timestamp::now();
    if let Some(c) = cursor {
        let position = ListPosition::parse(c).ok_or_else(|| ApiError::new(400, "Invalid cursor parameter."))?;
        within_lifetime(position, sort, now)?;
    }
    let stats = Period::parse(params.first("statsPeriod").unwrap_or(""))?;
    let seen_after = query.last_seen_after(now).unwrap_or(0).max(now.unix_millis() - RETENTION_MS);

    let allowed = eventsql::matching_issues(deps, project.id, seen_after, &query.event_terms).await?;
    let filter = |issue: &Issue| query.matches(issue, now) && allowed.as_ref().is_none_or(|a| a.allows(issue.id.0));
    let statuses = query.statuses();
    // Status terms are the partitions read; anything else makes the filter turn issues down.
    let selective =
        allowed.is_some() || query.terms.iter().any(|(_, t)| !matches!(t, errata_domain::search::IssueTerm::Status(_)));
    let page = deps
        .issues
        .list_issues(&IssueQuery {
            project_id: project.id,
            statuses: &statuses,
            sort,
            seen_after,
            filter: &filter,
            selective,
            cursor,
            limit,
        })
        .await?;

    let counts = match stats {
        Some(period) if !page.issues.is_empty() => issue_counts(deps, project.id, &page.issues, period, now).await?,
        _ => None,
    };
    let body: Vec<_> = page
        .issues
        .iter()
        .map(|issue| {
            let mut shape = issue_json(issue, project, &deps.web_url);
            if let (Some(period), Some(counts)) = (stats, &counts) {
                let series = period.series(now.unix_millis(), counts.get(&issue.id.0).unwrap_or(&HashMap::new()));
                shape["stats"] = json!({ period.name: series });
            }
            shape
        })
        .collect();
    let path = http::path(req);
    let query_string = req.raw_query_string.as_deref().unwrap_or("");
    let next = page.next.as_deref().unwrap_or("");
    let resp = http::json(200, &body);
    let mut resp = http::with_header(resp, "link", &link(&path, query_string, ("", false), (next, !next.is_empty())));
    if stats.is_some() && counts.is_none() && !page.issues.is_empty() {
        resp = http::with_header(resp, "x-errata-stats", "pending");
    }
    Ok(resp)
}

/// A time cursor (last or first seen) must lie within the time the project can have issues:
/// from the start of the stack's retention to a day from now. Anything else is not a cursor
/// this API handed out, and would only make the store walk days that hold nothing.
fn within_lifetime(position: ListPosition, sort: IssueSort, now: Timestamp) -> Result<(), ApiError> {
    const DAY_MS: i64 = 86_400_000;
    if !matches!(sort, IssueSort::LastSeen | IssueSort::FirstSeen) {
        return Ok(());
    }
    let now = now.unix_millis();
    // First-seen keys may be up to 30 days older than retention (late events), as the store reads them.
    let earliest = now - RETENTION_MS - 31 * DAY_MS;
    if (earliest..=now + DAY_MS).contains(&position.key) {
        Ok(())
    } else {
        Err(ApiError::new(400, "Invalid cursor parameter: it points outside the time this project can have issues."))
    }
}

/// Events per issue and bucket over the period, for the page's issues; `None` when the query
/// is still running after `STATS_WAIT` (the page goes out without counts).
async fn issue_counts(
    deps: &Deps,
    project_id: u64,
    issues: &[Issue],
    period: Period,
    now: Timestamp,
) -> Result<Option<HashMap<u64, HashMap<i64, u64>>>, ApiError> {
    let mut ids: Vec<u64> = issues.iter().map(|i| i.id.0).collect();
    ids.sort_unstable();
    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
    let sql = format!(
        "SELECT issue_id, date_trunc('{}', \"timestamp\") AS bucket, count(DISTINCT event_id) AS n FROM events \
         WHERE {} AND issue_id IN ({}) GROUP BY 1, 2",
        period.trunc(),
        eventsql::scope(project_id, period.start(now.unix_millis())),
        ids.join(", ")
    );
    let Some(rows) = deps.queries.rows(&sql, STATS_WAIT).await? else { return Ok(None) };
    let mut counts: HashMap<u64, HashMap<i64, u64>> = HashMap::new();
    for row in rows.iter() {
        let cell = |i: usize| row.get(i).and_then(|c| c.as_deref());
        let (Some(id), Some(bucket), Some(n)) = (
            cell(0).and_then(|c| c.parse().ok()),
            cell(1).and_then(eventsql::parse_time),
            cell(2).and_then(|c| c.parse::<u64>().ok()),
        ) else {
            continue;
        };
        *counts.entry(id).or_default().entry(bucket).or_default() += n;
    }
    Ok(Some(counts))
}
