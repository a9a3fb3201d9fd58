//! The account-security adapters against the local AWS emulator's real API: a user's
//! sign-ins listed and ended, single-use resets and invitations, audit logs paged newest
//! first, and failed-credential throttles. Each test makes its own tables; without
//! `AWS_ENDPOINT_URL` they fail, never skip.

#![cfg(feature = "dynamodb")]
#![allow(clippy::unwrap_used)]

mod common;
use common::*;

use errata_aws::{DynamoDirectory, DynamoRateLimiter};
use errata_domain::secrets::token_digest;
use errata_domain::{AuditEntry, Invite, PasswordReset, RateLimit, Role, Session};
use errata_ports::{Accounts, AuditLog, Directory, Throttle};
use serde_json::json;

fn session(email: &str, n: u8) -> Session {
    Session {
        digest: token_digest(&format!("errata_s_{email}{n}")),
        email: email.into(),
        expires_at: 4_000_000_000,
        created_at: 1_800_000_000 + i64::from(n),
        ip: Some(format!("203.0.113.{n}")),
        user_agent: Some("Firefox".into()),
    }
}

#[tokio::test]
async fn sessions_are_listed_per_user_and_end_everywhere() {
    let cfg = config().await;
    let (directory, _, _) = tables(&cfg).await;
    let dir = DynamoDirectory::new(&cfg, directory);
    for s in [session("a@x.test", 1), session("a@x.test", 2), session("b@x.test", 3)] {
        dir.put_session(&s).await.unwrap();
    }
    let mut mine = dir.user_sessions("a@x.test").await.unwrap();
    mine.sort_by_key(|s| s.created_at);
    assert_eq!(mine, vec![session("a@x.test", 1), session("a@x.test", 2)]);
    assert_eq!(dir.session(&session("a@x.test", 1).digest).await.unwrap(), Some(session("a@x.test", 1)));
    dir.delete_session(&mine[0]).await.unwrap();
    assert_eq!(dir.session(&mine[0].digest).await.unwrap(), None, "the session itself is gone");
    assert_eq!(dir.user_sessions("a@x.test").await.unwrap(), vec![session("a@x.test", 2)], "and its copy");
    assert_eq!(dir.user_sessions("b@x.test").await.unwrap().len(), 1);
}

#[tokio::test]
async fn resets_and_invitations_are_taken_once() {
    let cfg = config().await;
    let (directory, _, _) = tables(&cfg).await;
    let dir = DynamoDirectory::new(&cfg, directory);
    let reset = PasswordReset { digest: token_digest("errata_r"), email: "a@x.test".into(), expires_at: 4_000_000_000 };
    dir.put_password_reset(&reset).await.unwrap();
    let (first, second) = tokio::join!(dir.take_password_reset(&reset.digest), dir.take_password_reset(&reset.digest));
    let taken: Vec<_> = [first.unwrap(), second.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, vec![reset], "two takers at once: one gets it");
    assert_eq!(dir.take_password_reset(&token_digest("errata_unknown")).await.unwrap(), None);

    let invite = Invite {
        digest: token_digest("errata_i"),
        org: "acme".into(),
        email: "z@x.test".into(),
        role: Role::Admin,
        invited_by: "a@x.test".into(),
        created_at: 1,
        expires_at: 4_000_000_000,
    };
    dir.put_invite(&invite).await.unwrap();
    assert_eq!(dir.org_invites("acme").await.unwrap().len(), 1);
    assert_eq!(dir.take_invite(&invite.digest).await.unwrap(), Some(invite.clone()));
    assert_eq!(dir.take_invite(&invite.digest).await.unwrap(), None, "used once");
    assert!(dir.org_invites("acme").await.unwrap().is_empty(), "its copy under the organization is gone too");
}

#[tokio::test]
async fn audit_logs_page_newest_first_per_organization() {
    let cfg = config().await;
    let (directory, _, _) = tables(&cfg).await;
    let dir = DynamoDirectory::new(&cfg, directory);
    let entry = |org: &str, n: i64| AuditEntry {
        org: org.into(),
        id: format!("{n:032x}"),
        at_ms: 1_800_000_000_000 + n,
        actor: Some("a@x.test".into()),
        event: "member.invite".into(),
        ip: Some("203.0.113.1".into()),
        target_object: None,
        target_user: Some(format!("u{n}@x.test")),
        data: json!({"role": "member", "n": n}),
    };
    for n in 0..5 {
        dir.record(&entry("acme", n)).await.unwrap();
    }
    dir.record(&entry("other", 9)).await.unwrap();
    let (page, next) = dir.entries("acme", None, 2).await.unwrap();
    assert_eq!(page, vec![entry("acme", 4), entry("acme", 3)]);
    let mut seen = page.len();
    let mut cursor = next;
    while let Some(c) = cursor {
        let (page, next) = dir.entries("acme", Some(&c), 2).await.unwrap();
        assert!(page.iter().all(|e| e.org == "acme"));
        seen += page.len();
        cursor = next;
    }
    assert_eq!(seen, 5);
    assert_eq!(dir.entries("other", None, 10).await.unwrap().0, vec![entry("other", 9)]);
    assert_eq!(dir.entries("nobody", None, 10).await.unwrap(), (vec![], None));
}

#[tokio::test]
async fn throttles_count_failures_per_scope_and_window() {
    let cfg = config().await;
    let table = quotas_table(&cfg).await;
    let throttle = DynamoRateLimiter::new(&cfg, table);
    let limit = RateLimit { count: 3, window_secs: 60 };
    let now = 1_800_000_010;
    for _ in 0..3 {
        assert_eq!(throttle.blocked("auth:account:a", &limit, now).await.unwrap(), None);
        throttle.failed("auth:account:a", &limit, now).await.unwrap();
    }
    assert_eq!(throttle.blocked("auth:account:a", &limit, now).await.unwrap(), Some(50), "until the window ends");
    assert_eq!(throttle.blocked("auth:account:b", &limit, now).await.unwrap(), None, "another scope");
    assert_eq!(throttle.blocked("auth:account:a", &limit, now + 50).await.unwrap(), None, "the next window");
}
