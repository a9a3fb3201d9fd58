//! The route table: every route with the access it needs. The router resolves `{org}`,
//! `{project}` and `{issue_id}` and checks the caller's role and token scope before any
//! handler runs, so a handler only ever sees resources its caller may touch. A resource of an
//! organization the caller is not a member of answers 404, exactly like a missing one; a
//! resource the caller can see but not change answers 403.

use crate::auth::{self, Caller};
use crate::{ApiError, Deps};
use errata_domain::{Issue, IssueId, Member, Project, Role};
use errata_runtime::http::Request;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: signing in, first-run setup, accepting an invitation.
    Public,
    /// Any signed-in caller, about their own account.
    User,
    /// A member of `{org}` with at least this role.
    Org(Role),
    /// A member of the organization of `{org}/{project}` with at least this role.
    Project(Role),
    /// A member of the organization owning `{issue_id}` with at least this role.
    Issue(Role),
}

/// What a route does; `lib.rs` maps each to its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Login,
    Logout,
    Setup,
    InviteDetails,
    AcceptInvite,
    Me,
    ChangePassword,
    RequestReset,
    ConfirmReset,
    ListSessions,
    DeleteSession,
    AuditLogs,
    ListTokens,
    CreateToken,
    DeleteToken,
    ListOrgs,
    CreateOrg,
    OrgDetail,
    UpdateOrg,
    OrgProjects,
    CreateProject,
    ListMembers,
    InviteMember,
    UpdateMember,
    RemoveMember,
    OrgSessions,
    MyProjects,
    ProjectDetail,
    UpdateProject,
    ListKeys,
    CreateKey,
    KeyDetail,
    UpdateKey,
    DeleteKey,
    RotateKey,
    ListFilters,
    UpdateFilter,
    ListIssues,
    OrgIssues,
    BulkUpdateIssues,
    BulkDeleteIssues,
    ProjectStats,
    Releases,
    Environments,
    ProjectTags,
    ChunkUploadOptions,
    ChunkUpload,
    AssembleDifs,
    ListDebugFiles,
    DeleteDebugFiles,
    AssembleArtifactBundle,
    ListArtifactBundles,
    DeleteArtifactBundles,
    CreateRelease,
    OrgReleases,
    ReleaseDetail,
    UpdateRelease,
    DeleteRelease,
    ProjectEvent,
    EventAttachments,
    EventAttachment,
    ProjectUserReports,
    IssueDetail,
    UpdateIssue,
    DeleteIssue,
    IssueStats,
    IssueTags,
    IssueTag,
    IssueTagValues,
    GroupingInfo,
    Hashes,
    IssueEvents,
    IssueLatestEvent,
    IssueOldestEvent,
    IssueEvent,
    IssueUserReports,
    ListRules,
    CreateRule,
    RuleDetail,
    UpdateRule,
    DeleteRule,
    IssueNotifications,
}

/// One route: method, path under `/api/0/` (`{name}` matches one segment), access, and the
/// token scope it needs (Sentry's scope names; sessions have every scope).
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub scope: &'static str,
    pub op: Op,
}

const fn r(method: &'static str, path: &'static str, access: Access, scope: &'static str, op: Op) -> Route {
    Route { method, path, access, scope, op }
}

use Access::{Issue as I, Org as O, Project as P, Public, User};
use Role::{Admin, Member as M, Owner};

