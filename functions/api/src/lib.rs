//! The JSON API under `/api/0/`, in the shapes of Sentry's public API: accounts and tenancy,
//! projects and DSN keys, issues (search, detail, status changes), their events, and release
//! health. `router.rs` holds the route table and checks access before any handler runs.

mod account;
mod artifacts;
mod audit;
mod auth;
mod body;
mod credentials;
mod difs;
mod events;
mod eventsql;
mod issue_list;
mod issues;
mod keys;
mod orgs;
mod projects;
mod releases;
pub mod router;
mod rules;
mod sessions;
mod shapes;
mod stats;
mod throttle;

use errata_ports::{
    BlobStore, Directory, EventOrder, EventQueries, IssueStore, NotificationLog, Outbox, ReleaseHealth, RuleStore,
    StoreError,
};
use errata_runtime::http::{self, Request, Response};
use router::{Ctx, Op};
use std::sync::Arc;

pub struct Deps {
    pub directory: Arc<dyn Directory>,
    pub issues: Arc<dyn IssueStore>,
    pub health: Arc<dyn ReleaseHealth>,
    pub events: Arc<dyn BlobStore>,
    /// Uploaded debug files and their chunks.
    pub debug_files: Arc<dyn BlobStore>,
    /// Alert rules, and the record of notifications sent.
    pub rules: Arc<dyn RuleStore>,
    pub notifications: Arc<dyn NotificationLog>,
    /// SQL over the Parquet event store (Athena).
    pub queries: Arc<dyn EventQueries>,
    /// Where invitations (and later alerts) go for delivery.
    pub outbox: Arc<dyn Outbox>,
    /// Base URL of the web app, for `permalink`s and invitation links. Empty when unknown.
    pub web_url: String,
    /// Public base URL of the API (the HTTP API or its custom domain), for sentry-cli's uploads.
    pub public_url: String,
    /// Base URL of ingest, for the DSNs of keys: its function URL, or a custom domain.
    pub dsn_url: String,
    /// A user's sign-ins, password resets and single-use invitations.
    pub accounts: Arc<dyn errata_ports::Accounts>,
    /// Organizations' audit logs.
    pub audit: Arc<dyn errata_ports::AuditLog>,
    /// Failed credential checks per account and client address.
    pub throttle: Arc<dyn errata_ports::Throttle>,
    /// The deploy's one-time secret that first-run setup needs; empty refuses setup.
    pub setup_secret: String,
    /// The limit a new DSN key gets unless it is created with one (`DEFAULT_KEY_RATE_LIMIT`).
    pub default_key_limit: Option<errata_domain::RateLimit>,
    /// The quota a new project gets (`DEFAULT_PROJECT_QUOTA`).
    pub default_project_quota: Option<errata_domain::RateLimit>,
    /// Where alert webhooks may point (checked when a rule is saved; again at delivery).
    pub egress: errata_domain::egress::EgressPolicy,
    /// Resolves webhook hosts for that check.
    pub resolver: Arc<dyn errata_ports::Resolver>,
}

/// A failed request: its status, the `detail` message the client sees, and when to retry.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub detail: String,
    /// Seconds until a throttled caller may try again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        ApiError { status, detail: detail.into(), retry_after: None }
    }
    /// 429 with `Retry-After`.
    pub fn throttled(retry_after: u64, detail: impl Into<String>) -> Self {
        ApiError { status: 429, detail: detail.into(), retry_after: Some(retry_after) }
    }
    /// Sentry's answer for anything that does not exist *or that the caller may not see*:
    /// a foreign resource is indistinguishable from a missing one.
    pub fn not_found() -> Self {
        ApiError::new(404, "The requested resource does not exist")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        if e.retryable {
            ApiError::new(503, "The service is temporarily unavailable, retry later")
        } else {
            ApiError::new(500, "Internal error")
        }
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// The `limit` query parameter: `default` when absent, 400 outside `1..=max`.
pub(crate) fn limit_param(req: &Request, default: usize, max: usize) -> Result<usize, ApiError> {
    match req.query_string_parameters.first("limit") {
        None => Ok(default),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| ApiError::new(400, format!("limit must be between 1 and {max}"))),
    }
}

