//! Attacks on accounts and their answers: guessing passwords, tokens, setup secrets and
//! invitation secrets is throttled; setup needs the deploy's secret; requests from other sites
//! cannot sign anyone in; passwords change and reset only with proof and end other sign-ins;
//! expired tokens stop working; webhooks cannot point inside the network and their secrets
//! are never shown; every change lands in the organization's audit log.

use super::access::{json_request, session_cookie_of, with_cookie};
use super::*;
use errata_domain::Notice;

const ANN_PASSWORD: &str = "ann's password";

/// A request from a client address.
fn from(mut req: Request, ip: &str) -> Request {
    req.request_context.http.source_ip = Some(ip.to_owned());
    req
}

async fn with_ann(w: &World) {
    w.deps
        .directory
        .put_user(&errata_domain::User {
            email: "ann@acme.test".into(),
            name: "Ann".into(),
            password_hash: errata_domain::secrets::hash_password(ANN_PASSWORD).unwrap(),
        })
        .await
        .unwrap();
}

fn login(email: &str, password: &str, ip: &str) -> Request {
    from(json_request("POST", "/api/0/auth/login/", json!({"email": email, "password": password})), ip)
}

async fn sign_in(w: &World, ip: &str) -> String {
    let (status, body, resp) = send(w, login("ann@acme.test", ANN_PASSWORD, ip)).await;
    assert_eq!(status, 200, "{body}");
    session_cookie_of(&resp)
}