/// Every route of the API. The OpenAPI document (`openapi.json`) lists the same routes; a test
/// keeps the two equal.
pub const ROUTES: &[Route] = &[
    r("POST", "auth/login", Public, "", Op::Login),
    r("DELETE", "auth", User, "", Op::Logout),
    r("POST", "setup", Public, "", Op::Setup),
    r("POST", "auth/password-reset", Public, "", Op::RequestReset),
    r("POST", "auth/password-reset/confirm", Public, "", Op::ConfirmReset),
    // Invitation secrets travel in bodies, never in paths that access logs record.
    r("POST", "accept-invite/details", Public, "", Op::InviteDetails),
    r("POST", "accept-invite", Public, "", Op::AcceptInvite),
    r("GET", "users/me", User, "", Op::Me),
    r("PUT", "users/me/password", User, "", Op::ChangePassword),
    r("GET", "users/me/sessions", User, "", Op::ListSessions),
    r("DELETE", "users/me/sessions/{session_id}", User, "", Op::DeleteSession),
    r("GET", "api-tokens", User, "", Op::ListTokens),
    r("POST", "api-tokens", User, "", Op::CreateToken),
    r("DELETE", "api-tokens/{token_id}", User, "", Op::DeleteToken),
    r("GET", "organizations", User, "org:read", Op::ListOrgs),
    r("POST", "organizations", User, "org:write", Op::CreateOrg),
    r("GET", "organizations/{org}", O(M), "org:read", Op::OrgDetail),
    r("PUT", "organizations/{org}", O(Owner), "org:write", Op::UpdateOrg),
    r("GET", "organizations/{org}/projects", O(M), "project:read", Op::OrgProjects),
    r("POST", "organizations/{org}/projects", O(Admin), "project:write", Op::CreateProject),
    r("GET", "organizations/{org}/members", O(M), "member:read", Op::ListMembers),
    r("POST", "organizations/{org}/members", O(Admin), "member:write", Op::InviteMember),
    r("PUT", "organizations/{org}/members/{member_id}", O(Owner), "member:write", Op::UpdateMember),
    // Members may remove themselves; the handler checks the rest.
    r("DELETE", "organizations/{org}/members/{member_id}", O(M), "member:write", Op::RemoveMember),
    r("GET", "organizations/{org}/sessions", O(M), "project:read", Op::OrgSessions),
    r("GET", "organizations/{org}/audit-logs", O(Admin), "org:write", Op::AuditLogs),
    r("GET", "organizations/{org}/issues", O(M), "event:read", Op::OrgIssues),
    r("GET", "projects", User, "project:read", Op::MyProjects),
    r("GET", "projects/{org}/{project}", P(M), "project:read", Op::ProjectDetail),
    r("PUT", "projects/{org}/{project}", P(Admin), "project:write", Op::UpdateProject),
    r("GET", "projects/{org}/{project}/keys", P(M), "project:read", Op::ListKeys),
    r("POST", "projects/{org}/{project}/keys", P(Admin), "project:write", Op::CreateKey),
    r("GET", "projects/{org}/{project}/keys/{key_id}", P(M), "project:read", Op::KeyDetail),
    r("PUT", "projects/{org}/{project}/keys/{key_id}", P(Admin), "project:write", Op::UpdateKey),
    r("DELETE", "projects/{org}/{project}/keys/{key_id}", P(Admin), "project:write", Op::DeleteKey),
    r("POST", "projects/{org}/{project}/keys/{key_id}/rotate", P(Admin), "project:write", Op::RotateKey),
    r("GET", "projects/{org}/{project}/filters", P(M), "project:read", Op::ListFilters),
    r("PUT", "projects/{org}/{project}/filters/{filter_id}", P(Admin), "project:write", Op::UpdateFilter),
    r("GET", "projects/{org}/{project}/issues", P(M), "event:read", Op::ListIssues),
    r("PUT", "projects/{org}/{project}/issues", P(M), "event:write", Op::BulkUpdateIssues),
    r("DELETE", "projects/{org}/{project}/issues", P(Admin), "event:admin", Op::BulkDeleteIssues),
    r("GET", "projects/{org}/{project}/stats", P(M), "project:read", Op::ProjectStats),
    r("GET", "projects/{org}/{project}/releases", P(M), "project:read", Op::Releases),
    r("GET", "projects/{org}/{project}/environments", P(M), "project:read", Op::Environments),
    r("GET", "projects/{org}/{project}/tags", P(M), "project:read", Op::ProjectTags),
    // Debug files, as sentry-cli uploads them (tokens with project:releases, like Sentry's).
    r("GET", "organizations/{org}/chunk-upload", O(M), "project:releases", Op::ChunkUploadOptions),
    r("POST", "organizations/{org}/chunk-upload", O(M), "project:releases", Op::ChunkUpload),
    r("POST", "projects/{org}/{project}/files/difs/assemble", P(M), "project:releases", Op::AssembleDifs),
    r("GET", "projects/{org}/{project}/files/dsyms", P(M), "project:read", Op::ListDebugFiles),
    r("DELETE", "projects/{org}/{project}/files/dsyms", P(Admin), "project:write", Op::DeleteDebugFiles),
    // Releases, as `sentry-cli releases` manages them.
    r("POST", "organizations/{org}/releases", O(M), "project:releases", Op::CreateRelease),
    r("GET", "organizations/{org}/releases", O(M), "project:read", Op::OrgReleases),
    r("GET", "organizations/{org}/releases/{version}", O(M), "project:read", Op::ReleaseDetail),
    r("PUT", "organizations/{org}/releases/{version}", O(M), "project:releases", Op::UpdateRelease),
    r("DELETE", "organizations/{org}/releases/{version}", O(Admin), "project:releases", Op::DeleteRelease),
    // Source-map artifact bundles, as `sentry-cli sourcemaps upload` sends them.
    r("POST", "organizations/{org}/artifactbundle/assemble", O(M), "project:releases", Op::AssembleArtifactBundle),
    r("GET", "projects/{org}/{project}/files/artifact-bundles", P(M), "project:read", Op::ListArtifactBundles),
    r(
        "DELETE",
        "projects/{org}/{project}/files/artifact-bundles",
        P(Admin),
        "project:write",
        Op::DeleteArtifactBundles,
    ),
    r("GET", "projects/{org}/{project}/events/{event_id}", P(M), "event:read", Op::ProjectEvent),
    r("GET", "projects/{org}/{project}/events/{event_id}/attachments", P(M), "event:read", Op::EventAttachments),
    r(
        "GET",
        "projects/{org}/{project}/events/{event_id}/attachments/{attachment_id}",
        P(M),
        "event:read",
        Op::EventAttachment,
    ),
    r("GET", "projects/{org}/{project}/user-reports", P(M), "event:read", Op::ProjectUserReports),
    r("GET", "issues/{issue_id}", I(M), "event:read", Op::IssueDetail),
    r("PUT", "issues/{issue_id}", I(M), "event:write", Op::UpdateIssue),
    r("DELETE", "issues/{issue_id}", I(Admin), "event:admin", Op::DeleteIssue),
    r("GET", "issues/{issue_id}/stats", I(M), "event:read", Op::IssueStats),
    r("GET", "issues/{issue_id}/tags", I(M), "event:read", Op::IssueTags),
    r("GET", "issues/{issue_id}/tags/{key}", I(M), "event:read", Op::IssueTag),
    r("GET", "issues/{issue_id}/tags/{key}/values", I(M), "event:read", Op::IssueTagValues),
    r("GET", "issues/{issue_id}/grouping-info", I(M), "event:read", Op::GroupingInfo),
    r("GET", "issues/{issue_id}/hashes", I(M), "event:read", Op::Hashes),
    r("GET", "issues/{issue_id}/events", I(M), "event:read", Op::IssueEvents),
    r("GET", "issues/{issue_id}/events/latest", I(M), "event:read", Op::IssueLatestEvent),
    r("GET", "issues/{issue_id}/events/oldest", I(M), "event:read", Op::IssueOldestEvent),
    r("GET", "issues/{issue_id}/events/{event_id}", I(M), "event:read", Op::IssueEvent),
    r("GET", "issues/{issue_id}/user-reports", I(M), "event:read", Op::IssueUserReports),
    r("GET", "issues/{issue_id}/notifications", I(M), "event:read", Op::IssueNotifications),
    r("GET", "projects/{org}/{project}/rules", P(M), "project:read", Op::ListRules),
    r("POST", "projects/{org}/{project}/rules", P(Admin), "project:write", Op::CreateRule),
    r("GET", "projects/{org}/{project}/rules/{rule_id}", P(M), "project:read", Op::RuleDetail),
    r("PUT", "projects/{org}/{project}/rules/{rule_id}", P(Admin), "project:write", Op::UpdateRule),
    r("DELETE", "projects/{org}/{project}/rules/{rule_id}", P(Admin), "project:write", Op::DeleteRule),
];

