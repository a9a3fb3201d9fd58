//! The notifier Lambda: turns notices from its queue into e-mail: invitations to join an
//! organization, and alerts (each e-mail action of the rule that fired, recorded per issue for
//! "notified at"). Webhook actions are not delivered yet: such a notice fails and is parked in
//! the dead-letter queue rather than lost.
//!
//! A notice that cannot be delivered for a passing reason (SES throttling) is reported failed
//! so SQS retries it; one that can never be delivered (malformed) is failed too, and after
//! `maxReceiveCount` attempts lands in the DLQ with its body intact.

mod mail;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use errata_domain::alerts::Action;
use errata_domain::Notice;
use errata_domain::Timestamp;
use errata_ports::{Mailer, NotificationLog, NotificationRecord};
use std::sync::Arc;

pub struct Deps {
    pub mailer: Arc<dyn Mailer>,
    pub log: Arc<dyn NotificationLog>,
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
    match &notice {
        Notice::Invitation { .. } => {
            let mail = mail::invitation(&notice).ok_or("not an invitation")?;
            deps.mailer.send(&mail).await.map_err(|e| e.message)
        }
        Notice::Alert { actions, members, rule_id, rule_name, issue, .. } => {
            if actions.iter().any(|a| matches!(a, Action::Webhook { .. })) {
                return Err("webhook actions are not delivered yet".into());
            }
            for action in actions {
                let Action::Email { addresses } = action else { continue };
                let recipients = if addresses.is_empty() { members } else { addresses };
                for mail in mail::alert(&notice, recipients) {
                    deps.mailer.send(&mail).await.map_err(|e| e.message)?;
                }
                let record = NotificationRecord {
                    project_id: issue.project_id,
                    issue_id: errata_domain::IssueId(issue.issue_id),
                    rule_id: rule_id.clone(),
                    rule_name: rule_name.clone(),
                    channel: "email".into(),
                    target: recipients.join(", "),
                    at: Timestamp::now(),
                };
                deps.log.record_notification(&record).await.map_err(|e| e.message)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
