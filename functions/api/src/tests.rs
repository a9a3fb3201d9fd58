//! Handler tests with in-memory ports: routes, shapes, and that nothing leaks across orgs.

use super::*;
use aws_lambda_events::http::{HeaderMap, HeaderValue, Method};
use errata_domain::secrets::token_digest;
use errata_domain::{
    ApiToken, BodyRef, EventSummary, Grouping, IssueId, Member, Org, Project, RateLimit, Role, Sighting, Timestamp,
};
use errata_testkit::{MemoryBlobs, MemoryDirectory, MemoryIssues, MemoryOutbox, ScriptedQueries};
use serde_json::{json, Value};

const TOKEN: &str = "errata_aaaa";

/// The time the world's events happen after: an hour ago, to the second.
/// An hour ago, to the second, fixed for the whole run: a world built in one second and
/// checked in the next must agree on it.
fn base_ms() -> i64 {
    static BASE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| (Timestamp::now().unix_millis() - 3_600_000) / 1000 * 1000)
}

fn iso(ms: i64) -> String {
    Timestamp::from_unix_millis(ms).unwrap().to_rfc3339()
}
const OTHER_TOKEN: &str = "errata_bbbb";
/// The deploy's first-run setup secret in these tests.
const SETUP_SECRET: &str = "setup-secret-for-tests";
/// Ann's read-only token.
const READ_TOKEN: &str = "errata_cccc";
/// Mia is a member of acme, Adam an admin (Ann is its owner, Olaf owns other).
const MEMBER_TOKEN: &str = "errata_dddd";
const ADMIN_TOKEN: &str = "errata_eeee";
/// The DSN keys of acme/web and other/web.
const ACME_KEY: &str = "0123456789abcdef0123456789abcdef";
const OTHER_KEY: &str = "fedcba9876543210fedcba9876543210";

struct World {
    deps: Deps,
    outbox: Arc<MemoryOutbox>,
    queries: Arc<ScriptedQueries>,
    issue_ids: Vec<IssueId>,
    foreign_issue: IssueId,
}

async fn put_token(directory: &MemoryDirectory, token: &str, email: &str, scopes: &[&str]) {
    let stored = ApiToken {
        digest: token_digest(token),
        email: email.into(),
        label: "t".into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        created_at: 0,
        last_chars: String::new(),
        expires_at: None,
    };
    directory.put_api_token(&stored).await.unwrap();
}

