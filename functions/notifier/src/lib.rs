//! The notifier Lambda: turns notices from its queue into e-mail. Today: invitations to join
//! an organization. Alert rules (e-mail and webhooks for issues) arrive with the alerts issue;
//! until then any other notice fails honestly and is parked in the dead-letter queue.
//!
//! A notice that cannot be delivered for a passing reason (SES throttling) is reported failed
//! so SQS retries it; one that can never be delivered (malformed) is failed too, and after
//! `maxReceiveCount` attempts lands in the DLQ with its body intact.

mod mail;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use errata_domain::Notice;
use errata_ports::Mailer;
use std::sync::Arc;

pub struct Deps {
    pub mailer: Arc<dyn Mailer>,
}

pub async fn handle_batch(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        if let Err(reason) = deliver(deps, record.body.as_deref().unwrap_or("")).await {
            tracing::warn!(message_id = %id, %reason, "notice not delivered; SQS retries it, then parks it in the DLQ");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

async fn deliver(deps: &Deps, body: &str) -> Result<(), String> {
    let notice: Notice = serde_json::from_str(body).map_err(|e| format!("not a notice: {e}"))?;
    let mail = match &notice {
        Notice::Invitation { .. } => mail::invitation(&notice),
    };
    deps.mailer.send(&mail).await.map_err(|e| e.message)
}

#[cfg(test)]
mod tests;