/// A path's parameters by name, percent-decoded.
pub type Params = Vec<(&'static str, String)>;

/// A request on its way to a handler: the caller and the resources the router resolved.
pub struct Ctx<'r> {
    pub req: &'r Request,
    caller: Option<Caller>,
    pub member: Option<Member>,
    pub project: Option<Project>,
    pub issue: Option<Issue>,
    params: Params,
}

impl Ctx<'_> {
    /// The signed-in caller (every route but the public ones has one).
    pub fn caller(&self) -> Result<&Caller, ApiError> {
        self.caller.as_ref().ok_or_else(auth::unauthenticated)
    }
    /// The caller, if any, on a public route.
    pub fn optional_caller(&self) -> Option<&Caller> {
        self.caller.as_ref()
    }
    pub fn member(&self) -> Result<&Member, ApiError> {
        self.member.as_ref().ok_or_else(ApiError::not_found)
    }
    pub fn project(&self) -> Result<&Project, ApiError> {
        self.project.as_ref().ok_or_else(ApiError::not_found)
    }
    pub fn issue(&self) -> Result<&Issue, ApiError> {
        self.issue.as_ref().ok_or_else(ApiError::not_found)
    }
    /// A path parameter (already percent-decoded).
    pub fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// Which route a method and path (below `/api/0/`) name, with the path's parameters. `Err`
