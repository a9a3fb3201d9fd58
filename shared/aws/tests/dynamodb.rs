//! Adapter tests against the local AWS emulator's real API. They need `AWS_ENDPOINT_URL`
//! (`make test` starts the emulator and sets it); without it they fail, they never skip.
//! Each test creates its own uniquely named tables.

#![cfg(feature = "dynamodb")]
#![allow(clippy::unwrap_used)]

use errata_aws::{DynamoDirectory, DynamoIssueStore, DynamoRateLimiter};
use errata_domain::issue::Recorded;
use errata_domain::secrets::token_digest;
use errata_domain::{
    ApiToken, BodyRef, EventSummary, Grouping, IssueId, IssueStatus, Member, Org, Project, ProjectKey, RateLimit, Role,
    Sighting, StatusRequest, Substatus, Timestamp, User,
};
use errata_ports::{Directory, EventOrder, IssueStore, RateLimiter};

mod common;
use common::*;

fn sighting(project_id: u64, event_id: &str, ty: &str, ts_ms: i64) -> Sighting {
    let event: errata_protocol::Event =
        serde_json::from_value(serde_json::json!({"exception": [{"type": ty, "value": "v"}]})).unwrap();
    let grouping = Grouping::of(&event);
    Sighting {
        project_id,
        issue_id: IssueId::for_group(project_id, &grouping.hash),
        event_id: event_id.into(),
        timestamp: Timestamp::from_unix_millis(ts_ms).unwrap(),
        summary: EventSummary::of(&event),
        grouping,
        platform: "python".into(),
        release: None,
        environment: None,
        user_hash: None,
        body: BodyRef { key: format!("bodies/{project_id}"), offset: ts_ms as u64 % 1000, len: 10 },
        retention_days: None,
        has_attachments: false,
    }
}

#[tokio::test]
async fn issue_store_counts_groups_and_ignores_redelivery() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = DynamoIssueStore::new(&cfg, issues_table, events_table, 30);

    let a1 = sighting(1, "e1", "KeyError", 1_700_000_000_000);
    let a2 = sighting(1, "e2", "KeyError", 1_700_000_005_000);
    let b1 = sighting(1, "e3", "ValueError", 1_700_000_001_000);
    assert_eq!(store.record(&a1).await.unwrap(), Recorded::NewIssue);
    assert_eq!(store.record(&a2).await.unwrap(), Recorded::Counted);
    assert_eq!(store.record(&b1).await.unwrap(), Recorded::NewIssue);
    assert_eq!(store.record(&a2).await.unwrap(), Recorded::Duplicate, "same event id again");
    // The same event id in another project is another event.
    assert_eq!(store.record(&sighting(2, "e2", "KeyError", 1_700_000_005_000)).await.unwrap(), Recorded::NewIssue);

    let mut issues = store.project_issues(1).await.unwrap();
    issues.sort_by_key(|i| std::cmp::Reverse(i.times_seen));
    assert_eq!(issues.len(), 2);
    assert_eq!((issues[0].title.as_str(), issues[0].times_seen), ("KeyError: v", 2));
    assert_eq!(issues[0].first_seen.unix_millis(), 1_700_000_000_000);
    assert_eq!(issues[0].last_seen.unix_millis(), 1_700_000_005_000);
    assert_eq!(issues[0].grouping, a1.grouping);
    assert_eq!(issues[1].times_seen, 1);

    let by_id = store.issue(a1.issue_id).await.unwrap().unwrap();
    assert_eq!(by_id, issues[0]);
    assert!(store.issue(IssueId(12345)).await.unwrap().is_none());
    let latest = store.issue_events(a1.issue_id, EventOrder::NewestFirst, None, 1).await.unwrap();
    assert_eq!(latest.events[0].event_id, "e2");
    assert_eq!(latest.events[0].body, a2.body);
    let by_id = store.event(1, "e1").await.unwrap().unwrap();
    assert_eq!((by_id.issue_id, by_id.body), (a1.issue_id, a1.body.clone()));
    assert!(store.event(2, "e1").await.unwrap().is_none(), "event ids are scoped to their project");
}

#[tokio::test]
async fn out_of_order_events_keep_first_and_last_seen_as_min_and_max() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = DynamoIssueStore::new(&cfg, issues_table, events_table, 30);
    for (id, ts) in [("m", 5_000), ("late", 9_000), ("early", 1_000), ("middle", 7_000)] {
        store.record(&sighting(3, id, "OrderError", 1_700_000_000_000 + ts)).await.unwrap();
    }
    let issue = &store.project_issues(3).await.unwrap()[0];
    assert_eq!(issue.times_seen, 4);
    assert_eq!(issue.first_seen.unix_millis(), 1_700_000_001_000);
    assert_eq!(issue.last_seen.unix_millis(), 1_700_000_009_000);
    let ids = |page: errata_ports::EventPage| page.events.into_iter().map(|e| e.event_id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.issue_events(issue.id, EventOrder::NewestFirst, None, 10).await.unwrap()),
        ["late", "middle", "m", "early"]
    );
    // Pages of two, oldest first, following the cursor.
    let first = store.issue_events(issue.id, EventOrder::OldestFirst, None, 2).await.unwrap();
    let cursor = first.next.clone().expect("a second page");
    assert_eq!(ids(first), ["early", "m"]);
    let second = store.issue_events(issue.id, EventOrder::OldestFirst, Some(&cursor), 2).await.unwrap();
    assert_eq!(ids(second.clone()), ["middle", "late"]);
    if let Some(c) = second.next {
        assert!(store.issue_events(issue.id, EventOrder::OldestFirst, Some(&c), 2).await.unwrap().events.is_empty());
    }
}