async fn world() -> World {
    let directory = Arc::new(MemoryDirectory::default());
    let issues = Arc::new(MemoryIssues::default());
    let events = Arc::new(MemoryBlobs::default());
    for (org, email, token) in [("acme", "ann@acme.test", TOKEN), ("other", "olaf@other.test", OTHER_TOKEN)] {
        directory.put_org(&Org { slug: org.into(), name: org.into(), quota: None }).await.unwrap();
        directory
            .put_project(&Project {
                id: 0,
                org: org.into(),
                slug: "web".into(),
                name: "Web".into(),
                platform: Some("python".into()),
                quota: None,
                settings: Default::default(),
            })
            .await
            .unwrap();
        directory.put_member(&Member { org: org.into(), email: email.into(), role: Role::Owner }).await.unwrap();
        put_token(&directory, token, email, &[]).await;
    }
    put_token(&directory, READ_TOKEN, "ann@acme.test", &["event:read", "project:read"]).await;
    directory
        .put_release(&errata_domain::releases::Release {
            org: "acme".into(),
            version: "web@1".into(),
            projects: vec!["web".into()],
            url: None,
            date_created: 1,
            date_started: None,
            date_released: None,
            status: "open".into(),
        })
        .await
        .unwrap();
    for (email, role, token) in
        [("mia@acme.test", Role::Member, MEMBER_TOKEN), ("adam@acme.test", Role::Admin, ADMIN_TOKEN)]
    {
        directory.put_member(&Member { org: "acme".into(), email: email.into(), role }).await.unwrap();
        put_token(&directory, token, email, &[]).await;
    }
    for (key, project_id) in [(ACME_KEY, 1), (OTHER_KEY, 2)] {
        directory
            .put_project_key(&errata_domain::ProjectKey {
                public_key: key.into(),
                project_id,
                label: "Default".into(),
                enabled: true,
                rate_limit: None,
                created_at: 0,
            })
            .await
            .unwrap();
    }
    let mut issue_ids = Vec::new();
    // acme/web is project 1, other/web project 2.
    for (n, (project_id, ty, ts)) in
        [(1, "KeyError", 1_000), (1, "KeyError", 3_000), (1, "ValueError", 2_000), (2, "SecretError", 5_000)]
            .into_iter()
            .enumerate()
    {
        let mut event = json!({"event_id": format!("{n:032}"), "exception": {"values": [{"type": ty, "value": "v", "stacktrace": {"frames": [{"function": "f", "lineno": 2, "in_app": true, "context_line": "x = 1"}]}}]}, "tags": {"browser": "x"}});
        if n == 1 {
            // One stored attachment, as the processor lists it on its event.
            let key = format!("attachments/1/{n:032}/0-page.html");
            events.put(&key, b"<script>alert(1)</script>".to_vec(), "text/html").await.unwrap();
            event["attachments"] = json!([{"name": "page <1>.html", "type": "event.attachment", "size": 25, "content_type": "text/html", "key": key}]);
        }
        if n == 2 {
            // References this event does not own, as a bug or a forged event could leave them:
            // the other organization's attachment, a sibling event's, and an object that is
            // not an attachment at all.
            event["attachments"] = json!([
                {"name": "a", "type": "event.attachment", "size": 6, "key": format!("attachments/2/{:032}/0-secret.txt", 3)},
                {"name": "b", "type": "event.attachment", "size": 25, "key": format!("attachments/1/{:032}/0-page.html", 1)},
                {"name": "c", "type": "event.minidump", "size": 9, "key": "events/2/3.json"},
            ]);
        }
        if n == 3 {
            let key = format!("attachments/2/{n:032}/0-secret.txt");
            events.put(&key, b"secret".to_vec(), "text/plain").await.unwrap();
            event["attachments"] = json!([{"name": "secret.txt", "type": "event.attachment", "size": 6, "content_type": "text/plain", "key": key}]);
        }
        let id = store_event(events.as_ref(), issues.as_ref(), project_id, n, &event, base_ms() + ts).await;
        if !issue_ids.contains(&id) {
            issue_ids.push(id);
        }
    }
    let foreign_issue = issue_ids.pop().unwrap();
    let health = issues.clone();
    let rules = Arc::new(errata_testkit::MemoryRules::default());
    for project_id in [1, 2] {
        let rule = errata_domain::alerts::default_rule(project_id, "rule-1".into(), 0);
        errata_ports::RuleStore::put_rule(rules.as_ref(), &rule).await.unwrap();
    }
    let outbox = Arc::new(MemoryOutbox::default());
    let queries = Arc::new(ScriptedQueries::default());
    queries.answer(
        "CROSS JOIN UNNEST",
        vec![vec![
            Some("browser"),
            Some("x"),
            Some("2"),
            Some("2023-11-14 22:13:21.000"),
            Some("2023-11-14 22:13:23.000"),
        ]],
    );
    let throttle = Arc::new(errata_testkit::MemoryRateLimiter::default());
    let resolver = errata_testkit::StaticResolver::with(&[
        ("hooks.example", "93.184.215.14"),
        ("internal.example", "10.0.0.7"),
        ("metadata.example", "169.254.169.254"),
    ]);
    World {
        deps: Deps {
            accounts: directory.clone(),
            audit: directory.clone(),
            throttle,
            setup_secret: SETUP_SECRET.into(),
            egress: Default::default(),
            default_key_limit: Some(RateLimit { count: 1000, window_secs: 60 }),
            default_project_quota: Some(RateLimit { count: 1_000_000, window_secs: 86_400 }),
            resolver: Arc::new(resolver),
            directory,
            issues,
            health,
            events,
            debug_files: Arc::new(MemoryBlobs::default()),
            queries: queries.clone(),
            rules: rules.clone(),
            notifications: Arc::new(errata_testkit::MemoryNotificationLog::default()),
            outbox: outbox.clone(),
            web_url: "http://web.test".into(),
            public_url: "http://api.test/base".into(),
            dsn_url: "http://ingest.test/base".into(),
        },
        outbox,
        queries,
        issue_ids,
        foreign_issue,
    }
}

