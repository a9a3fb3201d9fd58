//! The processor: takes queued envelopes, turns their events into issues and stored events.
//! Each SQS message succeeds, is retried (reported as a batch item failure, so only it comes
//! back), or is dropped with a logged reason when retrying cannot help.

mod attachments;
mod normalize;
mod security;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use base64::Engine;
use errata_domain::issue::Recorded;
use errata_domain::scrub::{scrub_event, ScrubSettings};
use errata_domain::{EventSummary, Grouping, IssueId, QueuedEnvelope, QueuedPayload, Sighting};
use errata_ports::{BlobStore, IssueStore, StoreError};
use errata_protocol::{Envelope, Event};
use errata_runtime::outcome::{self, Outcome};
use std::sync::Arc;
use thiserror::Error;

pub struct Deps {
    pub issues: Arc<dyn IssueStore>,
    pub raw: Arc<dyn BlobStore>,
    pub events: Arc<dyn BlobStore>,
}

#[derive(Debug, Error)]
pub enum ProcessError {
    /// The message can never be processed; retrying would not help.
    #[error("invalid message: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What happened to the items of one envelope, for the log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcomes {
    pub new_issues: usize,
    pub counted: usize,
    pub duplicates: usize,
    pub invalid: usize,
    /// Item types this processor does not handle yet (transactions, sessions, …).
    pub unhandled: usize,
}

pub async fn handle_batch(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        match process_record(deps, &record).await {
            Ok(outcomes) => tracing::info!(message_id = %id, ?outcomes, "processed"),
            // Store errors fail the message: transient ones succeed on a later receive, and a
            // permanent one (say, access denied) parks it in the DLQ instead of losing it.
            Err(ProcessError::Store(e)) => {
                tracing::warn!(message_id = %id, error = %e, retryable = e.retryable, "failed; SQS will redeliver");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
            Err(e) => tracing::error!(message_id = %id, error = %e, outcome = "invalid", "dropped"),
        }
    }
    response
}

async fn process_record(deps: &Deps, record: &SqsMessage) -> Result<Outcomes, ProcessError> {
    let body = record.body.as_deref().ok_or_else(|| ProcessError::Invalid("empty message".into()))?;
    let queued: QueuedEnvelope =
        serde_json::from_str(body).map_err(|e| ProcessError::Invalid(format!("not a queued envelope: {e}")))?;
    process(deps, &queued).await
}

/// Processes one queued envelope. Safe to repeat: events already recorded are not counted
/// again, and stored objects are rewritten with the same content.
pub async fn process(deps: &Deps, queued: &QueuedEnvelope) -> Result<Outcomes, ProcessError> {
    let bytes = match &queued.payload {
        QueuedPayload::Inline(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| ProcessError::Invalid("inline payload is not base64".into()))?,
        QueuedPayload::Stored(key) => deps
            .raw
            .get(key)
            .await?
            .ok_or_else(|| ProcessError::Invalid(format!("stored envelope {key} is missing")))?,
    };
    let envelope = Envelope::parse(&bytes).map_err(|e| ProcessError::Invalid(e.to_string()))?;
    let envelope_id = envelope.header.event_id.clone().unwrap_or_default();
    let mut outcomes = Outcomes::default();

    // Attachments first, so the event can list them.
    let attachments = attachments::store(deps, queued.project_id, &envelope_id, &envelope).await?;
    let has_minidump = attachments.iter().any(|a| a.kind == "event.minidump");

    let mut events: Vec<Event> = Vec::new();
    for item in &envelope.items {
        match item.header.ty.as_str() {
            "event" => match serde_json::from_slice::<Event>(&item.payload) {
                Ok(event) => events.push(event),
                Err(e) => {
                    tracing::warn!(error = %e, "event item is not a valid event");
                    outcome::record(queued.project_id, Outcome::Invalid, "invalid_event", "error", 1);
                    outcomes.invalid += 1;
                }
            },
            "security" => match security::to_events(item) {
                Ok(reports) => events.extend(reports),
                Err(e) => {
                    tracing::warn!(error = %e, "security item is not a report");
                    outcome::record(queued.project_id, Outcome::Invalid, "invalid_security_report", "security", 1);
                    outcomes.invalid += 1;
                }
            },
            "attachment" => {}
            "client_report" => client_report(queued.project_id, &item.payload),
            other => {
                // Transactions, sessions, feedback, check-ins… arrive with the processing issue.
                outcome::record(queued.project_id, Outcome::Ignored, "not_processed_yet", item.header.category(), 1);
                tracing::debug!(item_type = other, "item type not processed yet");
                outcomes.unhandled += 1;
            }
        }
    }
    for (index, mut event) in events.into_iter().enumerate() {
        // A body with several reports gets one id per report, stable across redeliveries.
        if index > 0 && event.event_id.is_none() {
            event.event_id = Some(derived_id(&envelope_id, index));
        }
        if has_minidump {
            attachments::mark_minidump_crash(&mut event);
        }
        if !attachments.is_empty() {
            event.other.insert("attachments".into(), serde_json::to_value(&attachments).unwrap_or_default());
        }
        match record_event(deps, queued, &envelope, event).await? {
            Recorded::NewIssue => outcomes.new_issues += 1,
            Recorded::Counted => outcomes.counted += 1,
            Recorded::Duplicate => outcomes.duplicates += 1,
        }
    }
    Ok(outcomes)
}