/// Deleting an issue purges its events step by step: they leave its list and lookups by id at
/// once (the marker) and for good (the purge), redeliveries stay duplicates, and the group's
/// next event starts the issue anew with only its own events.
#[tokio::test]
async fn deleted_issues_are_purged_and_do_not_come_back() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = DynamoIssueStore::new(&cfg, issues_table, events_table, 30);
    let t0 = Timestamp::now().unix_millis() - 60_000;
    for (i, id) in ["d1", "d2", "d3"].iter().enumerate() {
        let mut s_ = sighting(12, id, "DeletedError", t0 + i as i64 * 1_000);
        s_.has_attachments = *id == "d2";
        store.record(&s_).await.unwrap();
    }
    store.record(&sighting(13, "other", "DeletedError", t0)).await.unwrap();
    let issue = store.issue(sighting(12, "d1", "DeletedError", t0).issue_id).await.unwrap().unwrap();
    store.delete_issue(&issue).await.unwrap();
    assert!(store.issue(issue.id).await.unwrap().is_none());
    assert!(store.deleted_before(12, issue.id).await.unwrap().is_some());
    assert_eq!(store.pending_purges().await.unwrap(), vec![(12, issue.id)]);

    let (mut purged, mut attached) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let step = store.purge_events(12, issue.id, 2).await.unwrap();
        purged.extend(step.events);
        attached.extend(step.with_attachments);
        if step.done {
            break;
        }
    }
    purged.sort();
    assert_eq!(purged, ["d1", "d2", "d3"]);
    assert_eq!(attached, ["d2"], "only events with attachments have folders to delete");
    assert_eq!(store.deleted_before(12, issue.id).await.unwrap(), None, "the marker is gone when done");
    assert!(store.pending_purges().await.unwrap().is_empty());
    assert_eq!(store.event(12, "d1").await.unwrap(), None);
    assert!(store.event(13, "other").await.unwrap().is_some(), "another project's issue is untouched");

    // A redelivery is still a duplicate; the next event of the group starts the issue anew.
    assert_eq!(store.record(&sighting(12, "d2", "DeletedError", t0 + 1_000)).await.unwrap(), Recorded::Duplicate);
    assert_eq!(store.record(&sighting(12, "new", "DeletedError", t0 + 90_000)).await.unwrap(), Recorded::NewIssue);
    let again = store.issue(issue.id).await.unwrap().unwrap();
    assert_eq!(again.times_seen, 1);
    let page = store.issue_events(issue.id, EventOrder::NewestFirst, None, 10).await.unwrap();
    assert_eq!(page.events.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(), ["new"]);
}

#[tokio::test]
async fn resolved_issues_regress_and_ignored_ones_escalate() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = DynamoIssueStore::new(&cfg, issues_table, events_table, 30);
    let t0 = 1_700_000_000_000;
    let mut first = sighting(6, "r1", "RegressError", t0);
    first.release = Some("1.0".into());
    assert_eq!(store.record(&first).await.unwrap(), Recorded::NewIssue);
    let issue = store.issue(first.issue_id).await.unwrap().unwrap();
    assert_eq!((issue.first_release.as_deref(), issue.substatus), (Some("1.0"), Substatus::New));

    let resolve = StatusRequest::Resolve.apply(&issue, Timestamp::from_unix_millis(t0 + 1_000).unwrap());
    store.set_status(&issue, &resolve).await.unwrap();
    assert_eq!(store.issue(issue.id).await.unwrap().unwrap().status, IssueStatus::Resolved);
    // An event from before the resolve, delivered late, is counted but does not reopen it.
    assert_eq!(store.record(&sighting(6, "r0", "RegressError", t0 + 500)).await.unwrap(), Recorded::Counted);
    assert_eq!(store.record(&sighting(6, "r2", "RegressError", t0 + 2_000)).await.unwrap(), Recorded::Regressed);
    let issue = store.issue(issue.id).await.unwrap().unwrap();
    assert_eq!((issue.status, issue.substatus, issue.times_seen), (IssueStatus::Unresolved, Substatus::Regressed, 3));
    assert_eq!(store.record(&sighting(6, "r3", "RegressError", t0 + 3_000)).await.unwrap(), Recorded::Counted);

    let issue = store.issue(issue.id).await.unwrap().unwrap();
    let ignore = StatusRequest::Ignore { count: Some(2), until: None }.apply(&issue, Timestamp::now());
    store.set_status(&issue, &ignore).await.unwrap();
    assert_eq!(store.record(&sighting(6, "i1", "RegressError", t0 + 4_000)).await.unwrap(), Recorded::Counted);
    assert_eq!(store.record(&sighting(6, "i2", "RegressError", t0 + 5_000)).await.unwrap(), Recorded::Escalated);
    let issue = store.issue(issue.id).await.unwrap().unwrap();
    assert_eq!((issue.status, issue.substatus), (IssueStatus::Unresolved, Substatus::Escalating));
}