/// Stores an event's body and counts it, as the processor does; returns its issue.
async fn store_event(
    events: &dyn BlobStore,
    issues: &dyn IssueStore,
    project_id: u64,
    n: usize,
    event: &Value,
    at_ms: i64,
) -> IssueId {
    let parsed: errata_protocol::Event = serde_json::from_value(event.clone()).unwrap();
    let grouping = Grouping::of(&parsed);
    let key = format!("events/{project_id}/{n}.json");
    events.put(&key, serde_json::to_vec(event).unwrap(), "").await.unwrap();
    let id = IssueId::for_group(project_id, &grouping.hash);
    issues
        .record(&Sighting {
            project_id,
            issue_id: id,
            event_id: format!("{n:032}"),
            timestamp: Timestamp::from_unix_millis(at_ms).unwrap(),
            summary: EventSummary::of(&parsed),
            grouping,
            platform: "python".into(),
            release: None,
            environment: None,
            user_hash: None,
            body: BodyRef { key, offset: 0, len: 0 },
            retention_days: None,
            has_attachments: event.get("attachments").is_some(),
        })
        .await
        .unwrap();
    id
}

fn get(path: &str, query: &str, token: Option<&str>) -> Request {
    let mut req = Request::default();
    req.raw_path = Some(path.into());
    req.raw_query_string = Some(query.into());
    req.query_string_parameters = query.parse().unwrap();
    req.request_context.http.method = Method::GET;
    let mut headers = HeaderMap::new();
    if let Some(t) = token {
        headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {t}")).unwrap());
    }
    req.headers = headers;
    req
}

async fn call(w: &World, path: &str, query: &str, token: Option<&str>) -> (i64, Value, Response) {
    send(w, get(path, query, token)).await
}

async fn put(w: &World, path: &str, query: &str, body: Value, token: &str) -> (i64, Value) {
    let mut req = get(path, query, Some(token));
    req.request_context.http.method = Method::PUT;
    req.body = Some(body.to_string());
    let (status, body, _) = send(w, req).await;
    (status, body)
}

async fn send(w: &World, req: Request) -> (i64, Value, Response) {
    let resp = handle(&w.deps, req).await;
    let body = match &resp.body {
        Some(aws_lambda_events::encodings::Body::Text(t)) => serde_json::from_str(t).unwrap(),
        _ => Value::Null,
    };
    (resp.status_code, body, resp)
}

/// The cursor of the `Link` header's next page, when it has results.
fn next_cursor(resp: &Response) -> Option<String> {
    let link = resp.headers["link"].to_str().unwrap();
    let next = link.split(", <").find(|part| part.contains("rel=\"next\""))?;
    if !next.contains("results=\"true\"") {
        return None;
    }
    Some(next.rsplit("cursor=\"").next()?.trim_end_matches('"').to_owned())
}

#[tokio::test]
async fn lists_issues_in_sentry_shape_sorted_by_last_seen() {
    let w = world().await;
    let (status, body, resp) = call(&w, "/api/0/projects/acme/web/issues/", "", Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    let list = body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["title"], "KeyError: v");
    assert_eq!(list[0]["count"], "2");
    assert_eq!(list[1]["count"], "1");
    assert_eq!(list[0]["status"], "unresolved");
    assert_eq!(list[0]["project"]["slug"], "web");
    assert_eq!(list[0]["firstSeen"], iso(base_ms() + 1_000));
    assert_eq!(list[0]["lastSeen"], iso(base_ms() + 3_000));
    assert_eq!(
        list[0]["permalink"],
        format!("http://web.test/organizations/acme/issues/{}/", list[0]["id"].as_str().unwrap())
    );
    assert!(resp.headers["link"].to_str().unwrap().contains("rel=\"next\"; results=\"false\""));

    let (_, body, _) = call(&w, "/api/0/projects/acme/web/issues/", "query=ValueError&limit=1", Some(TOKEN)).await;
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert_eq!(body[0]["title"], "ValueError: v");
    let (_, body, resp) = call(&w, "/api/0/projects/acme/web/issues/", "sort=freq&limit=1", Some(TOKEN)).await;
    assert_eq!(body[0]["count"], "2");
    let cursor = next_cursor(&resp).expect("a next page");
    assert_eq!(cursor, format!("2:{}:0", body[0]["id"].as_str().unwrap()));
    let (_, body, resp) =
        call(&w, "/api/0/projects/acme/web/issues/", &format!("sort=freq&limit=1&cursor={cursor}"), Some(TOKEN)).await;
    assert_eq!(body[0]["count"], "1");
    assert_eq!(next_cursor(&resp), None);
    let (_, body, _) = call(&w, "/api/0/projects/acme/web/issues/", "query=is:resolved", Some(TOKEN)).await;
    assert_eq!(body, json!([]));
}