/// An SDK's client report: what it dropped before sending, recorded as outcomes.
fn client_report(project_id: u64, payload: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Discard {
        reason: String,
        category: String,
        quantity: u64,
    }
    #[derive(serde::Deserialize)]
    struct Report {
        #[serde(default)]
        discarded_events: Vec<Discard>,
    }
    match serde_json::from_slice::<Report>(payload) {
        Ok(report) => {
            for d in report.discarded_events {
                outcome::record(project_id, Outcome::ClientDiscard, &d.reason, &d.category, d.quantity);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "client report is not valid");
            outcome::record(project_id, Outcome::Invalid, "invalid_client_report", "internal", 1);
        }
    }
}

/// A stable event id for the `index`-th event of an envelope.
fn derived_id(envelope_id: &str, index: usize) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(format!("{envelope_id}/{index}").as_bytes()))
}

async fn record_event(
    deps: &Deps,
    queued: &QueuedEnvelope,
    envelope: &Envelope,
    mut event: Event,
) -> Result<Recorded, ProcessError> {
    normalize::normalize(&mut event, envelope, queued);
    // Scrub before anything is grouped, summarized or stored. (Per-project settings arrive
    // with the project settings API; every project gets the defaults until then.)
    let mut stored = serde_json::to_value(&event).map_err(|e| ProcessError::Invalid(e.to_string()))?;
    if scrub_event(&mut stored, &ScrubSettings::default()) > 0 {
        event = serde_json::from_value(stored.clone()).map_err(|e| ProcessError::Invalid(e.to_string()))?;
    }
    let grouping = Grouping::of(&event);
    let summary = EventSummary::of(&event);
    let event_id = event.event_id.clone().unwrap_or_default();
    outcome::record(queued.project_id, Outcome::Accepted, "", "error", 1);
    let timestamp = event.timestamp.unwrap_or_else(errata_protocol::Timestamp::now);
    let body_key = format!("events/{}/{}.json", queued.project_id, event_id);

    stored["grouping"] = serde_json::json!({ "hash": grouping.hash, "variant": grouping.variant, "components": grouping.components, "version": grouping.version });
    stored["title"] = serde_json::json!(summary.title);
    stored["culprit"] = serde_json::json!(summary.culprit);
    // The body first: a counted event must always have its body. A duplicate delivery
    // rewrites the same object, which is harmless.
    deps.events.put(&body_key, serde_json::to_vec(&stored).unwrap_or_default(), "application/json").await?;

    let sighting = Sighting {
        project_id: queued.project_id,
        issue_id: IssueId::for_group(queued.project_id, &grouping.hash),
        event_id,
        timestamp,
        platform: event.platform.clone().unwrap_or_else(|| "other".into()),
        release: event.release.clone(),
        environment: event.environment.clone(),
        grouping,
        summary,
        body_key,
    };
    Ok(deps.issues.record(&sighting).await?)
}

#[cfg(test)]
mod tests;