#[tokio::test]
async fn a_batch_counts_each_issue_once_and_overlapping_batches_stay_exact() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = std::sync::Arc::new(DynamoIssueStore::new(&cfg, issues_table.clone(), events_table, 30));
    let t0 = 1_700_000_000_000;
    let mut batch = vec![
        sighting(8, "a2", "BatchA", t0 + 2_000),
        sighting(8, "b1", "BatchB", t0 + 1_000),
        sighting(8, "a1", "BatchA", t0 + 1_000),
        sighting(8, "a2", "BatchA", t0 + 2_000),
        sighting(8, "a3", "BatchA", t0 + 3_000),
    ];
    batch[0].release = Some("2.0".into());
    batch[2].release = Some("1.0".into());
    batch[4].environment = Some("prod".into());
    let outcomes: Vec<Recorded> = store.record_batch(&batch).await.into_iter().map(Result::unwrap).collect();
    // Oldest first within an issue: a1 creates it; the second a2 is the same event.
    use Recorded::*;
    assert_eq!(outcomes, [Counted, NewIssue, NewIssue, Duplicate, Counted]);
    let a = store.issue(batch[0].issue_id).await.unwrap().unwrap();
    assert_eq!((a.times_seen, a.first_seen.unix_millis(), a.last_seen.unix_millis()), (3, t0 + 1_000, t0 + 3_000));
    assert_eq!((a.first_release.as_deref(), a.last_release.as_deref()), (Some("1.0"), Some("2.0")));
    assert_eq!(a.environments, ["prod"]);
    assert_eq!(a.grouping, batch[0].grouping);

    // Redelivered with new events, one older than the issue, after B was resolved.
    let b = store.issue(batch[1].issue_id).await.unwrap().unwrap();
    store
        .set_status(&b, &StatusRequest::Resolve.apply(&b, Timestamp::from_unix_millis(t0 + 1_500).unwrap()))
        .await
        .unwrap();
    batch.push(sighting(8, "a0", "BatchA", t0));
    batch.push(sighting(8, "b2", "BatchB", t0 + 5_000));
    batch.push(sighting(8, "b3", "BatchB", t0 + 6_000));
    let outcomes: Vec<Recorded> = store.record_batch(&batch).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes, [Duplicate, Duplicate, Duplicate, Duplicate, Duplicate, Counted, Regressed, Counted]);
    let a = store.issue(a.id).await.unwrap().unwrap();
    assert_eq!((a.times_seen, a.first_seen.unix_millis(), a.last_seen.unix_millis()), (4, t0, t0 + 3_000));
    let b = store.issue(b.id).await.unwrap().unwrap();
    assert_eq!((b.status, b.substatus, b.times_seen), (IssueStatus::Unresolved, Substatus::Regressed, 3));

    // Many events of one issue in batches that overlap and race: an event another batch is
    // still counting fails (SQS delivers it again later) and is a duplicate once that batch is
    // done; each distinct event counts once.
    let events: Vec<Sighting> = (0..240).map(|n| sighting(8, &format!("c{n}"), "BatchC", t0 + n)).collect();
    let mut tasks = Vec::new();
    for range in [0..150, 100..240, 50..200, 0..240] {
        let (store, mut batch) = (store.clone(), events[range].to_vec());
        tasks.push(tokio::spawn(async move {
            let mut new = 0;
            for _ in 0..50 {
                let outcomes = store.record_batch(&batch).await;
                let mut again = Vec::new();
                for (s, outcome) in batch.into_iter().zip(outcomes) {
                    match outcome {
                        Ok(o) => new += usize::from(o != Duplicate),
                        Err(e) => {
                            assert!(e.retryable, "{e}");
                            again.push(s);
                        }
                    }
                }
                if again.is_empty() {
                    return new;
                }
                batch = again;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("events still failing after 50 deliveries");
        }));
    }
    let mut new = 0;
    for task in tasks {
        new += task.await.unwrap();
    }
    assert_eq!(new, 240);
    let c = store.issue(events[0].issue_id).await.unwrap().unwrap();
    assert_eq!((c.times_seen, c.first_seen.unix_millis(), c.last_seen.unix_millis()), (240, t0, t0 + 239));
    let listed = store.issue_events(c.id, EventOrder::NewestFirst, None, 1000).await.unwrap();
    assert_eq!(listed.events.len(), 240);
    // An issue forgets the batches that are done: what each count writes stays small.
    for n in 0..5 {
        store.record(&sighting(8, &format!("d{n}"), "BatchC", t0 + 1_000 + n)).await.unwrap();
    }
    let item = aws_sdk_dynamodb::Client::new(&cfg)
        .get_item()
        .table_name(&issues_table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("P#8".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(format!("I#{}", c.id)))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let applied = item["applied"].as_m().unwrap();
    assert!(applied.len() <= 2, "{applied:?}");
    assert_eq!(store.issue(c.id).await.unwrap().unwrap().times_seen, 245);
}

/// An index entry as a batch writes it, naming the batch's token.
async fn put_entry(cfg: &aws_config::SdkConfig, table: &str, s: &Sighting, token: &str) {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    aws_sdk_dynamodb::Client::new(cfg)
        .put_item()
        .table_name(table)
        .item("pk", S(format!("{}/{}", s.project_id, s.event_id)))
        .item("project_id", N(s.project_id.to_string()))
        .item("event_id", S(s.event_id.clone()))
        .item("issue_id", N(s.issue_id.0.to_string()))
        .item("ts", N(s.timestamp.unix_millis().to_string()))
        .item("body_key", S(s.body.key.clone()))
        .item("b", S(token.into()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_batch_that_died_before_counting_is_counted_once_by_the_next_delivery() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let lease = std::time::Duration::from_millis(300);
    let store = DynamoIssueStore::new(&cfg, issues_table.clone(), events_table.clone(), 30).with_writer_lease(lease);
    let t0 = 1_700_000_000_000;
    // A batch wrote the entries of A and B's events, counted A, and died before counting B.
    let a = sighting(10, "da1", "DiedA", t0);
    assert_eq!(store.record(&sighting(10, "da0", "DiedA", t0 - 1)).await.unwrap(), Recorded::NewIssue);
    let b = sighting(10, "db1", "DiedB", t0);
    let deadline = Timestamp::now().unix_millis() + lease.as_millis() as i64;
    let token = format!("{deadline}.0123456789");
    put_entry(&cfg, &events_table, &a, &token).await;
    put_entry(&cfg, &events_table, &b, &token).await;
    aws_sdk_dynamodb::Client::new(&cfg)
        .update_item()
        .table_name(&issues_table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("P#10".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(format!("I#{}", a.issue_id)))
        .update_expression("SET applied.#t = :one ADD times_seen :one")
        .expression_attribute_names("#t", &token)
        .expression_attribute_values(":one", aws_sdk_dynamodb::types::AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    // Delivered again while the batch could still be at work: not decided yet.
    let early = store.record_batch(&[a.clone(), b.clone()]).await;
    assert!(early[0].as_ref().is_ok_and(|o| *o == Recorded::Duplicate), "{early:?}");
    assert!(early[1].as_ref().is_err_and(|e| e.retryable), "{early:?}");
    // Once it is surely gone, the next delivery adopts B's event and counts it, once.
    tokio::time::sleep(lease * 4).await;
    let later = store.record_batch(&[a.clone(), b.clone()]).await;
    assert_eq!(later.into_iter().map(Result::unwrap).collect::<Vec<_>>(), [Recorded::Duplicate, Recorded::NewIssue]);
    let again = store.record_batch(&[a.clone(), b.clone()]).await;
    assert_eq!(again.into_iter().map(Result::unwrap).collect::<Vec<_>>(), [Recorded::Duplicate, Recorded::Duplicate]);
    assert_eq!(store.issue(a.issue_id).await.unwrap().unwrap().times_seen, 2);
    assert_eq!(store.issue(b.issue_id).await.unwrap().unwrap().times_seen, 1);
    // An entry written by a transaction (no token) was counted with it.
    let old = sighting(10, "old1", "DiedA", t0 + 5);
    put_entry(&cfg, &events_table, &old, "").await;
    aws_sdk_dynamodb::Client::new(&cfg)
        .update_item()
        .table_name(&events_table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("10/old1".into()))
        .update_expression("REMOVE b")
        .send()
        .await
        .unwrap();
    assert_eq!(store.record(&old).await.unwrap(), Recorded::Duplicate);
}

#[tokio::test]
async fn users_affected_counts_each_user_once() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = DynamoIssueStore::new(&cfg, issues_table, events_table, 30);
    for (n, user) in [Some("alice"), Some("bob"), Some("alice"), None, Some("carol")].into_iter().enumerate() {
        let mut s = sighting(7, &format!("u{n}"), "UserError", 1_700_000_000_000 + n as i64);
        s.user_hash = user.map(str::to_owned);
        store.record(&s).await.unwrap();
    }
    let issue = &store.project_issues(7).await.unwrap()[0];
    assert_eq!((issue.times_seen, issue.users_seen), (5, 3));
}

#[tokio::test]
async fn concurrent_first_sightings_create_one_issue() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = std::sync::Arc::new(DynamoIssueStore::new(&cfg, issues_table, events_table, 30));
    let mut tasks = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.record(&sighting(5, &format!("c{n}"), "RaceError", 1_700_000_000_000 + n)).await.unwrap()
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| **o == Recorded::NewIssue).count(), 1, "{outcomes:?}");
    let issues = store.project_issues(5).await.unwrap();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].times_seen, 8);
}

