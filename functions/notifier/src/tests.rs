use super::*;
use async_trait::async_trait;
use aws_lambda_events::sqs::SqsMessage;
use errata_domain::Role;
use errata_ports::{Mail, StoreError, StoreResult};
use std::sync::Mutex;

/// A webhook call as received: URL, body, headers.
type Call = (String, Vec<u8>, Vec<(&'static str, String)>);

/// Webhook calls as received.
#[derive(Default)]
struct Hooks {
    calls: Mutex<Vec<Call>>,
}

#[async_trait]
impl webhook::Webhooks for Hooks {
    async fn post(&self, url: &str, body: Vec<u8>, headers: Vec<(&'static str, String)>) -> Result<(), String> {
        if url.contains("down") {
            return Err("webhook answered 503".into());
        }
        self.calls.lock().unwrap().push((url.to_owned(), body, headers));
        Ok(())
    }
}

#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<Mail>>,
    fail: Mutex<bool>,
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> StoreResult<()> {
        if *self.fail.lock().unwrap() {
            return Err(StoreError::retryable("throttled"));
        }
        self.sent.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

fn message(id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.body = Some(body.into());
    m
}

fn invitation() -> String {
    serde_json::to_string(&Notice::Invitation {
        to: "zoe@acme.test".into(),
        org: "acme".into(),
        org_name: "Acme <Corp>".into(),
        invited_by: "ann@acme.test".into(),
        role: Role::Admin,
        link: "https://errata.example/accept-invite/errata_x?a=1&b=2".into(),
        expires_at: 1_800_000_000,
    })
    .unwrap()
}

#[tokio::test]
async fn invitations_are_mailed_with_escaped_html() {
    let outbox = Arc::new(Outbox::default());
    let deps = Deps {
        mailer: outbox.clone(),
        limiter: Arc::new(errata_testkit::MemoryRateLimiter::default()),
        webhooks: Arc::new(Hooks::default()),
        log: Arc::new(errata_testkit::MemoryNotificationLog::default()),
    };
    let mut event = SqsEvent::default();
    event.records = vec![message("a", &invitation()), message("b", "{\"kind\":\"unknown\"}"), message("c", "junk")];
    let resp = handle_batch(&deps, event).await;
    let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["b", "c"], "what cannot be delivered stays queued for the DLQ");
    let sent = outbox.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    let mail = &sent[0];
    assert_eq!(mail.to, "zoe@acme.test");
    assert_eq!(mail.subject, "ann@acme.test invited you to Acme <Corp> on Errata");
    assert!(mail.text.contains("https://errata.example/accept-invite/errata_x?a=1&b=2"));
    assert!(mail.text.contains("as admin"));
    assert!(mail.html.contains("<strong>Acme &lt;Corp&gt;</strong>"), "{}", mail.html);
    assert!(mail.html.contains("href=\"https://errata.example/accept-invite/errata_x?a=1&amp;b=2\""));
    assert!(mail.text.contains("2027"), "expiry date: {}", mail.text);
}

#[tokio::test]
async fn a_failing_mailer_leaves_the_notice_queued() {
    let outbox = Arc::new(Outbox::default());
    *outbox.fail.lock().unwrap() = true;
    let deps = Deps {
        mailer: outbox,
        limiter: Arc::new(errata_testkit::MemoryRateLimiter::default()),
        webhooks: Arc::new(Hooks::default()),
        log: Arc::new(errata_testkit::MemoryNotificationLog::default()),
    };
    let mut event = SqsEvent::default();
    event.records = vec![message("a", &invitation())];
    assert_eq!(handle_batch(&deps, event).await.batch_item_failures.len(), 1);
}

fn alert_notice(actions: Vec<errata_domain::alerts::Action>) -> String {
    serde_json::to_string(&Notice::Alert {
        rule_id: "r1".into(),
        rule_name: "New issues".into(),
        reason: "a new issue".into(),
        issue: Box::new(errata_domain::notice::AlertIssue {
            project_id: 7,
            project: "shop".into(),
            org: "acme".into(),
            issue_id: 42,
            short_id: "SHOP-42".into(),
            title: "KeyError: '<script>alert(1)</script>'".into(),
            culprit: "app.views in checkout".into(),
            level: "error".into(),
            count: 3,
            users: 2,
            first_seen: "2026-11-26T01:00:00.000Z".into(),
            last_seen: "2026-11-26T02:00:00.000Z".into(),
            release: Some("shop@1.2".into()),
            environment: Some("production".into()),
            event_id: "e".into(),
            frames: vec!["checkout (app/views.py:12)".into()],
            link: "https://errata.example/organizations/acme/issues/42/".into(),
        }),
        actions,
        members: vec!["ann@acme.test".into(), "bob@acme.test".into()],
        mute_link: "https://errata.example/settings/acme/projects/shop/alerts/r1/".into(),
    })
    .unwrap()
}

#[tokio::test]
async fn alerts_mail_members_call_webhooks_and_are_recorded() {
    let outbox = Arc::new(Outbox::default());
    let log = Arc::new(errata_testkit::MemoryNotificationLog::default());
    let hooks = Arc::new(Hooks::default());
    let limiter = Arc::new(errata_testkit::MemoryRateLimiter::default());
    let deps = Deps { mailer: outbox.clone(), limiter, webhooks: hooks.clone(), log: log.clone() };
    let mut event = SqsEvent::default();
    let email = errata_domain::alerts::Action::Email { addresses: vec![] };
    let slack = errata_domain::alerts::Action::Webhook {
        url: "https://hooks.example/services/T0/B0/secret-token".into(),
        format: errata_domain::alerts::WebhookFormat::Slack,
        secret: String::new(),
    };
    let generic = errata_domain::alerts::Action::Webhook {
        url: "https://receiver.example/errata".into(),
        format: errata_domain::alerts::WebhookFormat::Generic,
        secret: "s3cret".into(),
    };
    let down = errata_domain::alerts::Action::Webhook {
        url: "https://down.example/".into(),
        format: Default::default(),
        secret: String::new(),
    };
    event.records = vec![
        message("a", &alert_notice(vec![email])),
        message("b", &alert_notice(vec![slack, generic])),
        message("c", &alert_notice(vec![down])),
    ];
    let resp = handle_batch(&deps, event).await;
    let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["c"], "a receiver that fails leaves the notice to be retried, then parked");
    let calls = hooks.calls.lock().unwrap();
    assert_eq!(calls.len(), 2);
    let slack_body: serde_json::Value = serde_json::from_slice(&calls[0].1).unwrap();
    assert_eq!(slack_body["text"], "[shop] ERROR: KeyError: '&lt;script&gt;alert(1)&lt;/script&gt;'");
    let section = slack_body["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(section.starts_with("*<https://errata.example/organizations/acme/issues/42/|"), "{section}");
    assert!(calls[0].2.iter().all(|(k, _)| *k != "x-errata-signature"), "unsigned without a secret");
    let generic_body: serde_json::Value = serde_json::from_slice(&calls[1].1).unwrap();
    assert_eq!(generic_body["issue"]["issue_id"], 42);
    assert_eq!(generic_body["rule"]["name"], "New issues");
    let signature = calls[1].2.iter().find(|(k, _)| *k == "x-errata-signature").unwrap().1.clone();
    assert_eq!(signature, webhook::signature("s3cret", &calls[1].1));
    let sent = outbox.sent.lock().unwrap();
    assert_eq!(sent.iter().map(|m| m.to.as_str()).collect::<Vec<_>>(), ["ann@acme.test", "bob@acme.test"]);
    let mail = &sent[0];
    assert_eq!(mail.subject, "[shop] ERROR: KeyError: '<script>alert(1)</script>'");
    assert!(mail.html.contains("KeyError: &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;"), "{}", mail.html);
    assert!(!mail.html.contains("<script>"));
    assert!(mail.text.contains("Events: 3") && mail.text.contains("Release: shop@1.2"));
    assert!(mail.text.contains("checkout (app/views.py:12)"));
    assert!(mail.html.contains("href=\"https://errata.example/organizations/acme/issues/42/\""));
    assert!(mail.text.contains("Mute this alert: https://errata.example/settings/acme/projects/shop/alerts/r1/"));
    let records = log.records.lock().unwrap();
    let channels: Vec<(&str, &str)> = records.iter().map(|r| (r.channel.as_str(), r.target.as_str())).collect();
    assert_eq!(
        channels,
        [("email", "ann@acme.test, bob@acme.test"), ("webhook", "hooks.example"), ("webhook", "receiver.example")],
        "webhook records name the host only, never the URL's secret path"
    );
}

/// One organization's alerts to addresses outside it stop at its daily allowance; its members
/// are mailed whatever the count.
#[tokio::test]
async fn alert_mail_to_outside_addresses_is_limited_per_organization() {
    let outbox = Arc::new(Outbox::default());
    let limiter = Arc::new(errata_testkit::MemoryRateLimiter::default());
    let deps = Deps {
        mailer: outbox.clone(),
        limiter,
        webhooks: Arc::new(Hooks::default()),
        log: Arc::new(errata_testkit::MemoryNotificationLog::default()),
    };
    let to = vec!["oncall@outside.test".to_owned(), "ann@acme.test".to_owned()];
    let notice = alert_notice(vec![errata_domain::alerts::Action::Email { addresses: to }]);
    let total = OUTSIDE_MAILS_PER_ORG.count as usize + 5;
    let mut event = SqsEvent::default();
    event.records = (0..total).map(|i| message(&i.to_string(), &notice)).collect();
    let resp = handle_batch(&deps, event).await;
    assert!(resp.batch_item_failures.is_empty(), "over the limit is not a failure to retry");
    let sent = outbox.sent.lock().unwrap();
    let outside = sent.iter().filter(|m| m.to == "oncall@outside.test").count();
    let member = sent.iter().filter(|m| m.to == "ann@acme.test").count();
    assert_eq!((outside, member), (OUTSIDE_MAILS_PER_ORG.count as usize, total));
}

/// A webhook that answers slowly fails only its own notice; the others are delivered and the
/// batch answers within its budget.
#[tokio::test]
async fn a_slow_receiver_fails_only_its_own_notice() {
    struct Slow;
    #[async_trait]
    impl webhook::Webhooks for Slow {
        async fn post(&self, url: &str, _: Vec<u8>, _: Vec<(&'static str, String)>) -> Result<(), String> {
            if url.contains("slow") {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            }
            Ok(())
        }
    }
    let outbox = Arc::new(Outbox::default());
    let log = Arc::new(errata_testkit::MemoryNotificationLog::default());
    let deps = Deps {
        mailer: outbox.clone(),
        limiter: Arc::new(errata_testkit::MemoryRateLimiter::default()),
        webhooks: Arc::new(Slow),
        log: log.clone(),
    };
    let hook = |url: &str| errata_domain::alerts::Action::Webhook {
        url: url.into(),
        format: Default::default(),
        secret: String::new(),
    };
    let mut event = SqsEvent::default();
    event.records = vec![
        message("slow", &alert_notice(vec![hook("https://slow.example/")])),
        message("quick", &alert_notice(vec![hook("https://quick.example/")])),
        message("mail", &alert_notice(vec![errata_domain::alerts::Action::Email { addresses: vec![] }])),
    ];
    let started = std::time::Instant::now();
    let resp = handle_batch_within(&deps, event, std::time::Duration::from_millis(300)).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["slow"]);
    assert_eq!(outbox.sent.lock().unwrap().len(), 2, "the members were mailed");
    let targets: Vec<String> = log.records.lock().unwrap().iter().map(|r| r.target.clone()).collect();
    assert!(targets.contains(&"quick.example".to_owned()), "{targets:?}");
}