/// is 405 when the path exists for other methods, 404 when it does not exist at all.
pub fn find(method: &str, rest: &str) -> Result<(&'static Route, Params), ApiError> {
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let mut path_known = false;
    for route in ROUTES {
        let Some(params) = match_path(route.path, &segments) else { continue };
        if route.method == method {
            return Ok((route, params));
        }
        path_known = true;
    }
    if path_known {
        Err(ApiError::new(405, format!("Method \"{method}\" not allowed.")))
    } else {
        Err(ApiError::not_found())
    }
}

fn match_path(pattern: &'static str, segments: &[&str]) -> Option<Params> {
    let parts: Vec<&'static str> = pattern.split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    // The first matching route wins, so `events/latest` is listed before `events/{event_id}`.
    for (part, seg) in parts.iter().zip(segments) {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if seg.is_empty() {
                return None;
            }
            params.push((name, percent_decode(seg)?));
        } else if part != seg {
            return None;
        }
    }
    Some(params)
}

/// Decodes `%XX` escapes (member ids are e-mail addresses); `None` for malformed input.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Authenticates the caller and resolves the route's resources, checking access on the way.
pub async fn resolve<'r>(deps: &Deps, req: &'r Request, route: &Route, params: Params) -> Result<Ctx<'r>, ApiError> {
    auth::require_json_unless_bearer(req)?;
    let caller = match route.access {
        Access::Public => auth::authenticate(deps, req).await.ok(),
        _ => Some(auth::authenticate(deps, req).await?),
    };
    let mut ctx = Ctx { req, caller, member: None, project: None, issue: None, params };
    let needed = match route.access {
        Access::Public | Access::User => None,
        Access::Org(role) | Access::Project(role) | Access::Issue(role) => Some(role),
    };
    if let Some(caller) = &ctx.caller {
        caller.require_scope(route.scope)?;
    }
    let Some(needed) = needed else { return Ok(ctx) };
    let caller = ctx.caller()?.clone();
    let org = match route.access {
        Access::Issue(_) => {
            let id = IssueId::parse(ctx.param("issue_id")).ok_or_else(ApiError::not_found)?;
            let issue = deps.issues.issue(id).await?.ok_or_else(ApiError::not_found)?;
            let project = deps.directory.project(issue.project_id).await?.ok_or_else(ApiError::not_found)?;
            let org = project.org.clone();
            ctx.issue = Some(issue);
            ctx.project = Some(project);
            org
        }
        _ => ctx.param("org").to_owned(),
    };
    // Membership decides before anything about the organization is answered: outsiders learn
    // nothing. The project is looked up at the same time, and used only once membership holds.
    let member = if let Access::Project(_) = route.access {
        let slug = ctx.param("project").to_owned();
        let project = async { deps.directory.project_by_slug(&org, &slug).await.map_err(ApiError::from) };
        let (member, project) = futures_util::future::try_join(auth::membership(deps, &caller, &org), project).await?;
        ctx.project = Some(project.ok_or_else(ApiError::not_found)?);
        member
    } else {
        auth::membership(deps, &caller, &org).await?
    };
    if member.role < needed {
        return Err(ApiError::new(
            403,
            format!("You need the {} role in this organization to do that.", needed.as_str()),
        ));
    }
    ctx.member = Some(member);
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_routes_win_over_parameters() {
        let (route, _) = find("GET", "issues/12/events/latest/").unwrap();
        assert_eq!(route.op, Op::IssueLatestEvent);
        let (route, params) = find("GET", "issues/12/events/abc/").unwrap();
        assert_eq!(route.op, Op::IssueEvent);
        assert_eq!(params, vec![("issue_id", "12".to_owned()), ("event_id", "abc".to_owned())]);
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(find("GET", "nope/").unwrap_err().status, 404);
        assert_eq!(find("PATCH", "issues/1/").unwrap_err().status, 405);
        let (_, params) = find("PUT", "organizations/acme/members/ann%40acme.test/").unwrap();
        assert_eq!(params[1], ("member_id", "ann@acme.test".to_owned()));
        assert!(find("PUT", "organizations/acme/members/%zz/").is_err());
    }

    #[test]
    fn every_route_is_listed_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} {} twice", a.method, a.path);
            }
        }
    }
}