#[tokio::test]
async fn directory_round_trips_and_hides_secrets() {
    let cfg = config().await;
    let (directory_table, _, _) = tables(&cfg).await;
    let dir = DynamoDirectory::new(&cfg, directory_table.clone());
    dir.put_org(&Org {
        slug: "acme".into(),
        name: "Acme".into(),
        quota: Some(RateLimit { count: 5, window_secs: 60 }),
    })
    .await
    .unwrap();
    let p1 = dir
        .put_project(&Project {
            id: 0,
            org: "acme".into(),
            slug: "web".into(),
            name: "Web".into(),
            platform: None,
            quota: None,
            settings: Default::default(),
        })
        .await
        .unwrap();
    let p2 = dir
        .put_project(&Project {
            id: 0,
            org: "acme".into(),
            slug: "api".into(),
            name: "API".into(),
            platform: Some("rust".into()),
            quota: None,
            settings: {
                let mut settings = errata_domain::ProjectSettings::default();
                settings.filters.localhost = true;
                settings.filters.releases = vec!["*-dev".into()];
                settings.scrubbing.sensitive_fields = vec!["iban".into()];
                settings
            },
        })
        .await
        .unwrap();
    assert_eq!((p1.id, p2.id), (1, 2), "ids come from an atomic counter");
    assert_eq!(dir.project_by_slug("acme", "api").await.unwrap(), Some(p2.clone()));
    assert_eq!(dir.project_by_slug("other", "api").await.unwrap(), None);
    assert_eq!(dir.project(1).await.unwrap(), Some(p1.clone()));

    let key = ProjectKey {
        public_key: "k".repeat(32),
        project_id: 2,
        label: "Default".into(),
        enabled: true,
        rate_limit: Some(RateLimit { count: 10, window_secs: 60 }),
        created_at: 0,
    };
    dir.put_project_key(&key).await.unwrap();
    assert_eq!(dir.project_key(&key.public_key).await.unwrap(), Some(key));
    assert_eq!(dir.project_key("x").await.unwrap(), None);

    dir.put_user(&User { email: "a@acme.test".into(), name: "A".into(), password_hash: "$argon2id$x".into() })
        .await
        .unwrap();
    dir.put_member(&Member { org: "acme".into(), email: "a@acme.test".into(), role: Role::Admin }).await.unwrap();
    assert_eq!(dir.member("acme", "a@acme.test").await.unwrap().unwrap().role, Role::Admin);
    assert_eq!(dir.member("acme", "b@acme.test").await.unwrap(), None);

    let token = "errata_secret";
    dir.put_api_token(&ApiToken {
        digest: token_digest(token),
        email: "a@acme.test".into(),
        label: "ci".into(),
        scopes: vec!["project:read".into()],
        created_at: 0,
        last_chars: String::new(),
        expires_at: Some(4_000_000_000),
    })
    .await
    .unwrap();
    assert_eq!(dir.api_token(&token_digest(token)).await.unwrap().unwrap().expires_at, Some(4_000_000_000));
    assert_eq!(dir.api_token(&token_digest(token)).await.unwrap().unwrap().email, "a@acme.test");
    assert!(dir.api_token(&token_digest("errata_other")).await.unwrap().is_none());

    // Debug files and artifact bundles: kept whole, listed per project, deleted one by one.
    let file = errata_domain::difs::DebugFile {
        id: "f1".into(),
        project_id: p1.id,
        debug_id: "3bbb698f-13b4-374f-09ad-94dc681bc3b1".into(),
        code_id: Some("8f69bb3b".into()),
        object_name: "crash".into(),
        cpu_name: "x86_64".into(),
        file_format: "elf".into(),
        object_kind: "executable".into(),
        features: vec!["symtab".into(), "debug".into()],
        sha1: "f1".into(),
        size: 12,
        created_at: 1,
        key: "difs/1/f1".into(),
    };
    dir.put_debug_file(&file).await.unwrap();
    assert_eq!(dir.debug_files(p1.id).await.unwrap(), vec![file.clone()]);
    let bundle = errata_domain::difs::ArtifactBundle {
        id: "b1".into(),
        project_id: p1.id,
        release: Some("web@1".into()),
        dist: None,
        debug_ids: vec!["c941d872-b8b0-4d6c-9c5e-7d7c1f0a2b3c".into()],
        file_count: 2,
        size: 99,
        created_at: 2,
        key: "artifacts/1/b1".into(),
    };
    dir.put_artifact_bundle(&bundle).await.unwrap();
    assert_eq!(dir.artifact_bundles(p1.id).await.unwrap(), vec![bundle.clone()]);
    assert_eq!(dir.debug_files(p1.id).await.unwrap().len(), 1, "bundles are not debug files");
    assert!(dir.artifact_bundles(p1.id + 1000).await.unwrap().is_empty());
    dir.delete_artifact_bundle(&bundle).await.unwrap();
    dir.delete_debug_file(&file).await.unwrap();
    assert!(dir.artifact_bundles(p1.id).await.unwrap().is_empty() && dir.debug_files(p1.id).await.unwrap().is_empty());

    // Nothing in the table holds the token in clear.
    let scan = aws_sdk_dynamodb::Client::new(&cfg).scan().table_name(&directory_table).send().await.unwrap();
    let dump = format!("{:?}", scan.items());
    assert!(!dump.contains(token), "a token is stored in clear");
}

