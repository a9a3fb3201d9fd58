//! The issue list's search, sorts and counts; assignment and deletion; the event-store routes
//! (with the SQL they send checked, the rows scripted).

use super::*;

const LIST: &str = "/api/0/projects/acme/web/issues/";

async fn titles(w: &World, query: &str) -> Vec<String> {
    let (status, body, _) = call(w, LIST, query, Some(TOKEN)).await;
    assert_eq!(status, 200, "{query}: {body}");
    body.as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn search_terms_on_the_issue() {
    let w = world().await;
    assert_eq!(titles(&w, "").await, ["KeyError: v", "ValueError: v"], "is:unresolved by default");
    assert_eq!(titles(&w, "query=is:unresolved%20timesSeen:%3E1").await, ["KeyError: v"]);
    assert_eq!(titles(&w, "query=!level:error").await.len(), 0);
    assert_eq!(titles(&w, "query=level:[error,fatal]%20\"valueerror\"").await, ["ValueError: v"]);
    assert_eq!(titles(&w, "query=age:-2h&sort=new").await, ["ValueError: v", "KeyError: v"], "first seen newest first");
    assert_eq!(titles(&w, "query=lastSeen:%2B1d").await.len(), 0, "nothing last seen over a day ago");
    assert!(w.queries.asked().is_empty(), "issue terms never query the event store");
}

#[tokio::test]
async fn tag_and_release_terms_query_the_event_store_once_each() {
    let w = world().await;
    let value_error = w.issue_ids[1].to_string();
    w.queries.answer("browser", vec![vec![Some(&value_error)]]);
    w.queries.answer("release IN ('1.0')", vec![vec![Some(&value_error)]]);
    assert_eq!(titles(&w, "query=browser:Firefox").await, ["ValueError: v"]);
    assert_eq!(titles(&w, "query=!browser:Firefox").await, ["KeyError: v"]);
    assert_eq!(titles(&w, "query=release:1.0%20browser:Firefox").await, ["ValueError: v"]);
    let asked = w.queries.asked();
    assert!(asked[0].contains("project_id = 1 AND dt >= '"), "{}", asked[0]);
    assert!(
        asked[0].contains("CASE WHEN contains(map_keys(tags), 'browser.name')")
            || asked[0].contains("browser_name IN ('Firefox')"),
        "{}",
        asked[0]
    );
    // A quote in a value cannot break out of its literal.
    titles(&w, "query=url:\"it's\"").await;
    assert!(w.queries.asked().last().unwrap().contains("IN ('it''s')"));
    // Still running after the wait: a clear 503.
    *w.queries.pending.lock().unwrap() = true;
    let (status, body, _) = call(&w, LIST, "query=browser:Chrome", Some(TOKEN)).await;
    assert_eq!(status, 503, "{body}");
}

#[tokio::test]
async fn sparkline_counts_per_issue() {
    let w = world().await;
    let key_error = w.issue_ids[0].to_string();
    let hour = (Timestamp::now().unix_millis() / 3_600_000) * 3_600_000;
    let bucket = Timestamp::from_unix_millis(hour).unwrap().to_rfc3339().replace('T', " ");
    w.queries.answer("date_trunc('hour'", vec![vec![Some(&key_error), Some(&bucket[..19]), Some("2")]]);
    let (status, body, _) = call(&w, LIST, "statsPeriod=24h", Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    let series = body[0]["stats"]["24h"].as_array().unwrap();
    assert_eq!(series.len(), 24);
    assert_eq!(series[23], json!([hour / 1000, 2]));
    assert_eq!(body[1]["stats"]["24h"][23], json!([hour / 1000, 0]));
    let sql = w.queries.asked().pop().unwrap();
    assert!(
        sql.contains(&format!("issue_id IN ({})", {
            let mut ids = [w.issue_ids[0].0, w.issue_ids[1].0];
            ids.sort();
            format!("{}, {}", ids[0], ids[1])
        })),
        "{sql}"
    );
    // Without statsPeriod the list does not wait on the event store.
    let before = w.queries.asked().len();
    call(&w, LIST, "", Some(TOKEN)).await;
    assert_eq!(w.queries.asked().len(), before);
}

#[tokio::test]
async fn assign_then_find_then_delete() {
    let w = world().await;
    let id = w.issue_ids[0];
    let path = format!("/api/0/issues/{id}/");
    let (status, body) = put(&w, &path, "", json!({"assignedTo": "nobody@else.test"}), TOKEN).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = put(&w, &path, "", json!({"assignedTo": "user:mia@acme.test"}), MEMBER_TOKEN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["assignedTo"]["email"], "mia@acme.test");
    assert_eq!(titles(&w, "query=assigned:mia@acme.test").await, ["KeyError: v"]);
    assert_eq!(titles(&w, "query=is:unassigned").await, ["ValueError: v"]);
    let (status, _) = put(&w, &path, "", json!({"assignedTo": null}), TOKEN).await;
    assert_eq!(status, 200);
    assert_eq!(titles(&w, "query=is:assigned").await.len(), 0);

    let mut req = get(&path, "", Some(MEMBER_TOKEN));
    req.request_context.http.method = Method::DELETE;
    assert_eq!(send(&w, req).await.0, 403, "members do not delete");
    let mut req = get(&path, "", Some(ADMIN_TOKEN));
    req.request_context.http.method = Method::DELETE;
    assert_eq!(send(&w, req).await.0, 202);
    assert_eq!(call(&w, &path, "", Some(TOKEN)).await.0, 404);
    let mut req = get(LIST, &format!("id={}", w.issue_ids[1]), Some(ADMIN_TOKEN));
    req.request_context.http.method = Method::DELETE;
    assert_eq!(send(&w, req).await.0, 202);
    assert!(titles(&w, "query=").await.is_empty());
}

#[tokio::test]
async fn tags_grouping_and_stats_routes() {
    let w = world().await;
    let id = w.issue_ids[0];
    let (status, tags, _) = call(&w, &format!("/api/0/issues/{id}/tags/"), "", Some(TOKEN)).await;
    assert_eq!(status, 200, "{tags}");
    assert_eq!(tags[0]["key"], "browser");
    assert_eq!(tags[0]["topValues"][0]["value"], "x");
    assert_eq!(tags[0]["topValues"][0]["count"], 2);
    let sql = w.queries.asked().pop().unwrap();
    assert!(sql.contains(&format!("issue_id = {id}")) && sql.contains("project_id = 1"), "{sql}");
    let (status, values, _) = call(&w, &format!("/api/0/issues/{id}/tags/browser/values/"), "", Some(TOKEN)).await;
    assert_eq!((status, values[0]["value"].clone()), (200, json!("x")));
    let (_, info, _) = call(&w, &format!("/api/0/issues/{id}/grouping-info/"), "", Some(TOKEN)).await;
    assert_eq!(info["variant"], "stacktrace");
    assert!(!info["components"].as_array().unwrap().is_empty());
    let (status, body, _) = call(&w, &format!("/api/0/issues/{id}/stats/"), "statsPeriod=14d", Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 14);
    assert!(w.queries.asked().last().unwrap().contains("date_trunc('day'"));
    let (status, _, _) = call(&w, "/api/0/projects/acme/web/stats/", "stat=bogus", Some(TOKEN)).await;
    assert_eq!(status, 400);
    w.queries.answer(
        "GROUP BY 1 ORDER BY 4 DESC",
        vec![vec![Some("app@2"), Some("5"), Some("2025-01-01 00:00:00"), Some("2025-01-02 00:00:00")]],
    );
    let (status, releases, _) = call(&w, "/api/0/projects/acme/web/releases/", "", Some(TOKEN)).await;
    assert_eq!(status, 200, "{releases}");
    assert_eq!(releases[0]["version"], "app@2");
    assert_eq!(releases[0]["lastEvent"], "2025-01-02T00:00:00.000Z");
}

#[tokio::test]
async fn organization_issue_list_takes_one_of_its_projects() {
    let w = world().await;
    let (status, body, _) = call(&w, "/api/0/organizations/acme/issues/", "project=1", Some(TOKEN)).await;
    assert_eq!((status, body.as_array().unwrap().len()), (200, 2));
    let (status, _, _) = call(&w, "/api/0/organizations/acme/issues/", "project=2", Some(TOKEN)).await;
    assert_eq!(status, 404, "other's project");
    let (status, _, _) = call(&w, "/api/0/organizations/acme/issues/", "", Some(TOKEN)).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn alert_rules_are_managed_per_project() {
    let w = world().await;
    let base = "/api/0/projects/acme/web/rules/";
    let (status, list, _) = call(&w, base, "", Some(MEMBER_TOKEN)).await;
    assert_eq!((status, list.as_array().unwrap().len()), (200, 1));
    let create = |body: Value, token: &str| {
        let mut req = get(base, "", Some(token));
        req.request_context.http.method = Method::POST;
        req.body = Some(body.to_string());
        req
    };
    let rule = json!({
        "name": "Checkout bursts",
        "conditions": [{"id": "event_frequency", "value": 100, "interval_minutes": 60}],
        "filters": [{"id": "level", "at_least": "error"}, {"id": "tag", "key": "area", "value": "checkout"}],
        "actions": [{"id": "webhook", "url": "https://hooks.example/x", "format": "slack", "secret": "s"}],
        "frequency": 60,
    });
    assert_eq!(send(&w, create(rule.clone(), MEMBER_TOKEN)).await.0, 403, "members do not manage rules");
    let (status, created, _) = send(&w, create(rule, ADMIN_TOKEN)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["frequency"], 60);
    let (status, body, _) = send(
        &w,
        create(
            json!({"name": "x", "conditions": [{"id": "sometimes"}], "actions": [{"id": "email"}], "frequency": 5}),
            ADMIN_TOKEN,
        ),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("conditions"));
    let (status, body, _) = send(
        &w,
        create(json!({"name": "x", "conditions": [{"id": "first_seen"}], "actions": [], "frequency": 5}), ADMIN_TOKEN),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let path = format!("{base}{}/", created["id"].as_str().unwrap());
    let (status, muted) = put(&w, &path, "", json!({"muted": true}), ADMIN_TOKEN).await;
    assert_eq!((status, muted["muted"].clone()), (200, json!(true)));
    assert_eq!(call(&w, "/api/0/projects/other/web/rules/rule-1/", "", Some(TOKEN)).await.0, 404);
    let (status, notified, _) =
        call(&w, &format!("/api/0/issues/{}/notifications/", w.issue_ids[0]), "", Some(TOKEN)).await;
    assert_eq!((status, notified), (200, json!([])));
}