/// An offset page of a list that is bounded already (a project's keys, an organization's
/// members…): `limit` (≤ 100, default 100) and Sentry's `0:offset:0` cursor, with the `Link` header.
pub(crate) fn paged(ctx: &Ctx<'_>, all: Vec<serde_json::Value>) -> ApiResult {
    let req = ctx.req;
    let limit = crate::limit_param(req, 100, 100)?;
    let offset = match req.query_string_parameters.first("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c
            .split(':')
            .nth(1)
            .and_then(|o| o.parse::<usize>().ok())
            .ok_or_else(|| ApiError::new(400, "Invalid cursor parameter."))?,
    };
    let body: Vec<&serde_json::Value> = all.iter().skip(offset).take(limit).collect();
    let prev = format!("0:{}:1", offset.saturating_sub(limit));
    let next = format!("0:{}:0", offset + limit);
    let link = crate::issues::link(
        &http::path(req),
        req.raw_query_string.as_deref().unwrap_or(""),
        (&prev, offset > 0),
        (&next, offset + limit < all.len()),
    );
    Ok(http::with_header(http::json(200, &body), "link", &link))
}

pub async fn handle(deps: &Deps, req: Request) -> Response {
    let started = std::time::Instant::now();
    let (resp, route) = match route(deps, &req).await {
        (Ok(resp), route) => (resp, route),
        (Err(e), route) => {
            let resp = http::error(e.status, &e.detail);
            let resp = match e.retry_after {
                Some(secs) => http::with_header(resp, "retry-after", &secs.to_string()),
                None => resp,
            };
            (resp, route)
        }
    };
    // One access-log line per request: the route's pattern (never ids or query values), the
    // status and the time taken.
    tracing::info!(
        method = %http::method(&req),
        route = route.map_or("-", |r| r.path),
        status = resp.status_code,
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    resp
}

/// Unix seconds now.
pub(crate) fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn route(deps: &Deps, req: &Request) -> (ApiResult, Option<&'static router::Route>) {
    let path = http::path(req);
    let method = http::method(req);
    let Some(rest) = path.strip_prefix("/api/0/") else { return (Err(ApiError::not_found()), None) };
    let (route, params) = match router::find(&method, rest) {
        Ok(found) => found,
        Err(e) => return (Err(e), None),
    };
    let result = match router::resolve(deps, req, route, params).await {
        Ok(ctx) => dispatch(deps, &ctx, route.op).await,
        Err(e) => Err(e),
    };
    (result, Some(route))
}

async fn dispatch(deps: &Deps, ctx: &Ctx<'_>, op: Op) -> ApiResult {
    match op {
        Op::Login => account::login(deps, ctx).await,
        Op::Logout => account::logout(deps, ctx).await,
        Op::Setup => account::setup(deps, ctx).await,
        Op::InviteDetails => account::invite_details(deps, ctx).await,
        Op::AcceptInvite => account::accept_invite(deps, ctx).await,
        Op::Me => account::me(deps, ctx).await,
        Op::ChangePassword => credentials::change_password(deps, ctx).await,
        Op::RequestReset => credentials::request_reset(deps, ctx).await,
        Op::ConfirmReset => credentials::confirm_reset(deps, ctx).await,
        Op::ListSessions => credentials::list_sessions(deps, ctx).await,
        Op::DeleteSession => credentials::delete_session(deps, ctx).await,
        Op::AuditLogs => audit::list(deps, ctx).await,
        Op::ListTokens => credentials::list_tokens(deps, ctx).await,
        Op::CreateToken => credentials::create_token(deps, ctx).await,
        Op::DeleteToken => credentials::delete_token(deps, ctx).await,
        Op::ListOrgs => orgs::list(deps, ctx).await,
        Op::CreateOrg => orgs::create(deps, ctx).await,
        Op::OrgDetail => orgs::detail(deps, ctx).await,
        Op::UpdateOrg => orgs::update(deps, ctx).await,
        Op::OrgProjects => orgs::projects(deps, ctx).await,
        Op::CreateProject => orgs::create_project(deps, ctx).await,
        Op::ListMembers => orgs::members(deps, ctx).await,
        Op::InviteMember => orgs::invite(deps, ctx).await,
        Op::UpdateMember => orgs::update_member(deps, ctx).await,
        Op::RemoveMember => orgs::remove_member(deps, ctx).await,
        Op::OrgSessions => sessions::list(deps, ctx).await,
        Op::MyProjects => projects::mine(deps, ctx).await,
        Op::ProjectDetail => projects::detail(deps, ctx).await,
        Op::UpdateProject => projects::update(deps, ctx).await,
        Op::ListKeys => keys::list(deps, ctx).await,
        Op::CreateKey => keys::create(deps, ctx).await,
        Op::KeyDetail => keys::detail(deps, ctx).await,
        Op::UpdateKey => keys::update(deps, ctx).await,
        Op::DeleteKey => keys::delete(deps, ctx).await,
        Op::RotateKey => keys::rotate(deps, ctx).await,
        Op::ListFilters => projects::filters(deps, ctx).await,
        Op::UpdateFilter => projects::update_filter(deps, ctx).await,
        Op::ListIssues => issue_list::list(deps, ctx).await,
        Op::OrgIssues => issue_list::list_in_org(deps, ctx).await,
        Op::BulkUpdateIssues => issues::bulk_update(deps, ctx).await,
        Op::BulkDeleteIssues => issues::bulk_delete(deps, ctx).await,
        Op::ProjectStats => stats::project_stats(deps, ctx).await,
        Op::Releases => stats::releases(deps, ctx).await,
        Op::Environments => stats::environments(deps, ctx).await,
        Op::ProjectTags => stats::project_tags(deps, ctx).await,
        Op::ChunkUploadOptions => difs::options(deps, ctx).await,
        Op::ChunkUpload => difs::upload(deps, ctx).await,
        Op::AssembleDifs => difs::assemble(deps, ctx).await,
        Op::ListDebugFiles => difs::list(deps, ctx).await,
        Op::DeleteDebugFiles => difs::delete(deps, ctx).await,
        Op::AssembleArtifactBundle => artifacts::assemble(deps, ctx).await,
        Op::CreateRelease => releases::create(deps, ctx).await,
        Op::OrgReleases => releases::list(deps, ctx).await,
        Op::ReleaseDetail => releases::detail(deps, ctx).await,
        Op::UpdateRelease => releases::update(deps, ctx).await,
        Op::DeleteRelease => releases::delete(deps, ctx).await,
        Op::ListArtifactBundles => artifacts::list(deps, ctx).await,
        Op::DeleteArtifactBundles => artifacts::delete(deps, ctx).await,
        Op::ProjectEvent => events::of_project(deps, ctx).await,
        Op::EventAttachments => events::attachments(deps, ctx).await,
        Op::EventAttachment => events::attachment(deps, ctx).await,
        Op::ProjectUserReports => issues::project_user_reports(deps, ctx).await,
        Op::IssueDetail => issues::detail(deps, ctx).await,
        Op::UpdateIssue => issues::update(deps, ctx).await,
        Op::DeleteIssue => issues::delete(deps, ctx).await,
        Op::IssueStats => stats::issue_stats(deps, ctx).await,
        Op::IssueTags => stats::issue_tags(deps, ctx).await,
        Op::IssueTag => stats::issue_tag(deps, ctx).await,
        Op::IssueTagValues => stats::issue_tag_values(deps, ctx).await,
        Op::GroupingInfo => stats::grouping_info(deps, ctx).await,
        Op::Hashes => stats::hashes(deps, ctx).await,
        Op::IssueEvents => events::list(deps, ctx).await,
        Op::IssueLatestEvent => events::end(deps, ctx, EventOrder::NewestFirst).await,
        Op::IssueOldestEvent => events::end(deps, ctx, EventOrder::OldestFirst).await,
        Op::IssueEvent => events::of_issue(deps, ctx).await,
        Op::IssueUserReports => issues::user_reports(deps, ctx).await,
        Op::ListRules => rules::list(deps, ctx).await,
        Op::CreateRule => rules::create(deps, ctx).await,
        Op::RuleDetail => rules::detail(deps, ctx).await,
        Op::UpdateRule => rules::update(deps, ctx).await,
        Op::DeleteRule => rules::delete(deps, ctx).await,
        Op::IssueNotifications => rules::notifications(deps, ctx).await,
    }
}

#[cfg(test)]
mod tests;