#[tokio::test]
async fn rate_limiter_counts_per_window_and_refused_takes_do_not_count() {
    let cfg = config().await;
    let table = quotas_table(&cfg).await;
    let limiter = DynamoRateLimiter::new(&cfg, table);
    let limit = RateLimit { count: 3, window_secs: 60 };
    let now = 1_800_000_010; // 10 s into a minute window
    assert_eq!(limiter.try_take("key:a", 2, &limit, now).await.unwrap(), None);
    assert_eq!(limiter.try_take("key:a", 2, &limit, now).await.unwrap(), Some(50), "2 + 2 > 3");
    assert_eq!(limiter.try_take("key:a", 1, &limit, now + 5).await.unwrap(), None, "the refused take did not count");
    assert_eq!(limiter.try_take("key:a", 1, &limit, now + 6).await.unwrap(), Some(44));
    assert_eq!(limiter.try_take("key:b", 3, &limit, now).await.unwrap(), None, "scopes are separate");
    assert_eq!(limiter.try_take("key:a", 1, &limit, now + 60).await.unwrap(), None, "a new window");
    assert_eq!(limiter.try_take("key:c", 4, &limit, now).await.unwrap(), Some(50), "more than the whole limit");
}

#[tokio::test]
async fn release_health_counts_each_contribution_once() {
    use errata_domain::sessions::{from_update, SessionCounts};
    use errata_ports::ReleaseHealth;
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = DynamoIssueStore::new(&cfg, issues_table, events_table, 30);
    let update = |sid: &str, init: bool, status: &str, release: &str| {
        format!(
            r#"{{"sid":"{sid}","init":{init},"started":"2026-11-25T21:10:00Z","status":"{status}","attrs":{{"release":"{release}","environment":"prod"}}}}"#
        )
    };
    let updates = [
        update("a", true, "ok", "app@1"),
        update("a", false, "exited", "app@1"),
        update("b", true, "crashed", "app@1"),
        update("b", true, "crashed", "app@1"), // redelivered
        update("c", true, "ok", "app@2"),
    ];
    let mut counted = 0;
    for u in &updates {
        for c in from_update(u.as_bytes()).unwrap() {
            counted += usize::from(store.record_sessions(9, &c).await.unwrap());
        }
    }
    assert_eq!(counted, 4, "a start and an end each for a and b, c's start; the repeat counts nothing");
    let one = store.session_counts(9, Some("app@1"), 0).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].1, SessionCounts { started: 2, errored: 0, crashed: 1, abnormal: 0 });
    assert_eq!(one[0].0.environment, "prod");
    assert_eq!(store.session_counts(9, None, 0).await.unwrap().len(), 2);
    assert!(store.session_counts(9, None, i64::MAX).await.unwrap().is_empty());
    assert!(store.project_issues(9).await.unwrap().is_empty(), "counters are not issues");
}