async fn audit_events(w: &World, token: &str) -> Vec<String> {
    let (status, body, _) = call(w, "/api/0/organizations/acme/audit-logs/", "per_page=100", Some(token)).await;
    assert_eq!(status, 200, "{body}");
    body["rows"].as_array().unwrap().iter().map(|r| r["event"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn fifty_wrong_passwords_are_throttled_per_account_not_forever_and_not_for_other_addresses() {
    let w = world().await;
    with_ann(&w).await;
    let mut statuses = Vec::new();
    for i in 0..50 {
        let (status, _, resp) = send(&w, login("ann@acme.test", &format!("guess {i}"), "198.51.100.7")).await;
        if status == 429 {
            let retry: u64 = resp.headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=900).contains(&retry), "{retry}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses[..10], [401; 10], "ten failures are answered");
    assert!(statuses[10..].iter().all(|s| *s == 429), "then the account waits: {statuses:?}");
    // While throttled, even the right password waits: guessing learns nothing.
    assert_eq!(send(&w, login("ann@acme.test", ANN_PASSWORD, "198.51.100.7")).await.0, 429);
    // Another account from the same address is not locked by it (the address has room).
    let (status, _, _) = send(&w, login("nobody@acme.test", "guess", "198.51.100.7")).await;
    assert_eq!(status, 401);
    // The failures were recorded for the account's organizations.
    let events = audit_events(&w, TOKEN).await;
    assert_eq!(events.iter().filter(|e| *e == "user.login-failed").count(), 10, "{events:?}");

    // One address spraying many accounts is throttled on its own count.
    for i in 0..100 {
        send(&w, login(&format!("user{i}@spray.test"), "guess", "192.0.2.1")).await;
    }
    assert_eq!(send(&w, login("another@spray.test", "guess", "192.0.2.1")).await.0, 429);
}

#[tokio::test]
async fn guessed_bearer_tokens_and_invitation_secrets_are_throttled_per_address() {
    let w = world().await;
    for i in 0..100 {
        let req = from(get("/api/0/users/me/", "", Some(&format!("errata_guess{i}"))), "192.0.2.2");
        assert_eq!(send(&w, req).await.0, 401);
    }
    let (status, _, resp) = send(&w, from(get("/api/0/users/me/", "", Some("errata_guess")), "192.0.2.2")).await;
    assert_eq!(status, 429);
    assert!(resp.headers.contains_key("retry-after"));
    // A valid token from the throttled address waits too; from another address it works.
    assert_eq!(send(&w, from(get("/api/0/users/me/", "", Some(TOKEN)), "192.0.2.2")).await.0, 429);
    assert_eq!(send(&w, from(get("/api/0/users/me/", "", Some(TOKEN)), "192.0.2.3")).await.0, 200);
    // Invitation secrets count against the address too.
    for i in 0..100 {
        let req = json_request("POST", "/api/0/accept-invite/details/", json!({"token": format!("errata_x{i}")}));
        assert_eq!(send(&w, from(req, "192.0.2.4")).await.0, 404);
    }
    let req = json_request("POST", "/api/0/accept-invite/", json!({"token": "errata_y", "password": "whatever1"}));
    assert_eq!(send(&w, from(req, "192.0.2.4")).await.0, 429);
}

#[tokio::test]
async fn setup_needs_the_deploys_secret() {
    let w = world().await;
    let body = |secret: Option<&str>| {
        let mut b = json!({"email": "root@example.com", "password": "correct horse battery",
            "organization": {"slug": "first"}, "project": {"slug": "app"}});
        if let Some(s) = secret {
            b["setupSecret"] = json!(s);
        }
        json_request("POST", "/api/0/setup/", b)
    };
    for secret in [None, Some(""), Some("setup-secret-for-test"), Some("SETUP-SECRET-FOR-TESTS")] {
        let (status, answer, _) = send(&w, body(secret)).await;
        assert_eq!(status, 403, "{secret:?}: {answer}");
        assert!(answer["detail"].as_str().unwrap().contains("setup secret"), "{answer}");
    }
    assert_eq!(send(&w, body(Some(SETUP_SECRET))).await.0, 201);
    // A stack deployed without a secret cannot be set up at all.
    let mut w = world().await;
    w.deps.setup_secret = String::new();
    assert_eq!(send(&w, body(Some(""))).await.0, 403);
}

#[tokio::test]
async fn requests_from_other_sites_cannot_sign_in_or_out() {
    let w = world().await;
    with_ann(&w).await;
    // A form post (what a page of another site can send without a preflight).
    for (path, body) in [
        ("/api/0/auth/login/", "email=ann%40acme.test&password=x"),
        ("/api/0/setup/", "email=x"),
        ("/api/0/accept-invite/", "token=x"),
        ("/api/0/auth/password-reset/", "email=ann%40acme.test"),
    ] {
        let mut req = get(path, "", None);
        req.request_context.http.method = Method::POST;
        req.headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
        req.body = Some(body.into());
        let (status, answer, _) = send(&w, req).await;
        assert_eq!(status, 403, "{path}: {answer}");
        assert!(answer["detail"].as_str().unwrap().contains("application/json"));
    }
    let cookie = sign_in(&w, "203.0.113.5").await;
    let mut out = with_cookie(get("/api/0/auth/", "", None), &cookie);
    out.request_context.http.method = Method::DELETE;
    out.headers.insert("content-type", HeaderValue::from_static("text/plain"));
    assert_eq!(send(&w, out).await.0, 403);
    assert_eq!(send(&w, with_cookie(get("/api/0/users/me/", "", None), &cookie)).await.0, 200, "still signed in");
}

#[tokio::test]
async fn password_change_needs_the_current_one_and_ends_other_sessions() {
    let w = world().await;
    with_ann(&w).await;
    let here = sign_in(&w, "203.0.113.5").await;
    let elsewhere = sign_in(&w, "203.0.113.6").await;
    let (status, list, _) = send(&w, with_cookie(get("/api/0/users/me/sessions/", "", None), &here)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list.as_array().unwrap().iter().filter(|s| s["current"] == true).count(), 1);
    assert!(list.as_array().unwrap().iter().any(|s| s["ipAddress"] == "203.0.113.6"), "{list}");

    let change = |current: &str| {
        with_cookie(
            json_request(
                "PUT",
                "/api/0/users/me/password/",
                json!({"password": current, "passwordNew": "a brand new password", "passwordVerify": "a brand new password"}),
            ),
            &here,
        )
    };
    let (status, body, _) = send(&w, change("not my password")).await;
    assert_eq!(status, 400, "{body}");
    let (status, body, _) = send(&w, change(ANN_PASSWORD)).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(send(&w, with_cookie(get("/api/0/users/me/", "", None), &elsewhere)).await.0, 401, "ended");
    assert_eq!(send(&w, with_cookie(get("/api/0/users/me/", "", None), &here)).await.0, 200, "kept");
    assert_eq!(send(&w, login("ann@acme.test", ANN_PASSWORD, "203.0.113.5")).await.0, 401);
    assert_eq!(send(&w, login("ann@acme.test", "a brand new password", "203.0.113.5")).await.0, 200);
    // A token cannot change the password.
    let mut req =
        json_request("PUT", "/api/0/users/me/password/", json!({"password": "x", "passwordNew": "yyyyyyyyy"}));
    req.headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {TOKEN}")).unwrap());
    assert_eq!(send(&w, req).await.0, 403);
    assert!(audit_events(&w, TOKEN).await.contains(&"user.password-change".to_owned()));
}

#[tokio::test]
async fn password_reset_links_are_mailed_single_use_and_end_every_session() {
    let w = world().await;
    with_ann(&w).await;
    let old = sign_in(&w, "203.0.113.5").await;
    let ask = |email: &str| json_request("POST", "/api/0/auth/password-reset/", json!({"email": email}));
    // The same answer for an address with and without an account; only the first gets mail.
    let (status, known, _) = send(&w, ask("ann@acme.test")).await;
    let (_, unknown, _) = send(&w, ask("nobody@acme.test")).await;
    assert_eq!((status, &known), (202, &unknown));
    let notices = w.outbox.notices();
    assert_eq!(notices.len(), 1);
    let Notice::PasswordReset { to, link, .. } = &notices[0] else { panic!("not a reset") };
    assert_eq!(to, "ann@acme.test");
    assert!(link.starts_with("http://web.test/reset-password/"), "{link}");
    let secret = link.rsplit('/').next().unwrap();

    let confirm = |token: &str| {
        json_request(
            "POST",
            "/api/0/auth/password-reset/confirm/",
            json!({"token": token, "password": "reset password!"}),
        )
    };
    assert_eq!(send(&w, confirm("errata_forged")).await.0, 400);
    let (status, me, resp) = send(&w, confirm(secret)).await;
    assert_eq!(status, 200, "{me}");
    let fresh = session_cookie_of(&resp);
    assert_eq!(send(&w, confirm(secret)).await.0, 400, "used once");
    assert_eq!(send(&w, with_cookie(get("/api/0/users/me/", "", None), &old)).await.0, 401, "signed out everywhere");
    assert_eq!(send(&w, with_cookie(get("/api/0/users/me/", "", None), &fresh)).await.0, 200);
    assert_eq!(send(&w, login("ann@acme.test", "reset password!", "203.0.113.5")).await.0, 200);

    // At most three e-mails an hour to one address.
    for _ in 0..2 {
        assert_eq!(send(&w, ask("ann@acme.test")).await.0, 202);
    }
    assert_eq!(send(&w, ask("ann@acme.test")).await.0, 429);
    assert_eq!(w.outbox.notices().len(), 3);
    assert!(audit_events(&w, TOKEN).await.contains(&"user.password-reset".to_owned()));
}

#[tokio::test]
async fn sign_out_everywhere_and_one_sign_in_at_a_time() {
    let w = world().await;
    with_ann(&w).await;
    let a = sign_in(&w, "203.0.113.5").await;
    let b = sign_in(&w, "203.0.113.6").await;
    let c = sign_in(&w, "203.0.113.7").await;
    let (_, list, _) = send(&w, with_cookie(get("/api/0/users/me/sessions/", "", None), &a)).await;
    let other = list.as_array().unwrap().iter().find(|s| s["ipAddress"] == "203.0.113.6").unwrap()["id"].clone();
    let path = format!("/api/0/users/me/sessions/{}/", other.as_str().unwrap());
    assert_eq!(send(&w, with_cookie(json_request("DELETE", &path, json!({})), &a)).await.0, 204);
    assert_eq!(send(&w, with_cookie(get("/api/0/users/me/", "", None), &b)).await.0, 401);
    assert_eq!(send(&w, with_cookie(get("/api/0/users/me/", "", None), &c)).await.0, 200);
    let everywhere = with_cookie(json_request("DELETE", "/api/0/auth/", json!({"all": true})), &a);
    assert_eq!(send(&w, everywhere).await.0, 204);
    for cookie in [&a, &c] {
        assert_eq!(send(&w, with_cookie(get("/api/0/users/me/", "", None), cookie)).await.0, 401);
    }
    assert!(audit_events(&w, TOKEN).await.contains(&"user.sessions-revoked".to_owned()));
}

#[tokio::test]
async fn tokens_may_expire() {
    let w = world().await;
    with_ann(&w).await;
    let cookie = sign_in(&w, "203.0.113.5").await;
    let create = |body: Value| with_cookie(json_request("POST", "/api/0/api-tokens/", body), &cookie);
    let past = json!({"name": "old", "scopes": ["event:read"], "expiresAt": "2020-01-01T00:00:00Z"});
    assert_eq!(send(&w, create(past)).await.0, 400);
    assert_eq!(send(&w, create(json!({"scopes": ["event:read"], "expiresAt": "soon"}))).await.0, 400);
    let (status, token, _) =
        send(&w, create(json!({"name": "ci", "scopes": ["event:read"], "expiresAt": "2099-01-01T00:00:00Z"}))).await;
    assert_eq!(status, 201, "{token}");
    assert_eq!(token["expiresAt"], "2099-01-01T00:00:00.000Z");
    let secret = token["token"].as_str().unwrap().to_owned();
    assert_eq!(call(&w, "/api/0/users/me/", "", Some(&secret)).await.0, 200);
    // Past its expiry (moved there in the store) it no longer works.
    let mut stored = w.deps.directory.api_token(&errata_domain::secrets::token_digest(&secret)).await.unwrap().unwrap();
    stored.expires_at = Some(1);
    w.deps.directory.put_api_token(&stored).await.unwrap();
    let (status, body, _) = call(&w, "/api/0/users/me/", "", Some(&secret)).await;
    assert_eq!((status, body["detail"].as_str().unwrap()), (401, "This token has expired."));
    let events = audit_events(&w, TOKEN).await;
    assert!(events.contains(&"api-token.create".to_owned()), "{events:?}");
}

#[tokio::test]
async fn webhooks_must_point_at_public_addresses_and_their_secrets_are_write_only() {
    let w = world().await;
    let create = |url: &str| {
        let mut req = request_with(
            "POST",
            "/api/0/projects/acme/web/rules/",
            json!({"name": "hook", "conditions": [{"id": "first_seen"}],
                   "actions": [{"id": "webhook", "url": url, "format": "slack", "secret": "s3cret"}]}),
        );
        req.request_context.http.source_ip = Some("203.0.113.5".into());
        req
    };
    for (url, says) in [
        ("http://hooks.example/x", "https"),
        ("https://169.254.169.254/latest/meta-data/", "never allowed"),
        ("https://[::ffff:a9fe:a9fe]/", "never allowed"),
        ("https://2852039166/", "never allowed"),
        ("https://127.0.0.1:8080/", "loopback"),
        ("https://internal.example/hook", "private"),
        ("https://metadata.example/", "never allowed"),
        ("https://unknown.example/", "does not resolve"),
    ] {
        let (status, body, _) = send(&w, create(url)).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(body["detail"].as_str().unwrap().contains(says), "{url}: {body}");
    }
    let (status, rule, _) = send(&w, create("https://hooks.example/services/T/B/secret-path")).await;
    assert_eq!(status, 201, "{rule}");
    let shown = rule.to_string();
    assert!(!shown.contains("s3cret") && !shown.contains("secret-path"), "{shown}");
    let action = &rule["actions"][0];
    assert_eq!((action["secretSet"].clone(), action["urlSet"].clone()), (json!(true), json!(true)));
    assert_eq!(action["host"], "hooks.example");
    // An update that sends the action back without them keeps them.
    let path = format!("/api/0/projects/acme/web/rules/{}/", rule["id"].as_str().unwrap());
    let update =
        request_with("PUT", &path, json!({"actions": [{"id": "webhook", "format": "slack"}], "name": "renamed"}));
    let (status, body, _) = send(&w, update).await;
    assert_eq!(status, 200, "{body}");
    let stored = w.deps.rules.rules(1).await.unwrap().into_iter().find(|r| r.name == "renamed").unwrap();
    assert_eq!(
        stored.actions,
        vec![errata_domain::alerts::Action::Webhook {
            url: "https://hooks.example/services/T/B/secret-path".into(),
            format: errata_domain::alerts::WebhookFormat::Slack,
            secret: "s3cret".into(),
        }]
    );
    let events = audit_events(&w, TOKEN).await;
    assert!(events.contains(&"rule.add".to_owned()) && events.contains(&"rule.edit".to_owned()), "{events:?}");
    let (_, log, _) = call(&w, "/api/0/organizations/acme/audit-logs/", "event=rule.add", Some(TOKEN)).await;
    assert!(!log.to_string().contains("s3cret") && !log.to_string().contains("secret-path"), "{log}");
}

fn request_with(method: &str, path: &str, body: Value) -> Request {
    let mut req = get(path, "", Some(TOKEN));
    req.request_context.http.method = method.parse().unwrap();
    req.body = Some(body.to_string());
    req
}

#[tokio::test]
async fn the_audit_log_records_who_changed_what_and_only_admins_read_it() {
    let w = world().await;
    let invite =
        request_with("POST", "/api/0/organizations/acme/members/", json!({"email": "zoe@acme.test", "role": "member"}));
    assert_eq!(send(&w, from(invite, "203.0.113.9")).await.0, 201);
    let role = request_with("PUT", "/api/0/organizations/acme/members/adam@acme.test/", json!({"role": "member"}));
    assert_eq!(send(&w, role).await.0, 200);
    let key = request_with("POST", "/api/0/projects/acme/web/keys/", json!({"name": "ci"}));
    assert_eq!(send(&w, key).await.0, 201);
    let settings = request_with("PUT", "/api/0/projects/acme/web/", json!({"dataScrubber": true}));
    assert_eq!(send(&w, settings).await.0, 200);
    let project = request_with("POST", "/api/0/organizations/acme/projects/", json!({"name": "Api"}));
    assert_eq!(send(&w, project).await.0, 201);

    let (status, log, _) = call(&w, "/api/0/organizations/acme/audit-logs/", "", Some(TOKEN)).await;
    assert_eq!(status, 200, "{log}");
    let rows = log["rows"].as_array().unwrap();
    let events: Vec<&str> = rows.iter().map(|r| r["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["project.create", "project.edit", "projectkey.create", "member.edit", "member.invite"]);
    let invite = &rows[4];
    assert_eq!(invite["actor"]["email"], "ann@acme.test");
    assert_eq!(invite["targetUser"]["email"], "zoe@acme.test");
    assert_eq!(invite["ipAddress"], "203.0.113.9");
    assert_eq!(invite["note"], "invited member zoe@acme.test as member");
    assert_eq!(rows[3]["data"], json!({"role": "member", "oldRole": "admin"}));
    assert!(log["options"].as_array().unwrap().contains(&json!("user.login-failed")));
    // Pages and filters.
    let (_, page, resp) = call(&w, "/api/0/organizations/acme/audit-logs/", "per_page=2", Some(TOKEN)).await;
    assert_eq!(page["rows"].as_array().unwrap().len(), 2);
    let cursor = next_cursor(&resp).unwrap();
    let (_, rest, _) =
        call(&w, "/api/0/organizations/acme/audit-logs/", &format!("per_page=10&cursor={cursor}"), Some(TOKEN)).await;
    assert_eq!(rest["rows"].as_array().unwrap().len(), 3);
    let (_, only, _) = call(&w, "/api/0/organizations/acme/audit-logs/", "event=member.edit", Some(TOKEN)).await;
    assert_eq!(only["rows"].as_array().unwrap().len(), 1);
    assert_eq!(call(&w, "/api/0/organizations/acme/audit-logs/", "event=bogus", Some(TOKEN)).await.0, 400);
    assert_eq!(call(&w, "/api/0/organizations/acme/audit-logs/", "cursor=1:2:3", Some(TOKEN)).await.0, 400);
    // Members do not read it; another organization's owner does not see it exists.
    assert_eq!(call(&w, "/api/0/organizations/acme/audit-logs/", "", Some(MEMBER_TOKEN)).await.0, 403);
    assert_eq!(call(&w, "/api/0/organizations/acme/audit-logs/", "", Some(OTHER_TOKEN)).await.0, 404);
    let (_, theirs, _) = call(&w, "/api/0/organizations/other/audit-logs/", "", Some(OTHER_TOKEN)).await;
    assert_eq!(theirs["rows"], json!([]));
}

#[tokio::test]
async fn invitations_per_organization_are_limited() {
    let w = world().await;
    for i in 0..50 {
        let req =
            request_with("POST", "/api/0/organizations/acme/members/", json!({"email": format!("p{i}@outside.test")}));
        assert_eq!(send(&w, req).await.0, 201);
    }
    let req = request_with("POST", "/api/0/organizations/acme/members/", json!({"email": "p50@outside.test"}));
    let (status, body, resp) = send(&w, req).await;
    assert_eq!(status, 429, "{body}");
    assert!(resp.headers.contains_key("retry-after"));
    assert_eq!(w.outbox.notices().len(), 50);
    // Another organization is not affected.
    let req = get("/api/0/organizations/other/members/", "", Some(OTHER_TOKEN));
    let mut req = req;
    req.request_context.http.method = Method::POST;
    req.body = Some(json!({"email": "x@outside.test"}).to_string());
    assert_eq!(send(&w, req).await.0, 201);
}

/// Deleting an issue deletes its events and their attachments: a new event of the same group
/// starts the issue anew (the same id) with none of the old events, and redelivering an old
/// event does not bring it back.
#[tokio::test]
async fn a_deleted_issue_stays_deleted_when_its_group_comes_back() {
    let w = world().await;
    let id = w.issue_ids[0];
    let attachment = format!("attachments/1/{:032}/0-page.html", 1);
    assert!(w.deps.events.get(&attachment).await.unwrap().is_some());
    let del = request_with("DELETE", &format!("/api/0/issues/{id}/"), json!({}));
    assert_eq!(send(&w, del).await.0, 202);
    assert_eq!(call(&w, &format!("/api/0/issues/{id}/"), "", Some(TOKEN)).await.0, 404);
    assert_eq!(w.deps.events.get(&attachment).await.unwrap(), None, "its attachment is deleted");
    assert_eq!(w.deps.issues.deleted_before(1, id).await.unwrap(), None, "purged within the request");
    for n in [0, 1] {
        let path = format!("/api/0/projects/acme/web/events/{n:032}/");
        assert_eq!(call(&w, &path, "", Some(TOKEN)).await.0, 404, "event {n}");
    }
    assert!(audit_events(&w, TOKEN).await.contains(&"issue.delete".to_owned()));

    // The same group again, later: a new issue with the same id and only the new event.
    let event = json!({"event_id": format!("{:032}", 10), "exception": {"values": [{"type": "KeyError", "value": "v",
        "stacktrace": {"frames": [{"function": "f", "lineno": 2, "in_app": true, "context_line": "x = 1"}]}}]}});
    let later = Timestamp::now().unix_millis() + 1_000;
    let again = store_event(w.deps.events.as_ref(), w.deps.issues.as_ref(), 1, 10, &event, later).await;
    assert_eq!(again, id);
    // An old event delivered once more is a duplicate: it does not come back either.
    let old = json!({"event_id": format!("{:032}", 0), "exception": event["exception"].clone()});
    store_event(w.deps.events.as_ref(), w.deps.issues.as_ref(), 1, 0, &old, base_ms() + 1_000).await;
    let (status, list, _) = call(&w, &format!("/api/0/issues/{id}/events/"), "", Some(TOKEN)).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["eventID"].as_str().unwrap()).collect();
    assert_eq!(ids, [format!("{:032}", 10)]);
    let (_, issue, _) = call(&w, &format!("/api/0/issues/{id}/"), "", Some(TOKEN)).await;
    assert_eq!(issue["count"], "1", "{issue}");
}

/// New projects and keys get the stack's default limits; a key asked for without one has none.
#[tokio::test]
async fn new_projects_and_keys_get_default_limits() {
    let w = world().await;
    let (status, project, _) =
        send(&w, request_with("POST", "/api/0/organizations/acme/projects/", json!({"name": "Limited"}))).await;
    assert_eq!(status, 201, "{project}");
    let stored = w.deps.directory.project_by_slug("acme", "limited").await.unwrap().unwrap();
    assert_eq!(stored.quota, Some(RateLimit { count: 1_000_000, window_secs: 86_400 }));
    let (_, keys, _) = call(&w, "/api/0/projects/acme/limited/keys/", "", Some(TOKEN)).await;
    assert_eq!(keys[0]["rateLimit"], json!({"count": 1000, "window": 60}));
    let (_, second, _) =
        send(&w, request_with("POST", "/api/0/projects/acme/limited/keys/", json!({"name": "ci"}))).await;
    assert_eq!(second["rateLimit"], json!({"count": 1000, "window": 60}));
    let (_, open, _) = send(
        &w,
        request_with("POST", "/api/0/projects/acme/limited/keys/", json!({"name": "bulk", "rateLimit": null})),
    )
    .await;
    assert_eq!(open["rateLimit"], Value::Null);
}
