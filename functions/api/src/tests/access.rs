//! Every route × every role × own and foreign resources: foreign resources are 404 whatever
//! the role, own resources answer 403 below the route's role and never 403/404 at or above it.
//! Then the account flows: setup, sign-in with a cookie, tokens, invitations, members, keys.

use super::*;
use crate::router::{Access, ROUTES};
use errata_domain::Notice;

/// The path of `route` with its parameters filled from acme (own) or other (foreign).
fn fill(route_path: &str, w: &World, foreign: bool, caller_email: &str) -> String {
    let mut path = String::from("/api/0/");
    for part in route_path.split('/') {
        let value = match part {
            "{org}" => if foreign { "other" } else { "acme" }.to_owned(),
            "{project}" => "web".to_owned(),
            "{issue_id}" => if foreign { w.foreign_issue } else { w.issue_ids[0] }.to_string(),
            // Event 1 is of acme's first issue (with an attachment); event 3 of other's.
            "{event_id}" => format!("{:032}", if foreign { 3 } else { 1 }),
            "{attachment_id}" => "0".to_owned(),
            "{key_id}" => if foreign { OTHER_KEY } else { ACME_KEY }.to_owned(),
            "{member_id}" => if foreign { "olaf@other.test" } else { caller_email }.to_owned(),
            "{filter_id}" => "localhost".to_owned(),
            "{key}" => "browser".to_owned(),
            "{rule_id}" => "rule-1".to_owned(),
            "{version}" => "web@1".to_owned(),
            literal => literal.to_owned(),
        };
        path.push_str(&value);
        path.push('/');
    }
    path
}

fn request(method: &str, path: &str, token: &str) -> Request {
    let mut req = get(path, "", Some(token));
    req.request_context.http.method = method.parse().unwrap();
    if method != "GET" {
        req.body = Some("{}".into());
    }
    req
}

const CALLERS: [(&str, &str, Role); 3] = [
    (MEMBER_TOKEN, "mia@acme.test", Role::Member),
    (ADMIN_TOKEN, "adam@acme.test", Role::Admin),
    (TOKEN, "ann@acme.test", Role::Owner),
];

#[tokio::test]
async fn every_route_checks_role_and_hides_foreign_resources() {
    let mut checked = 0;
    for route in ROUTES {
        let needed = match route.access {
            Access::Org(r) | Access::Project(r) | Access::Issue(r) => r,
            Access::Public | Access::User => continue,
        };
        for (token, email, role) in CALLERS {
            // A fresh world each time: a successful DELETE must not change the next call.
            let w = world().await;
            let path = fill(route.path, &w, true, email);
            let (status, body, _) = send(&w, request(route.method, &path, token)).await;
            assert_eq!(status, 404, "{} {path} as {role:?} (foreign): {body}", route.method);
            assert_eq!(body["detail"], "The requested resource does not exist");

            let w = world().await;
            let path = fill(route.path, &w, false, email);
            let (status, body, _) = send(&w, request(route.method, &path, token)).await;
            if role >= needed {
                assert!(
                    ![401, 403, 404, 405].contains(&status) && status < 500,
                    "{} {path} as {role:?}: {status} {body}",
                    route.method
                );
            } else {
                assert_eq!(status, 403, "{} {path} as {role:?}: {body}", route.method);
            }
            checked += 1;
        }
    }
    assert!(checked >= 90, "only {checked} calls");
}

#[tokio::test]
async fn own_routes_with_a_foreign_leaf_are_404() {
    let w = world().await;
    let issue = w.issue_ids[0];
    for (method, path) in [
        ("GET", format!("/api/0/projects/acme/web/keys/{OTHER_KEY}/")),
        ("PUT", format!("/api/0/projects/acme/web/keys/{OTHER_KEY}/")),
        ("DELETE", format!("/api/0/projects/acme/web/keys/{OTHER_KEY}/")),
        ("POST", format!("/api/0/projects/acme/web/keys/{OTHER_KEY}/rotate/")),
        ("GET", format!("/api/0/projects/acme/web/events/{:032}/", 3)),
        ("GET", format!("/api/0/issues/{issue}/events/{:032}/", 3)),
        ("PUT", "/api/0/organizations/acme/members/olaf@other.test/".to_owned()),
        ("DELETE", "/api/0/organizations/acme/members/olaf@other.test/".to_owned()),
        ("GET", "/api/0/organizations/acme/sessions/?project=2".to_owned()),
    ] {
        let (path, query) = path.split_once('?').unwrap_or((&path, ""));
        let mut req = request(method, path, TOKEN);
        req.query_string_parameters = query.parse().unwrap();
        let (status, body, _) = send(&w, req).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    // Nothing of other's changed.
    let key = w.deps.directory.project_key(OTHER_KEY).await.unwrap().unwrap();
    assert!(key.enabled);
}

#[tokio::test]
async fn token_scopes_limit_what_a_token_does() {
    let w = world().await;
    let (status, _, _) = call(&w, "/api/0/projects/acme/web/issues/", "", Some(READ_TOKEN)).await;
    assert_eq!(status, 200);
    let (status, body) =
        put(&w, &format!("/api/0/issues/{}/", w.issue_ids[0]), "", json!({"status": "resolved"}), READ_TOKEN).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["detail"], "This token lacks the event:write scope.");
    let (status, _, _) = call(&w, "/api/0/organizations/acme/members/", "", Some(READ_TOKEN)).await;
    assert_eq!(status, 403, "no member:read");
}