#[tokio::test]
async fn feedback_is_listed_per_issue_and_per_project() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = DynamoIssueStore::new(&cfg, issues_table, events_table, 30);
    let s = sighting(11, "fe1", "FeedbackError", 1_700_000_000_000);
    store.record(&s).await.unwrap();
    for (n, issue) in [(1, Some(s.issue_id)), (2, None), (3, Some(s.issue_id))] {
        let f = errata_domain::Feedback {
            project_id: 11,
            id: format!("f{n}"),
            issue_id: issue,
            event_id: Some("fe1".into()),
            name: "Ann".into(),
            email: "ann@example.com".into(),
            comments: format!("note {n}"),
            url: None,
            timestamp: Timestamp::from_unix_millis(1_700_000_000_000 + n).unwrap(),
        };
        store.add_feedback(&f).await.unwrap();
        store.add_feedback(&f).await.unwrap(); // idempotent
    }
    use errata_ports::FeedbackScope;
    let of_issue = store.feedback(11, FeedbackScope::Issue(s.issue_id), 10).await.unwrap();
    assert_eq!(of_issue.iter().map(|f| f.comments.as_str()).collect::<Vec<_>>(), ["note 3", "note 1"]);
    assert_eq!(store.feedback(11, FeedbackScope::All, 10).await.unwrap().len(), 3);
    let pending = store.feedback(11, FeedbackScope::Unattached, 10).await.unwrap();
    assert_eq!(pending.iter().map(|f| f.comments.as_str()).collect::<Vec<_>>(), ["note 2"]);
    assert_eq!(store.project_issues(11).await.unwrap().len(), 1, "feedback items are not issues");
}

