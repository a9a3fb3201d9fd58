//! The notifier Lambda: turns notices from its queue into e-mail and webhook calls:
//! invitations to join an organization, and alerts (each action of the rule that fired,
//! recorded per issue for "notified at").
//!
//! A notice that cannot be delivered for a passing reason (SES throttling) is reported failed
//! so SQS retries it; one that can never be delivered (malformed) is failed too, and after
//! `maxReceiveCount` attempts lands in the DLQ with its body intact.

mod mail;
pub mod webhook;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use errata_domain::alerts::Action;
use errata_domain::Notice;
use errata_domain::RateLimit;
use errata_domain::Timestamp;
use errata_ports::{Mailer, NotificationLog, NotificationRecord, RateLimiter};
use std::sync::Arc;
use std::time::Duration;

pub struct Deps {
    pub mailer: Arc<dyn Mailer>,
    /// Counts e-mails to addresses outside an organization (its daily allowance).
    pub limiter: Arc<dyn RateLimiter>,
    pub webhooks: Arc<dyn webhook::Webhooks>,
    pub log: Arc<dyn NotificationLog>,
}

/// How long a batch's deliveries may take together: below the function's 30 s timeout, so a
/// batch always answers, and a notice still being delivered then fails alone.
pub const BATCH_BUDGET: Duration = Duration::from_secs(20);

/// Delivers a batch's notices side by side: a slow or failing receiver delays and fails only
/// its own notice, which SQS retries (then parks in the DLQ); the others succeed.
pub async fn handle_batch(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    handle_batch_within(deps, event, BATCH_BUDGET).await
}

pub async fn handle_batch_within(deps: &Deps, event: SqsEvent, budget: Duration) -> SqsBatchResponse {
    let deliveries = event.records.into_iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let result = tokio::time::timeout(budget, deliver(deps, record.body.as_deref().unwrap_or("")))
            .await
            .unwrap_or_else(|_| Err(format!("not delivered within {} s", budget.as_secs())));
        (id, result)
    });
    let mut response = SqsBatchResponse::default();
    for (id, result) in futures_util::future::join_all(deliveries).await {
        if let Err(reason) = result {
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
        Notice::PasswordReset { .. } => {
            let mail = mail::password_reset(&notice).ok_or("not a password reset")?;
            deps.mailer.send(&mail).await.map_err(|e| e.message)
        }
        Notice::Alert { actions, members, rule_id, rule_name, issue, reason, .. } => {
            // Each action is delivered and recorded in turn; a retry of the notice repeats
            // only the actions after a failure would be ideal, but SQS retries the notice
            // whole: receivers may see a delivery twice after a failure (at least once).
            for action in actions {
                let (channel, target) = match action {
                    Action::Email { addresses } => {
                        let recipients = if addresses.is_empty() { members } else { addresses };
                        let recipients = within_limit(deps, &issue.org, recipients, members).await?;
                        for mail in mail::alert(&notice, &recipients) {
                            deps.mailer.send(&mail).await.map_err(|e| e.message)?;
                        }
                        ("email", recipients.join(", "))
                    }
                    Action::Webhook { url, format, secret } => {
                        let body = webhook::body(*format, rule_id, rule_name, reason, issue);
                        let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
                        let mut headers = vec![("user-agent", "errata-notifier".to_owned())];
                        if !secret.is_empty() {
                            headers.push(("x-errata-signature", webhook::signature(secret, &bytes)));
                        }
                        deps.webhooks.post(url, bytes, headers).await?;
                        ("webhook", host_of(url))
                    }
                };
                let record = NotificationRecord {
                    project_id: issue.project_id,
                    issue_id: errata_domain::IssueId(issue.issue_id),
                    rule_id: rule_id.clone(),
                    rule_name: rule_name.clone(),
                    channel: channel.into(),
                    target,
                    at: Timestamp::now(),
                };
                deps.log.record_notification(&record).await.map_err(|e| e.message)?;
            }
            Ok(())
        }
    }
}

/// Alert e-mails one organization may send to addresses outside it in a day, so that no
/// tenant can get the stack's sender identity throttled or suspended by SES.
pub const OUTSIDE_MAILS_PER_ORG: RateLimit = RateLimit { count: 200, window_secs: 86_400 };

/// The recipients that may be sent to: the organization's members always, other addresses
/// while the organization's daily allowance lasts (those past it are left out and logged).
async fn within_limit(
    deps: &Deps,
    org: &str,
    recipients: &[String],
    members: &[String],
) -> Result<Vec<String>, String> {
    let now = Timestamp::now().unix_millis() / 1000;
    let mut allowed = Vec::with_capacity(recipients.len());
    for to in recipients {
        if members.contains(to) {
            allowed.push(to.clone());
            continue;
        }
        let scope = format!("mail:alerts:{org}");
        match deps.limiter.try_take(&scope, 1, &OUTSIDE_MAILS_PER_ORG, now).await.map_err(|e| e.message)? {
            None => allowed.push(to.clone()),
            Some(_) => {
                tracing::warn!(org, "alert e-mail to an outside address over the organization's daily limit; not sent")
            }
        }
    }
    Ok(allowed)
}

/// The host of a URL, for records (never its path or query, which may hold a token).
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or("").rsplit('@').next().unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests;