pub(super) fn json_request(method: &str, path: &str, body: Value) -> Request {
    let mut req = get(path, "", None);
    req.request_context.http.method = method.parse().unwrap();
    req.headers.insert("content-type", HeaderValue::from_static("application/json"));
    req.body = Some(body.to_string());
    req
}

pub(super) fn with_cookie(mut req: Request, cookie: &str) -> Request {
    req.cookies = Some(vec![cookie.to_owned()]);
    req
}

/// The `name=value` part of the session cookie a response sets.
pub(super) fn session_cookie_of(resp: &Response) -> String {
    let set = resp.cookies.iter().find(|c| c.starts_with("errata_session=")).expect("a session cookie");
    assert!(set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite=Strict"), "{set}");
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn first_run_setup_then_sign_in_and_out() {
    let w = world().await;
    let setup = json!({
        "email": "Root@Example.com", "password": "correct horse battery", "name": "Root",
        "organization": {"slug": "first", "name": "First Org"},
        "project": {"slug": "app", "platform": "python"},
        "setupSecret": SETUP_SECRET,
    });
    let bad = json!({"email": "root@example.com", "password": "short", "organization": {"slug": "x"}, "project": {"slug": "y"}, "setupSecret": SETUP_SECRET});
    let (status, body, _) = send(&w, json_request("POST", "/api/0/setup/", bad)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("password"));
    let (status, body, resp) = send(&w, json_request("POST", "/api/0/setup/", setup.clone())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["email"], "root@example.com");
    assert_eq!(body["organizations"][0]["slug"], "first");
    assert_eq!(body["organizations"][0]["role"], "owner");
    let cookie = session_cookie_of(&resp);
    // Only once.
    let (status, _, _) = send(&w, json_request("POST", "/api/0/setup/", setup)).await;
    assert_eq!(status, 409);

    // The cookie signs the user in; the project got a key with a DSN on the public URL.
    let (status, keys, _) = send(&w, with_cookie(get("/api/0/projects/first/app/keys/", "", None), &cookie)).await;
    assert_eq!(status, 200, "{keys}");
    let dsn = keys[0]["dsn"]["public"].as_str().unwrap();
    assert!(dsn.starts_with("http://") && dsn.contains("@ingest.test/base/"), "{dsn}");
    // A state change with the cookie needs a JSON request (CSRF guard).
    let mut form = with_cookie(get("/api/0/organizations/first/projects/", "", None), &cookie);
    form.request_context.http.method = Method::POST;
    form.body = Some("name=x".into());
    let (status, body, _) = send(&w, form).await;
    assert_eq!(status, 403, "{body}");
    let req = with_cookie(
        json_request("POST", "/api/0/organizations/first/projects/", json!({"name": "Second App"})),
        &cookie,
    );
    let (status, body, _) = send(&w, req).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["slug"], "second-app");

    // Wrong password and unknown user answer the same.
    for (email, password) in [("root@example.com", "wrong password"), ("nobody@example.com", "whatever123")] {
        let (status, body, _) =
            send(&w, json_request("POST", "/api/0/auth/login/", json!({"email": email, "password": password}))).await;
        assert_eq!(status, 401);
        assert_eq!(body["detail"], "Invalid e-mail address or password.");
    }
    let login = json!({"email": "root@example.com", "password": "correct horse battery"});
    let (status, _, resp) = send(&w, json_request("POST", "/api/0/auth/login/", login)).await;
    assert_eq!(status, 200);
    let second = session_cookie_of(&resp);
    let (status, _, resp) = send(&w, with_cookie(json_request("DELETE", "/api/0/auth/", json!({})), &second)).await;
    assert_eq!(status, 204);
    assert!(resp.cookies[0].contains("Max-Age=0"));
    let (status, _, _) = send(&w, with_cookie(get("/api/0/users/me/", "", None), &second)).await;
    assert_eq!(status, 401, "signed out");
    let (status, _, _) = send(&w, with_cookie(get("/api/0/users/me/", "", None), &cookie)).await;
    assert_eq!(status, 200, "the other session lives on");
}

#[tokio::test]
async fn tokens_are_shown_once_scoped_and_revocable() {
    let w = world().await;
    w.deps
        .directory
        .put_user(&errata_domain::User {
            email: "ann@acme.test".into(),
            name: "Ann".into(),
            password_hash: errata_domain::secrets::hash_password("ann's password").unwrap(),
        })
        .await
        .unwrap();
    let login = json!({"email": "ann@acme.test", "password": "ann's password"});
    let (_, _, resp) = send(&w, json_request("POST", "/api/0/auth/login/", login)).await;
    let cookie = session_cookie_of(&resp);
    let create = |body: Value| with_cookie(json_request("POST", "/api/0/api-tokens/", body), &cookie);
    let (status, body, _) = send(&w, create(json!({"name": "ci", "scopes": ["event:nope"]}))).await;
    assert_eq!(status, 400, "{body}");
    let (status, token, _) = send(&w, create(json!({"name": "ci", "scopes": ["event:read"]}))).await;
    assert_eq!(status, 201, "{token}");
    let secret = token["token"].as_str().unwrap().to_owned();
    let (_, list, _) = send(&w, with_cookie(get("/api/0/api-tokens/", "", None), &cookie)).await;
    let listed = list.as_array().unwrap().iter().find(|t| t["name"] == "ci").unwrap();
    assert!(listed.get("token").is_none(), "never shown again");
    assert_eq!(listed["tokenLastCharacters"], secret[secret.len() - 4..]);
    // The token reads, cannot write, cannot make tokens.
    let (status, _, _) = call(&w, "/api/0/projects/acme/web/issues/", "", Some(&secret)).await;
    assert_eq!(status, 200);
    let mut req = get("/api/0/api-tokens/", "", Some(&secret));
    req.request_context.http.method = Method::POST;
    req.body = Some(json!({"scopes": ["event:admin"]}).to_string());
    let (status, _, _) = send(&w, req).await;
    assert_eq!(status, 403);
    // Revoked, it stops working.
    let path = format!("/api/0/api-tokens/{}/", token["id"].as_str().unwrap());
    let (status, _, _) = send(&w, with_cookie(json_request("DELETE", &path, json!({})), &cookie)).await;
    assert_eq!(status, 204);
    let (status, _, _) = call(&w, "/api/0/projects/acme/web/issues/", "", Some(&secret)).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn invitations_by_mail_join_with_the_role_given() {
    let w = world().await;
    let invite = |token: &str, body: Value| {
        let mut req = get("/api/0/organizations/acme/members/", "", Some(token));
        req.request_context.http.method = Method::POST;
        req.body = Some(body.to_string());
        req
    };
    let (status, body, _) = send(&w, invite(ADMIN_TOKEN, json!({"email": "zoe@acme.test", "role": "owner"}))).await;
    assert_eq!(status, 403, "admins cannot invite owners: {body}");
    let (status, body, _) = send(&w, invite(ADMIN_TOKEN, json!({"email": "mia@acme.test"}))).await;
    assert_eq!(status, 409, "already a member: {body}");
    let (status, body, _) = send(&w, invite(ADMIN_TOKEN, json!({"email": "Zoe@Acme.test", "role": "admin"}))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["pending"], true);
    assert!(!body.to_string().contains("accept-invite"), "the link is never in an answer: {body}");
    let notices = w.outbox.notices();
    assert_eq!(notices.len(), 1);
    let Notice::Invitation { to, link, role, .. } = &notices[0] else { panic!("not an invitation") };
    assert_eq!((to.as_str(), *role), ("zoe@acme.test", Role::Admin));
    assert!(link.starts_with("http://web.test/accept-invite/"));
    let secret = link.rsplit('/').next().unwrap();

    let details = |token: &str| json_request("POST", "/api/0/accept-invite/details/", json!({"token": token}));
    let (status, details_body, _) = send(&w, details(secret)).await;
    assert_eq!(status, 200, "{details_body}");
    assert_eq!(details_body["email"], "zoe@acme.test");
    assert_eq!(details_body["hasAccount"], false);
    let (status, _, _) = send(&w, details("errata_forged")).await;
    assert_eq!(status, 404);
    let accept = json_request(
        "POST",
        "/api/0/accept-invite/",
        json!({"token": secret, "password": "zoe's password", "name": "Zoe"}),
    );
    let (status, body, resp) = send(&w, accept).await;
    assert_eq!(status, 200, "{body}");
    let cookie = session_cookie_of(&resp);
    let (status, org, _) = send(&w, with_cookie(get("/api/0/organizations/acme/", "", None), &cookie)).await;
    assert_eq!(status, 200);
    assert_eq!(org["role"], "admin");
    // Used once.
    let again = json_request("POST", "/api/0/accept-invite/", json!({"token": secret, "password": "zoe's password"}));
    assert_eq!(send(&w, again).await.0, 404);

    // The last owner cannot leave or be demoted; members can leave.
    let (status, body, _) =
        send(&w, request("DELETE", "/api/0/organizations/acme/members/ann@acme.test/", TOKEN)).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, _) =
        send(&w, request("DELETE", "/api/0/organizations/acme/members/adam@acme.test/", MEMBER_TOKEN)).await;
    assert_eq!(status, 403, "a member cannot remove an admin");
    let (status, _, _) =
        send(&w, request("DELETE", "/api/0/organizations/acme/members/mia@acme.test/", MEMBER_TOKEN)).await;
    assert_eq!(status, 204);
    let (status, _, _) = call(&w, "/api/0/projects/acme/web/issues/", "", Some(MEMBER_TOKEN)).await;
    assert_eq!(status, 404, "gone from the organization");
}

#[tokio::test]
async fn keys_rotate_disable_and_limit() {
    let w = world().await;
    let base = "/api/0/projects/acme/web/keys/";
    let mut req = request("POST", &format!("{base}{ACME_KEY}/rotate/"), ADMIN_TOKEN);
    req.body = None;
    let (status, new, _) = send(&w, req).await;
    assert_eq!(status, 201, "{new}");
    let old = w.deps.directory.project_key(ACME_KEY).await.unwrap().unwrap();
    assert!(!old.enabled, "the rotated key is disabled");
    let new_id = new["id"].as_str().unwrap();
    let mut req = request("PUT", &format!("{base}{new_id}/"), ADMIN_TOKEN);
    req.body = Some(json!({"rateLimit": {"count": 100, "window": 60}, "name": "Main"}).to_string());
    let (status, body, _) = send(&w, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rateLimit"], json!({"count": 100, "window": 60}));
    let mut req = request("PUT", &format!("{base}{new_id}/"), ADMIN_TOKEN);
    req.body = Some(json!({"rateLimit": {"count": 0, "window": 60}}).to_string());
    assert_eq!(send(&w, req).await.0, 400);
    let (_, list, _) = call(&w, base, "", Some(MEMBER_TOKEN)).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn project_settings_and_filters() {
    let w = world().await;
    let path = "/api/0/projects/acme/web/";
    let mut req = request("PUT", path, ADMIN_TOKEN);
    req.body = Some(
        json!({"scrubIPAddresses": true, "sensitiveFields": ["ssn"], "settings": {"filters": {"localhost": true}}})
            .to_string(),
    );
    let (status, body, _) = send(&w, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scrubIPAddresses"], true);
    assert_eq!(body["settings"]["filters"]["localhost"], true);
    assert_eq!(body["settings"]["filters"]["web_crawlers"], true, "the rest kept");
    let stored = w.deps.directory.project(1).await.unwrap().unwrap();
    assert_eq!(stored.settings.scrubbing.sensitive_fields, vec!["ssn".to_owned()]);
    let mut req = request("PUT", path, ADMIN_TOKEN);
    req.body = Some(json!({"settings": {"filters": {"localhost": "yes"}}}).to_string());
    let (status, body, _) = send(&w, req).await;
    assert_eq!(status, 400, "{body}");
    let mut req = request("PUT", path, ADMIN_TOKEN);
    req.body = Some(json!({"colour": "red"}).to_string());
    let (status, body, _) = send(&w, req).await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("colour"));

    // Grouping rules and retention, validated.
    let mut req = request("PUT", path, ADMIN_TOKEN);
    req.body = Some(
        json!({"fingerprintingRules": "error.type:Db* -> database", "settings": {"retention_days": 30}}).to_string(),
    );
    let (status, body, _) = send(&w, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["fingerprintingRules"], "error.type:Db* -> database");
    assert_eq!(body["settings"]["retention_days"], 30);
    for bad in [json!({"fingerprintingRules": "colour:red -> x"}), json!({"settings": {"retention_days": 0}})] {
        let mut req = request("PUT", path, ADMIN_TOKEN);
        req.body = Some(bad.to_string());
        let (status, body, _) = send(&w, req).await;
        assert_eq!(status, 400, "{body}");
    }

    let mut req = request("PUT", &format!("{path}filters/releases/"), ADMIN_TOKEN);
    req.body = Some(json!({"patterns": ["*-beta"]}).to_string());
    let (status, body, _) = send(&w, req).await;
    assert_eq!(status, 200, "{body}");
    let releases = body.as_array().unwrap().iter().find(|f| f["id"] == "releases").unwrap();
    assert_eq!(releases["patterns"], json!(["*-beta"]));
    let (status, _, _) = send(&w, request("PUT", &format!("{path}filters/nope/"), ADMIN_TOKEN)).await;
    assert_eq!(status, 404);
}