/// The titles' first words over every page of `query`, following cursors (at most `pages`).
async fn all_pages(store: &DynamoIssueStore, query: &errata_ports::IssueQuery<'_>, pages: usize) -> Vec<String> {
    let mut titles = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..pages {
        let page = store.list_issues(&errata_ports::IssueQuery { cursor: cursor.as_deref(), ..*query }).await.unwrap();
        titles.extend(page.issues.iter().map(|i| i.title.split(':').next().unwrap().to_owned()));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    titles
}

#[tokio::test]
async fn issue_lists_walk_day_partitions_with_cursors() {
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let events_table_name = events_table.clone();
    let store = DynamoIssueStore::new(&cfg, issues_table, events_table, 30);
    let now = Timestamp::now().unix_millis();
    // 30 issues, one every 8 hours back from now (10 days); the first 6 seen twice.
    for i in 0..30i64 {
        let mut s = sighting(21, &format!("e{i}"), &format!("Error{i}"), now - i * 8 * 3_600_000);
        s.environment = Some(if i % 2 == 0 { "production" } else { "staging" }.into());
        store.record(&s).await.unwrap();
        if i < 6 {
            let mut again = sighting(21, &format!("f{i}"), &format!("Error{i}"), now - i * 8 * 3_600_000 - 1_000);
            again.environment = Some("canary".into());
            store.record(&again).await.unwrap();
        }
    }
    // Error3 is resolved.
    let resolved =
        store.project_issues(21).await.unwrap().into_iter().find(|i| i.title.starts_with("Error3:")).unwrap();
    let change = errata_domain::StatusRequest::Resolve.apply(&resolved, Timestamp::now());
    store.set_status(&resolved, &change).await.unwrap();

    let all = [errata_domain::IssueStatus::Unresolved];
    let any = |_: &errata_domain::Issue| true;
    let mut query = errata_ports::IssueQuery {
        project_id: 21,
        statuses: &all,
        sort: errata_ports::IssueSort::LastSeen,
        seen_after: now - 30 * 86_400_000,
        filter: &any,
        selective: false,
        cursor: None,
        limit: 7,
    };
    let titles = all_pages(&store, &query, 10).await;
    let expected: Vec<String> = (0..30).filter(|i| *i != 3).map(|i| format!("Error{i}")).collect();
    assert_eq!(titles, expected, "newest first, every unresolved issue once, over 5 pages");
    // A cursor far in the future is read from tomorrow down, not from its own day: the first
    // page, at once (a walk from year 5138 would never end).
    let far = store.list_issues(&errata_ports::IssueQuery { cursor: Some("99999999999999:1:0"), ..query }).await;
    assert_eq!(
        far.unwrap().issues.first().map(|i| i.title.split(':').next().unwrap().to_owned()),
        Some("Error0".into())
    );

    // A project that keeps events 7 days: its index entries expire then, not after 30.
    let mut short = sighting(22, "short", "ShortLived", now);
    short.retention_days = Some(7);
    store.record(&short).await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(&cfg);
    let item = client
        .get_item()
        .table_name(&events_table_name)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("22/short".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
    assert_eq!(expires, now / 1000 + 7 * 86_400);

    // A project without issues answers at once.
    let empty = store.list_issues(&errata_ports::IssueQuery { project_id: 99_999, ..query }).await.unwrap();
    assert!(empty.issues.is_empty() && empty.next.is_none());

    // Resolved ones live in their own partitions.
    let resolved_only = [errata_domain::IssueStatus::Resolved];
    query.statuses = &resolved_only;
    query.cursor = None;
    let page = store.list_issues(&query).await.unwrap();
    assert_eq!(page.issues.len(), 1);
    assert!(page.issues[0].title.starts_with("Error3:"));

    // Filters, a time window, first-seen and frequency order.
    let both = [errata_domain::IssueStatus::Unresolved, errata_domain::IssueStatus::Resolved];
    query.statuses = &both;
    let canary = |i: &errata_domain::Issue| i.environments.iter().any(|e| e == "canary");
    query.filter = &canary;
    query.selective = true;
    query.limit = 100;
    let page = store.list_issues(&query).await.unwrap();
    assert_eq!(page.issues.len(), 6, "{:?}", page.issues.iter().map(|i| &i.title).collect::<Vec<_>>());
    assert!(page.next.is_none());
    query.filter = &any;
    query.seen_after = now - 2 * 86_400_000 + 60_000;
    assert_eq!(store.list_issues(&query).await.unwrap().issues.len(), 6, "seen in the last 2 days: 0..=5");
    query.seen_after = now - 30 * 86_400_000;
    query.sort = errata_ports::IssueSort::FirstSeen;
    query.limit = 3;
    let page = store.list_issues(&query).await.unwrap();
    let firsts: Vec<&str> = page.issues.iter().map(|i| i.title.split(':').next().unwrap()).collect();
    assert_eq!(firsts, ["Error0", "Error1", "Error2"]);
    query.sort = errata_ports::IssueSort::TimesSeen;
    query.limit = 6;
    let page = store.list_issues(&query).await.unwrap();
    assert!(page.issues.iter().all(|i| i.times_seen == 2));
    let next = store.list_issues(&errata_ports::IssueQuery { cursor: page.next.as_deref(), ..query }).await.unwrap();
    assert!(next.issues.iter().all(|i| i.times_seen == 1));
    assert_eq!(next.issues.len(), 6);

    // Assign, then delete.
    let issue = page.issues[0].clone();
    store.set_assignee(&issue, Some("ann@acme.test")).await.unwrap();
    assert_eq!(store.issue(issue.id).await.unwrap().unwrap().assignee.as_deref(), Some("ann@acme.test"));
    store.set_assignee(&issue, None).await.unwrap();
    assert_eq!(store.issue(issue.id).await.unwrap().unwrap().assignee, None);
    store.delete_issue(&issue).await.unwrap();
    assert!(store.issue(issue.id).await.unwrap().is_none());
}

#[tokio::test]
async fn issues_seen_in_the_same_hour_are_listed_in_exact_order_across_pages() {
    // `by-last-seen` orders by the hour only: a page must still be exact, and no issue of the
    // hour may be skipped or listed twice where a read chunk ends inside the hour.
    let cfg = config().await;
    let (_, issues_table, events_table) = tables(&cfg).await;
    let store = DynamoIssueStore::new(&cfg, issues_table, events_table, 30);
    let hour = 3_600_000;
    let start = Timestamp::now().unix_millis().div_euclid(hour) * hour - hour;
    // 40 issues in one hour, recorded in an order unlike their times; 5 of them seen again.
    let mut expected = Vec::new();
    for k in 0..40i64 {
        let i = (k * 17) % 40;
        let at = start + i * 60_000 + 7;
        store.record(&sighting(31, &format!("h{i}"), &format!("Hour{i}"), at)).await.unwrap();
        expected.push((at, format!("Hour{i}")));
    }
    for i in [3i64, 11, 20, 28, 39] {
        let at = start + 59 * 60_000 + i;
        store.record(&sighting(31, &format!("again{i}"), &format!("Hour{i}"), at)).await.unwrap();
        expected.retain(|(_, title)| title != &format!("Hour{i}"));
        expected.push((at, format!("Hour{i}")));
    }
    expected.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let expected: Vec<String> = expected.into_iter().map(|(_, title)| title).collect();

    let unresolved = [errata_domain::IssueStatus::Unresolved];
    let any = |_: &errata_domain::Issue| true;
    let query = errata_ports::IssueQuery {
        project_id: 31,
        statuses: &unresolved,
        sort: errata_ports::IssueSort::LastSeen,
        seen_after: start - 86_400_000,
        filter: &any,
        selective: false,
        cursor: None,
        limit: 6,
    };
    let titles = all_pages(&store, &query, 20).await;
    assert_eq!(titles, expected);
}

#[tokio::test]
async fn alert_claims_are_exclusive_and_counters_atomic_across_callers() {
    use errata_ports::{AlertState, RuleStore};
    let cfg = config().await;
    let table = quotas_table(&cfg).await;
    let state = std::sync::Arc::new(errata_aws::DynamoAlertState::new(&cfg, table));
    let now = 1_800_000_000;
    // Twenty concurrent claimers of one (rule, issue): exactly one wins.
    let claims = (0..20).map(|_| {
        let state = state.clone();
        tokio::spawn(async move { state.claim("af:r:1", now, now + 1800).await.unwrap() })
    });
    let won = futures_util::future::join_all(claims).await.into_iter().filter(|w| *w.as_ref().unwrap()).count();
    assert_eq!(won, 1);
    assert!(!state.claim("af:r:1", now + 1799, now + 3600).await.unwrap(), "still within the interval");
    assert!(state.claim("af:r:1", now + 1800, now + 3600).await.unwrap(), "after it");
    state.release("af:r:1").await.unwrap();
    assert!(state.claim("af:r:1", now + 1801, now + 3600).await.unwrap(), "released");
    // Twenty concurrent bumps: every count from 1 to 20 handed out once.
    let bumps = (0..20).map(|_| {
        let state = state.clone();
        tokio::spawn(async move { state.bump("aw:r:0:1:0", now + 60).await.unwrap() })
    });
    let mut counts: Vec<u64> = futures_util::future::join_all(bumps).await.into_iter().map(|c| c.unwrap()).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=20).collect::<Vec<u64>>());
    assert!(state.mark("au:r:0:1:0:user", now + 60).await.unwrap());
    assert!(!state.mark("au:r:0:1:0:user", now + 60).await.unwrap());

    // Rules round-trip through the directory.
    let (directory, _, _) = tables(&cfg).await;
    let dir = DynamoDirectory::new(&cfg, directory);
    let rule = errata_domain::alerts::default_rule(5, "r1".into(), 10);
    dir.put_rule(&rule).await.unwrap();
    assert_eq!(dir.rules(5).await.unwrap(), vec![rule.clone()]);
    assert!(dir.rules(6).await.unwrap().is_empty());
    dir.delete_rule(&rule).await.unwrap();
    assert!(dir.rules(5).await.unwrap().is_empty());
}

/// Listings page through everything: 1,100 releases of one organization all come back (a
/// listing used to stop at 1,000, silently).
#[tokio::test]
async fn listings_are_never_cut_short() {
    let cfg = config().await;
    let (directory_table, _, _) = tables(&cfg).await;
    let dir = DynamoDirectory::new(&cfg, directory_table);
    let puts = (0..1_100).map(|i| {
        let dir = &dir;
        async move {
            let release = errata_domain::releases::Release {
                org: "many".into(),
                version: format!("app@{i}"),
                projects: vec!["web".into()],
                url: None,
                date_created: i,
                date_started: None,
                date_released: None,
                status: "open".into(),
            };
            dir.put_release(&release).await.unwrap();
        }
    });
    futures_util::future::join_all(puts).await;
    assert_eq!(dir.releases("many").await.unwrap().len(), 1_100);
}
