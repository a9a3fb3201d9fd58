//! Releases as `sentry-cli releases` manages them: new (201, then 208 merging projects), info,
//! finalize, archive, list, delete; bad versions, unknown projects and commits are refused, and
//! another organization sees none of them.

use super::difs::with_body;
use super::*;

async fn json_call(w: &World, method: Method, path: &str, token: &str, body: Value) -> (i64, Value) {
    let (status, body, _) =
        send(w, with_body(method, path, "", token, "application/json", body.to_string().into_bytes())).await;
    (status, body)
}

#[tokio::test]
async fn sentry_cli_release_lifecycle() {
    let w = world().await;
    let base = "/api/0/organizations/acme/releases/";
    let (status, created) =
        json_call(&w, Method::POST, base, TOKEN, json!({ "version": "web@1.0", "projects": ["web"] })).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["version"], "web@1.0");
    assert_eq!(created["projects"][0]["slug"], "web");
    assert!(created["dateCreated"].is_string() && created["dateReleased"].is_null());

    // Again: 208 with the release as it is.
    let (status, again) = json_call(
        &w,
        Method::POST,
        base,
        TOKEN,
        json!({ "version": "web@1.0", "projects": ["web"], "url": "https://x.test/1" }),
    )
    .await;
    assert_eq!((status, again["url"].clone()), (208, json!("https://x.test/1")));
    assert_eq!(again["dateCreated"], created["dateCreated"]);

    // finalize, archive
    let one = "/api/0/organizations/acme/releases/web%401.0/";
    let (status, done) =
        json_call(&w, Method::PUT, one, TOKEN, json!({ "dateReleased": "2026-11-26T10:00:00Z" })).await;
    assert_eq!((status, done["dateReleased"].clone()), (200, json!("2026-11-26T10:00:00.000Z")));
    let (_, archived) = json_call(&w, Method::PUT, one, TOKEN, json!({ "status": "archived" })).await;
    assert_eq!(archived["status"], "archived");
    let (status, info, _) = call(&w, one, "", Some(TOKEN)).await;
    assert_eq!(
        (status, info["status"].clone(), info["url"].clone()),
        (200, json!("archived"), json!("https://x.test/1"))
    );

    let (_, list, _) = call(&w, base, "", Some(TOKEN)).await;
    let versions: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["web@1.0", "web@1"], "newest first (the world has web@1)");
    let (_, none, _) = call(&w, base, "query=api@", Some(TOKEN)).await;
    assert_eq!(none, json!([]));
    // The project's list includes it although no event names it yet.
    let (status, project_list, _) = call(&w, "/api/0/projects/acme/web/releases/", "", Some(TOKEN)).await;
    assert_eq!(status, 200, "{project_list}");
    assert!(
        project_list.as_array().unwrap().iter().any(|r| r["version"] == "web@1.0" && r["eventCount"] == 0),
        "{project_list}"
    );

    // Another organization sees nothing of it.
    let (status, _, _) = call(&w, "/api/0/organizations/other/releases/web%401.0/", "", Some(OTHER_TOKEN)).await;
    assert_eq!(status, 404);
    let (_, theirs, _) = call(&w, "/api/0/organizations/other/releases/", "", Some(OTHER_TOKEN)).await;
    assert_eq!(theirs, json!([]));
    let (status, _, _) = call(&w, one, "", Some(OTHER_TOKEN)).await;
    assert_eq!(status, 404, "not a member of acme");

    let (status, _, _) = send(&w, with_body(Method::DELETE, one, "", TOKEN, "application/json", vec![])).await;
    assert_eq!(status, 204);
    let (status, _, _) = call(&w, one, "", Some(TOKEN)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_releases_are_refused_with_the_reason() {
    let w = world().await;
    let base = "/api/0/organizations/acme/releases/";
    for (body, needle) in [
        (json!({ "projects": ["web"] }), "version"),
        (json!({ "version": "a/b", "projects": ["web"] }), "cannot contain"),
        (json!({ "version": "..", "projects": ["web"] }), "blank"),
        (json!({ "version": "1" }), "projects"),
        (json!({ "version": "1", "projects": ["nope"] }), "no project \"nope\""),
        (json!({ "version": "1", "projects": ["web"], "dateReleased": "yesterday" }), "RFC 3339"),
        (
            json!({ "version": "1", "projects": ["web"], "refs": [{"repository": "r", "commit": "c"}] }),
            "does not track commits",
        ),
        (json!({ "version": "1", "projects": ["web"], "colour": "red" }), "Unknown field"),
    ] {
        let (status, err) = json_call(&w, Method::POST, base, TOKEN, body.clone()).await;
        assert_eq!(status, 400, "{body} → {err}");
        assert!(err["detail"].as_str().unwrap().contains(needle), "{body} → {err}");
    }
    json_call(&w, Method::POST, base, TOKEN, json!({ "version": "1", "projects": ["web"] })).await;
    let (status, err) =
        json_call(&w, Method::PUT, "/api/0/organizations/acme/releases/1/", TOKEN, json!({ "status": "gone" })).await;
    assert_eq!(status, 400, "{err}");
    let (status, _) = json_call(&w, Method::PUT, "/api/0/organizations/acme/releases/2/", TOKEN, json!({})).await;
    assert_eq!(status, 404);
    // A member may create releases but only admins delete them.
    let (status, _, _) = send(
        &w,
        with_body(
            Method::DELETE,
            "/api/0/organizations/acme/releases/1/",
            "",
            MEMBER_TOKEN,
            "application/json",
            vec![],
        ),
    )
    .await;
    assert_eq!(status, 403);
}