#[tokio::test]
async fn issue_detail_and_latest_event() {
    let w = world().await;
    let id = w.issue_ids[0];
    let (status, body, _) = call(&w, &format!("/api/0/issues/{id}/"), "", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], id.to_string());
    let (status, ev, _) = call(&w, &format!("/api/0/issues/{id}/events/latest/"), "", Some(TOKEN)).await;
    assert_eq!(status, 200, "{ev}");
    assert_eq!(ev["eventID"], format!("{:032}", 1), "the later of the two events");
    assert_eq!(ev["groupID"], id.to_string());
    assert_eq!(ev["entries"][0]["type"], "exception");
    assert_eq!(ev["entries"][0]["data"]["values"][0]["stacktrace"]["frames"][0]["context"], json!([[2, "x = 1"]]));
    assert!(ev["tags"].as_array().unwrap().contains(&json!({"key": "browser", "value": "x"})));
}

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let w = world().await;
    for token in [None, Some("errata_wrong"), Some("")] {
        let (status, body, _) = call(&w, "/api/0/projects/acme/web/issues/", "", token).await;
        assert_eq!(status, 401, "{token:?}");
        assert!(body["detail"].as_str().unwrap().len() > 5);
    }
}

#[tokio::test]
async fn foreign_resources_are_404_never_403() {
    let w = world().await;
    let paths = [
        "/api/0/projects/other/web/issues/".to_owned(),
        format!("/api/0/issues/{}/", w.foreign_issue),
        format!("/api/0/issues/{}/events/latest/", w.foreign_issue),
        format!("/api/0/issues/{}/events/oldest/", w.foreign_issue),
        format!("/api/0/issues/{}/events/", w.foreign_issue),
        format!("/api/0/issues/{}/events/{:032}/", w.foreign_issue, 3),
        format!("/api/0/projects/other/web/events/{:032}/", 3),
        format!("/api/0/projects/acme/web/events/{:032}/", 3),
        format!("/api/0/issues/{}/user-reports/", w.foreign_issue),
        "/api/0/projects/other/web/user-reports/".to_owned(),
        "/api/0/projects/nope/web/issues/".to_owned(),
        "/api/0/issues/123/".to_owned(),
        "/api/0/issues/abc/".to_owned(),
        "/api/0/unknown/".to_owned(),
    ];
    for path in &paths {
        let (status, body, _) = call(&w, path, "", Some(TOKEN)).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["detail"], "The requested resource does not exist");
    }
    // The other org's member sees their own issue.
    let (status, _, _) = call(&w, &format!("/api/0/issues/{}/", w.foreign_issue), "", Some(OTHER_TOKEN)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_parameters_are_400() {
    let w = world().await;
    for query in [
        "limit=0",
        "limit=1000",
        "sort=bogus",
        "cursor=x",
        "query=is:bogus",
        "query=has:colour",
        "query=age:soon",
        "statsPeriod=1y",
        // Cursors outside the time the project can have issues (a walk over empty days).
        "cursor=9223372036854775807:1:0",
        "cursor=99999999999999:1:0",
        "sort=new&cursor=-5:1:0",
    ] {
        let (status, body, _) = call(&w, "/api/0/projects/acme/web/issues/", query, Some(TOKEN)).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
    // Counts are not times: a large count is a fine cursor for the frequency sort.
    let (status, _, _) =
        call(&w, "/api/0/projects/acme/web/issues/", "sort=freq&cursor=99999999999999:1:0", Some(TOKEN)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn events_of_an_issue_by_id_oldest_and_paged() {
    let w = world().await;
    let id = w.issue_ids[0];
    let (status, ev, _) = call(&w, &format!("/api/0/issues/{id}/events/oldest/"), "", Some(TOKEN)).await;
    assert_eq!((status, ev["eventID"].clone()), (200, json!(format!("{:032}", 0))));
    assert_eq!((ev["previousEventID"].clone(), ev["nextEventID"].clone()), (json!(null), json!(format!("{:032}", 1))));
    let (status, ev, _) = call(&w, &format!("/api/0/issues/{id}/events/{:032}/", 1), "", Some(TOKEN)).await;
    assert_eq!((status, ev["eventID"].clone()), (200, json!(format!("{:032}", 1))));
    assert_eq!((ev["previousEventID"].clone(), ev["nextEventID"].clone()), (json!(format!("{:032}", 0)), json!(null)));
    // An event of another issue is not found under this one.
    let (status, _, _) = call(&w, &format!("/api/0/issues/{id}/events/{:032}/", 2), "", Some(TOKEN)).await;
    assert_eq!(status, 404);
    let (status, ev, _) = call(&w, &format!("/api/0/projects/acme/web/events/{:032}/", 2), "", Some(TOKEN)).await;
    assert_eq!((status, ev["title"].clone()), (200, json!("ValueError: v")));

    let (status, list, resp) = call(&w, &format!("/api/0/issues/{id}/events/"), "limit=1", Some(TOKEN)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["eventID"], format!("{:032}", 1), "newest first");
    assert_eq!(list[0]["title"], "KeyError: v");
    let link = resp.headers["link"].to_str().unwrap().to_owned();
    let next = link.split("cursor=\"").nth(2).unwrap().split('"').next().unwrap();
    assert!(link.contains("rel=\"next\"; results=\"true\""), "{link}");
    let (_, list, resp) =
        call(&w, &format!("/api/0/issues/{id}/events/"), &format!("limit=1&cursor={next}"), Some(TOKEN)).await;
    assert_eq!(list[0]["eventID"], format!("{:032}", 0));
    assert!(resp.headers["link"].to_str().unwrap().contains("rel=\"next\"; results=\"false\""));
    let (_, list, _) = call(&w, &format!("/api/0/issues/{id}/events/"), "sort=oldest&full=true", Some(TOKEN)).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["entries"][0]["type"], "exception");
    for bad in ["cursor=zzz", "limit=0", "sort=sideways"] {
        let (status, _, _) = call(&w, &format!("/api/0/issues/{id}/events/"), bad, Some(TOKEN)).await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn resolve_ignore_and_unresolve_single_and_bulk() {
    let w = world().await;
    let [a, b] = [w.issue_ids[0], w.issue_ids[1]];
    let (status, body) = put(&w, &format!("/api/0/issues/{a}/"), "", json!({"status": "resolved"}), TOKEN).await;
    assert_eq!((status, body["status"].clone()), (200, json!("resolved")), "{body}");
    let (_, list, _) = call(&w, "/api/0/projects/acme/web/issues/", "query=is:resolved", Some(TOKEN)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], a.to_string());

    let (status, body) = put(
        &w,
        &format!("/api/0/issues/{b}/"),
        "",
        json!({"status": "ignored", "statusDetails": {"ignoreCount": 100}}),
        TOKEN,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["substatus"].clone(), body["statusDetails"].clone()),
        (json!("archived_until_condition_met"), json!({"ignoreCount": 100}))
    );

    let (status, body) = put(
        &w,
        "/api/0/projects/acme/web/issues/",
        &format!("id={a}&id={b}&id={}", w.foreign_issue),
        json!({"status": "unresolved"}),
        TOKEN,
    )
    .await;
    assert_eq!((status, body["status"].clone()), (200, json!("unresolved")), "{body}");
    let (_, list, _) = call(&w, "/api/0/projects/acme/web/issues/", "query=is:unresolved", Some(TOKEN)).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    // The other organization's issue in the same request was left alone.
    let (_, foreign, _) = call(&w, &format!("/api/0/issues/{}/", w.foreign_issue), "", Some(OTHER_TOKEN)).await;
    assert_eq!(foreign["status"], "unresolved");

    for (body, query) in [
        (json!({"status": "fixed"}), ""),
        (json!({"assignedTo": "me"}), ""),
        (json!({"status": "ignored", "statusDetails": {"ignoreCount": -1}}), ""),
        (json!({"status": "ignored", "statusDetails": {"ignoreUntil": "soon"}}), ""),
        (json!([1]), ""),
    ] {
        let (status, reply) = put(&w, &format!("/api/0/issues/{a}/"), query, body.clone(), TOKEN).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert!(reply["detail"].as_str().unwrap().len() > 10);
    }
    let (status, _) = put(&w, "/api/0/projects/acme/web/issues/", "", json!({"status": "resolved"}), TOKEN).await;
    assert_eq!(status, 400, "bulk without ids");
    let (status, _) = put(&w, &format!("/api/0/issues/{a}/"), "", json!({"status": "resolved"}), READ_TOKEN).await;
    assert_eq!(status, 403, "a read-only token cannot change issues");
    let (status, _) =
        put(&w, &format!("/api/0/issues/{}/", w.foreign_issue), "", json!({"status": "resolved"}), TOKEN).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn release_health_in_the_sessions_api_shape() {
    use errata_domain::sessions::from_update;
    let w = world().await;
    let now = Timestamp::now().to_rfc3339();
    for (sid, status) in [("a", "exited"), ("b", "crashed"), ("c", "ok")] {
        let update = format!(
            r#"{{"sid":"{sid}","init":true,"started":"{now}","status":"{status}","attrs":{{"release":"app@1","environment":"prod"}}}}"#
        );
        for c in from_update(update.as_bytes()).unwrap() {
            w.deps.health.record_sessions(1, &c).await.unwrap();
        }
    }
    let query = "project=1&field=sum(session)&groupBy=session.status&query=release:app@1&statsPeriod=24h";
    let (status, body, _) = call(&w, "/api/0/organizations/acme/sessions/", query, Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["intervals"].as_array().unwrap().len(), 24);
    let group =
        |s: &str| body["groups"].as_array().unwrap().iter().find(|g| g["by"]["session.status"] == s).unwrap().clone();
    assert_eq!(group("healthy")["totals"]["sum(session)"], 2, "exited cleanly, or still open");
    assert_eq!(group("crashed")["totals"]["sum(session)"], 1);
    let rates = "project=1&field=crash_free_rate(session)&groupBy=release&statsPeriod=24h";
    let (status, body2, _) = call(&w, "/api/0/organizations/acme/sessions/", rates, Some(TOKEN)).await;
    assert_eq!(status, 200, "{body2}");
    let rate = body2["groups"][0]["totals"]["crash_free_rate(session)"].as_f64().unwrap();
    assert!((rate - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        group("crashed")["series"]["sum(session)"].as_array().unwrap().iter().filter_map(Value::as_u64).sum::<u64>(),
        1
    );

    let (_, body, _) = call(
        &w,
        "/api/0/organizations/acme/sessions/",
        "project=1&field=sum(session)&query=release:other",
        Some(TOKEN),
    )
    .await;
    assert_eq!(body["groups"][0]["totals"]["sum(session)"], 0);
    // Another organization's project is not found; bad parameters are 400.
    let (status, _, _) =
        call(&w, "/api/0/organizations/acme/sessions/", "project=2&field=sum(session)", Some(TOKEN)).await;
    assert_eq!(status, 404);
    let (status, _, _) =
        call(&w, "/api/0/organizations/other/sessions/", "project=1&field=sum(session)", Some(OTHER_TOKEN)).await;
    assert_eq!(status, 404);
    for bad in [
        "field=sum(session)",
        "project=1",
        "project=1&field=avg(x)",
        "project=1&field=sum(session)&statsPeriod=1y",
        "project=1&field=sum(session)&groupBy=os",
        "project=1&field=crash_free_rate(session)&groupBy=session.status",
    ] {
        let (status, _, _) = call(&w, "/api/0/organizations/acme/sessions/", bad, Some(TOKEN)).await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn user_reports_per_issue_and_project() {
    let w = world().await;
    let id = w.issue_ids[0];
    // 1 attached when stored, 2 about no event, 3 stored before its event was processed.
    for (n, issue) in [(1, Some(id)), (2, None), (3, None)] {
        w.deps
            .issues
            .add_feedback(&errata_domain::Feedback {
                project_id: 1,
                id: format!("f{n}"),
                issue_id: issue,
                event_id: (n != 2).then(|| format!("{:032}", 1)),
                name: "Ann".into(),
                email: "ann@example.com".into(),
                comments: format!("note {n}"),
                url: None,
                timestamp: Timestamp::from_unix_millis(1_700_000_000_000 + n).unwrap(),
            })
            .await
            .unwrap();
    }
    let (status, list, _) = call(&w, &format!("/api/0/issues/{id}/user-reports/"), "", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!((list[0]["comments"].clone(), list[0]["issue"]["id"].clone()), (json!("note 3"), json!(id.to_string())));
    assert_eq!(list[1]["comments"], "note 1");
    let (_, all, _) = call(&w, "/api/0/projects/acme/web/user-reports/", "", Some(TOKEN)).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(all[1]["comments"], "note 2", "newest first");
    assert_eq!(all[1]["issue"], Value::Null);
    assert_eq!(all[0]["issue"]["id"], id.to_string());
    let (status, _, _) = call(&w, "/api/0/projects/acme/web/user-reports/", "", Some(OTHER_TOKEN)).await;
    assert_eq!(status, 404);
}

mod access;
mod artifacts;
mod difs;
mod releases;
mod search;
mod security;

#[tokio::test]
async fn event_attachments_are_listed_and_downloaded_as_files() {
    let w = world().await;
    let base = format!("/api/0/projects/acme/web/events/{:032}/attachments/", 1);
    let (status, list, _) = call(&w, &base, "", Some(TOKEN)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["name"], "page <1>.html");
    assert_eq!(
        (list[0]["id"].clone(), list[0]["size"].clone(), list[0]["mimetype"].clone()),
        (json!("0"), json!(25), json!("text/html"))
    );
    let (status, meta, _) = call(&w, &format!("{base}0/"), "", Some(TOKEN)).await;
    assert_eq!((status, meta["name"].clone()), (200, json!("page <1>.html")));

    let (_, _, resp) = call(&w, &format!("{base}0/"), "download=1", Some(TOKEN)).await;
    assert_eq!(resp.status_code, 200);
    // Client content never renders in the app's origin: a download, not a page.
    assert_eq!(resp.headers["content-type"], "application/octet-stream");
    assert_eq!(resp.headers["content-disposition"], "attachment; filename=\"page__1_.html\"");
    assert_eq!(resp.headers["x-content-type-options"], "nosniff");
    assert!(resp.is_base64_encoded);
    match resp.body {
        Some(aws_lambda_events::encodings::Body::Binary(b)) => assert_eq!(b, b"<script>alert(1)</script>"),
        other => panic!("{other:?}"),
    }

    let (status, _, _) = call(&w, &format!("{base}1/"), "", Some(TOKEN)).await;
    assert_eq!(status, 404);
    let (status, list, _) =
        call(&w, &format!("/api/0/projects/acme/web/events/{:032}/attachments/", 0), "", Some(TOKEN)).await;
    assert_eq!((status, list), (200, json!([])));
    // Another organization's event is not found through this project.
    let (status, _, _) =
        call(&w, &format!("/api/0/projects/acme/web/events/{:032}/attachments/", 3), "", Some(TOKEN)).await;
    assert_eq!(status, 404);
}

/// Every route that serves an event's stored bytes, walked for an event whose stored JSON names
/// objects it does not own (another organization's attachment, a sibling event's, an object
/// that is no attachment): none of them is listed, described or read.
#[tokio::test]
async fn references_outside_the_events_own_folder_are_never_served() {
    let w = world().await;
    let event = format!("{:032}", 2);
    let base = format!("/api/0/projects/acme/web/events/{event}/attachments/");
    let (status, list, _) = call(&w, &base, "", Some(TOKEN)).await;
    assert_eq!((status, list), (200, json!([])));
    for index in 0..3 {
        for query in ["", "download=1"] {
            let (status, body, resp) = call(&w, &format!("{base}{index}/"), query, Some(TOKEN)).await;
            assert_eq!(status, 404, "attachment {index} {query}: {body}");
            assert!(!matches!(resp.body, Some(aws_lambda_events::encodings::Body::Binary(_))));
        }
    }
    let (status, detail, _) = call(&w, &format!("/api/0/projects/acme/web/events/{event}/"), "", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert!(!detail.to_string().contains("secret"), "{detail}");
    // The other organization's owner still reads their own attachment.
    let own = format!("/api/0/projects/other/web/events/{:032}/attachments/0/", 3);
    let (status, _, resp) = call(&w, &own, "download=1", Some(OTHER_TOKEN)).await;
    assert_eq!(status, 200);
    match resp.body {
        Some(aws_lambda_events::encodings::Body::Binary(b)) => assert_eq!(b, b"secret"),
        other => panic!("{other:?}"),
    }
}

/// The size that decides whether the API serves an attachment is the stored object's, not the
/// one the event lists.
#[tokio::test]
async fn download_size_comes_from_the_stored_object() {
    let w = world().await;
    let key = format!("attachments/1/{:032}/0-page.html", 1);
    w.deps.events.put(&key, vec![b'x'; 4 * 1024 * 1024 + 1], "text/html").await.unwrap();
    let path = format!("/api/0/projects/acme/web/events/{:032}/attachments/0/", 1);
    let (status, body, _) = call(&w, &path, "download=1", Some(TOKEN)).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("larger than 4194304 bytes"), "{body}");
}
