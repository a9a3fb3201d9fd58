use super::*;
use async_trait::async_trait;
use aws_lambda_events::sqs::SqsMessage;
use errata_domain::Role;
use errata_ports::{Mail, StoreError, StoreResult};
use std::sync::Mutex;

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
    let deps = Deps { mailer: outbox.clone() };
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
    let deps = Deps { mailer: outbox };
    let mut event = SqsEvent::default();
    event.records = vec![message("a", &invitation())];
    assert_eq!(handle_batch(&deps, event).await.batch_item_failures.len(), 1);
}
