//! The processor: takes queued envelopes, turns their events into issues and stored events.
//! Each SQS message succeeds, is retried (reported as a batch item failure, so only it comes
//! back), or is dropped with a logged reason when retrying cannot help.

pub mod alerting;
mod attachments;
mod compact;
mod feedback;
mod normalize;
mod rows;
mod security;
mod symbolication;

use alerting::AlertFacts;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use base64::Engine;
use errata_domain::filters::{FilterReason, OverBudget};
use errata_domain::fingerprinting::FingerprintRules;
use errata_domain::issue::Recorded;
use errata_domain::normalize::normalize_event;
use errata_domain::scrub::scrub_event;
use errata_domain::sessions;
use errata_domain::ProjectSettings;
use errata_domain::{BodyRef, EventSummary, Grouping, IssueId, QueuedEnvelope, QueuedPayload, Sighting, Timestamp};
use errata_ports::{BlobStore, Directory, IssueStore, ReleaseHealth, StoreError};
use errata_protocol::{Envelope, Event};
use errata_rows::EventRow;
use errata_runtime::cache::TtlCache;
use errata_runtime::outcome::{self, Outcome};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

pub struct Deps {
    pub issues: Arc<dyn IssueStore>,
    pub raw: Arc<dyn BlobStore>,
    pub events: Arc<dyn BlobStore>,
    pub directory: Arc<dyn Directory>,
    pub health: Arc<dyn ReleaseHealth>,
    /// Project settings (scrubbing, inbound filters, grouping, retention) and alert rules by
    /// project id, read at most once a minute.
    pub settings: TtlCache<u64, Arc<ProjectConfig>>,
    /// Alert rules' state and outbox; `None` evaluates no rules.
    pub alerting: Option<alerting::Alerting>,
    /// Where error events with native frames go to be symbolicated (they come back on the
    /// envelope queue, frames marked); `None` stores them as sent.
    pub symbolication: Option<Arc<dyn errata_ports::EnvelopeQueue>>,
    /// Where messages that can never be processed are parked with their reason; `None` drops
    /// them (logged and counted).
    pub dead_letters: Option<Arc<dyn errata_ports::DeadLetters>>,
}

/// A project's settings with its fingerprint rules parsed once.
#[derive(Debug, Default)]
pub struct ProjectConfig {
    pub settings: ProjectSettings,
    pub rules: FingerprintRules,
    pub alert_rules: Vec<errata_domain::alerts::AlertRule>,
    /// Events whose inbound filters, and whose fingerprint rules, ran out of time since this
    /// config was read (it is read again within a minute): past `MAX_OVERRUNS` the project's
    /// rules are not even tried until then, so its events cost what anyone's do.
    pub filter_overruns: std::sync::atomic::AtomicU32,
    pub rule_overruns: std::sync::atomic::AtomicU32,
}

impl ProjectConfig {
    pub fn new(settings: ProjectSettings) -> ProjectConfig {
        // The API stores only rules that parse; anything else leaves the default grouping.
        let rules = FingerprintRules::parse(&settings.grouping.fingerprinting_rules).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "stored fingerprint rules do not parse; default grouping");
            FingerprintRules::default()
        });
        ProjectConfig { settings, rules, ..ProjectConfig::default() }
    }
}

impl Deps {
    pub fn new(
        issues: Arc<dyn IssueStore>,
        health: Arc<dyn ReleaseHealth>,
        raw: Arc<dyn BlobStore>,
        events: Arc<dyn BlobStore>,
        directory: Arc<dyn Directory>,
    ) -> Deps {
        Deps {
            issues,
            health,
            raw,
            events,
            directory,
            settings: TtlCache::new(Duration::from_secs(60), 10_000),
            alerting: None,
            symbolication: None,
            dead_letters: None,
        }
    }

    /// Parks poison messages in a dead-letter queue, with their reason.
    pub fn with_dead_letters(mut self, dead_letters: Arc<dyn errata_ports::DeadLetters>) -> Deps {
        self.dead_letters = Some(dead_letters);
        self
    }

    /// Evaluates alert rules too.
    pub fn with_symbolication(mut self, queue: Arc<dyn errata_ports::EnvelopeQueue>) -> Deps {
        self.symbolication = Some(queue);
        self
    }

    pub fn with_alerting(mut self, alerting: alerting::Alerting) -> Deps {
        self.alerting = Some(alerting);
        self
    }

    async fn project_settings(&self, project_id: u64) -> Result<Arc<ProjectConfig>, StoreError> {
        self.settings
            .get_or_load(&project_id, || async {
                let settings = self.directory.project(project_id).await?.map(|p| p.settings).unwrap_or_default();
                let mut config = ProjectConfig::new(settings);
                if let Some(alerting) = &self.alerting {
                    config.alert_rules = alerting.rules.rules(project_id).await?;
                }
                Ok(Arc::new(config))
            })
            .await
    }
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
    pub regressed: usize,
    pub escalated: usize,
    pub duplicates: usize,
    pub transactions: usize,
    /// Session counter contributions recorded (release health).
    pub sessions: usize,
    pub feedback: usize,
    pub invalid: usize,
    /// Dropped by the project's inbound filters.
    pub filtered: usize,
    /// Item types this processor does not handle yet (sessions, feedback, check-ins).
    pub unhandled: usize,
    /// Alert notices queued for the notifier.
    pub alerts: usize,
}

impl Outcomes {
    /// Adds another envelope's outcomes to these (a batch's totals).
    pub fn absorb(&mut self, o: &Outcomes) {
        self.new_issues += o.new_issues;
        self.counted += o.counted;
        self.regressed += o.regressed;
        self.escalated += o.escalated;
        self.duplicates += o.duplicates;
        self.transactions += o.transactions;
        self.sessions += o.sessions;
        self.feedback += o.feedback;
        self.invalid += o.invalid;
        self.filtered += o.filtered;
        self.unhandled += o.unhandled;
        self.alerts += o.alerts;
    }
}

/// How long a maintenance run purges deleted issues' events (the processor's timeout is 30 s;
/// compaction comes first). What is left waits for the next hour.
const PURGE_BUDGET: Duration = Duration::from_secs(15);

/// The processor's two jobs: SQS batches of envelopes, and scheduled compaction of the event
/// store (`{"compact": {"days": […]}}`, what the schedule sends).
pub async fn handle(deps: &Deps, payload: Value) -> Result<Value, ProcessError> {
    if payload.get("Records").is_some() {
        let event: SqsEvent =
            serde_json::from_value(payload).map_err(|e| ProcessError::Invalid(format!("not an SQS event: {e}")))?;
        return Ok(serde_json::to_value(handle_batch(deps, event).await).unwrap_or_default());
    }
    if let Some(request) = payload.get("compact") {
        let request: compact::CompactRequest = serde_json::from_value(request.clone())
            .map_err(|e| ProcessError::Invalid(format!("not a compaction request: {e}")))?;
        let today = time::OffsetDateTime::now_utc().date();
        let mut done = compact::compact(deps.events.as_ref(), &request, today).await?;
        // Projects that keep events shorter than the stack lose their older partitions.
        for folder in deps.events.list(errata_rows::TABLE_PREFIX).await?.folders {
            let Some(project_id) = compact::project_of(&folder) else { continue };
            if let Some(days) = deps.project_settings(project_id).await?.settings.retention_days {
                done.partitions_expired += compact::expire(deps.events.as_ref(), &folder, days, today).await?;
            }
        }
        // Deleted issues too large to purge within their delete request are finished here.
        let deadline = std::time::Instant::now() + PURGE_BUDGET;
        for (project_id, issue_id) in deps.issues.pending_purges().await? {
            let finished = errata_runtime::purge::purge_issue(
                deps.issues.as_ref(),
                deps.events.as_ref(),
                project_id,
                issue_id,
                deadline,
            )
            .await?;
            if !finished {
                break;
            }
            done.issues_purged += 1;
        }
        return Ok(serde_json::to_value(done).unwrap_or_default());
    }
    Err(ProcessError::Invalid("expected an SQS event or {\"compact\": {…}}".into()))
}

pub async fn handle_batch(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut ids = Vec::new();
    let mut bodies = Vec::new();
    let mut batch = Vec::new();
    let mut poison = Vec::new();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        match parse_record(record) {
            Ok(queued) => {
                ids.push(id);
                bodies.push(record.body.as_deref().unwrap_or_default());
                batch.push(queued);
            }
            Err(e) => poison.push((id, record.body.as_deref().unwrap_or_default(), e)),
        }
    }
    // One line per batch at info (logs are billed by the byte); each message's at debug.
    let mut totals = Outcomes::default();
    let mut processed = 0usize;
    for ((id, body), result) in ids.into_iter().zip(bodies).zip(process_batch(deps, &batch).await) {
        match result {
            Ok(outcomes) => {
                tracing::debug!(message_id = %id, ?outcomes, "processed");
                totals.absorb(&outcomes);
                processed += 1;
            }
            // Store errors fail the message: transient ones succeed on a later receive, and a
            // permanent one (say, access denied) parks it in the DLQ instead of losing it.
            Err(ProcessError::Store(e)) => {
                tracing::warn!(message_id = %id, error = %e, retryable = e.retryable, "failed; SQS will redeliver");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
            Err(e) => poison.push((id, body, e)),
        }
    }
    if processed > 0 {
        tracing::info!(messages = processed, outcomes = ?totals, "processed batch");
    }
    // What can never be processed goes to the DLQ at once, with its reason; if even that
    // fails, the message is retried and SQS moves it there after `maxReceiveCount`.
    for (id, body, e) in poison {
        let parked = match &deps.dead_letters {
            Some(dlq) => dlq.park(body, &e.to_string()).await.map(|()| true),
            None => Ok(false),
        };
        match parked {
            Ok(true) => {
                tracing::error!(message_id = %id, error = %e, outcome = "invalid", "parked in the dead-letter queue")
            }
            Ok(false) => tracing::error!(message_id = %id, error = %e, outcome = "invalid", "dropped"),
            Err(store) => {
                tracing::warn!(message_id = %id, error = %store, "could not park; SQS will redeliver");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

fn parse_record(record: &SqsMessage) -> Result<QueuedEnvelope, ProcessError> {
    let body = record.body.as_deref().ok_or_else(|| ProcessError::Invalid("empty message".into()))?;
    serde_json::from_str(body).map_err(|e| ProcessError::Invalid(format!("not a queued envelope: {e}")))
}

/// Processes one queued envelope (a batch of one).
pub async fn process(deps: &Deps, queued: &QueuedEnvelope) -> Result<Outcomes, ProcessError> {
    process_batch(deps, std::slice::from_ref(queued)).await.pop().unwrap_or_else(|| Ok(Outcomes::default()))
}

/// An event ready to be stored: its JSON and its Parquet row, and for an error event the
/// sighting that counts it (its body location is filled in when the batch's bodies are written).
struct Prepared {
    project_id: u64,
    body: Option<Vec<u8>>,
    sighting: Option<Sighting>,
    row: EventRow,
    /// What alert rules read of an error event beyond its sighting.
    alert: Option<AlertFacts>,
}

/// Processes queued envelopes as one batch, one result per envelope. The batch's event bodies
/// go to S3 as one object and its rows as one Parquet file per partition, so storage costs a
/// few PUTs per batch rather than one per event. Safe to repeat: events already recorded are
/// not counted again; their bodies and rows are written again, and rows are deduplicated by
/// event id when read and when compacted.
pub async fn process_batch(deps: &Deps, batch: &[QueuedEnvelope]) -> Vec<Result<Outcomes, ProcessError>> {
    let mut results = Vec::with_capacity(batch.len());
    let mut prepared: Vec<(usize, Prepared)> = Vec::new();
    let mut feedback: Vec<(usize, errata_domain::Feedback)> = Vec::new();
    for (m, queued) in batch.iter().enumerate() {
        match expand(deps, queued).await {
            Ok(expanded) => {
                results.push(Ok(expanded.outcomes));
                prepared.extend(expanded.prepared.into_iter().map(|p| (m, p)));
                feedback.extend(expanded.feedback.into_iter().map(|f| (m, f)));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    if !prepared.is_empty() {
        record_events(deps, prepared, &mut results).await;
    }
    // After the events: feedback sent right after its error finds the error's issue.
    for (m, mut f) in feedback {
        let Ok(outcomes) = &mut results[m] else { continue };
        let attached = match &f.event_id {
            Some(event_id) => deps.issues.event(f.project_id, event_id).await.map(|e| e.map(|e| e.issue_id)),
            None => Ok(None),
        };
        let stored = match attached {
            Ok(issue) => {
                f.issue_id = issue;
                deps.issues.add_feedback(&f).await
            }
            Err(e) => Err(e),
        };
        match stored {
            Ok(()) => {
                outcomes.feedback += 1;
                outcome::record(f.project_id, Outcome::Accepted, "", "feedback", 1);
            }
            Err(e) => results[m] = Err(e.into()),
        }
    }
    results
}

/// Stores a batch's bodies and rows, then counts its error events against their issues.
async fn record_events(
    deps: &Deps,
    mut prepared: Vec<(usize, Prepared)>,
    results: &mut [Result<Outcomes, ProcessError>],
) {
    if let Err(e) = store_batch(deps, &mut prepared).await {
        for (m, _) in &prepared {
            results[*m] = Err(ProcessError::Store(e.clone()));
        }
        return;
    }
    // The batch's error events are counted together (a store writes each issue once per
    // batch); those of messages that already failed are left for their redelivery.
    let mut counted = Vec::new();
    let mut sightings = Vec::new();
    for (m, p) in prepared {
        let Ok(outcomes) = &mut results[m] else { continue };
        match p.sighting {
            Some(sighting) => {
                sightings.push(sighting);
                counted.push((m, p.project_id, p.alert));
            }
            None => {
                outcome::record(p.project_id, Outcome::Accepted, "", "transaction", 1);
                outcomes.transactions += 1;
            }
        }
    }
    let recorded = deps.issues.record_batch(&sightings).await;
    for (((m, project_id, facts), sighting), recorded) in counted.into_iter().zip(&sightings).zip(recorded) {
        let Ok(outcomes) = &mut results[m] else { continue };
        match recorded {
            Ok(recorded) => {
                if recorded != Recorded::Duplicate {
                    outcome::record(project_id, Outcome::Accepted, "", "error", 1);
                }
                match recorded {
                    Recorded::NewIssue => outcomes.new_issues += 1,
                    Recorded::Counted => outcomes.counted += 1,
                    Recorded::Regressed => outcomes.regressed += 1,
                    Recorded::Escalated => outcomes.escalated += 1,
                    Recorded::Duplicate => outcomes.duplicates += 1,
                }
                if recorded != Recorded::Duplicate {
                    outcomes.alerts += alert(deps, sighting, recorded, facts.as_ref()).await;
                }
            }
            // The message is retried whole; its events already recorded count as duplicates.
            Err(e) => results[m] = Err(e.into()),
        }
    }
}

/// Evaluates the project's alert rules for a counted event. A failure is logged, not retried:
/// the event is counted already, and redelivering it would not fire its rules again.
async fn alert(deps: &Deps, sighting: &Sighting, recorded: Recorded, facts: Option<&AlertFacts>) -> usize {
    let (Some(alerting), Some(facts)) = (&deps.alerting, facts) else { return 0 };
    let config = match deps.project_settings(sighting.project_id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "alert rules could not be read; no alert for this event");
            return 0;
        }
    };
    if config.alert_rules.is_empty() {
        return 0;
    }
    match alerting::evaluate(deps, alerting, &config.alert_rules, sighting, recorded, facts).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, issue_id = %sighting.issue_id, "alert evaluation failed");
            0
        }
    }
}

/// Writes the bodies of a batch's error events as one object (each event a byte range of it)
/// and its rows as one Parquet file per (project, day).
async fn store_batch(deps: &Deps, prepared: &mut [(usize, Prepared)]) -> Result<(), StoreError> {
    let now = Timestamp::now();
    let batch_id = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("bodies/{}/{batch_id}.jsonl", day(now.unix_millis()));
    let mut segment = Vec::new();
    for (_, p) in prepared.iter_mut() {
        let (Some(body), Some(sighting)) = (p.body.take(), p.sighting.as_mut()) else { continue };
        sighting.body = BodyRef { key: key.clone(), offset: segment.len() as u64, len: body.len() as u64 };
        segment.extend_from_slice(&body);
        segment.push(b'\n');
    }
    if !segment.is_empty() {
        deps.events.put(&key, segment, "application/x-ndjson").await?;
    }
    let mut partitions: BTreeMap<(u64, String), Vec<EventRow>> = BTreeMap::new();
    for (_, p) in prepared.iter_mut() {
        let row = std::mem::take(&mut p.row);
        partitions.entry((p.project_id, day(row.timestamp))).or_default().push(row);
    }
    for ((project_id, date), rows) in partitions {
        let file = errata_rows::encode(&rows).map_err(|e| StoreError::permanent(e.to_string()))?;
        let key = format!("{}{batch_id}.parquet", errata_rows::partition(project_id, &date));
        deps.events.put(&key, file, "application/vnd.apache.parquet").await?;
    }
    Ok(())
}

/// The UTC day of a time in ms, `YYYY-MM-DD`: the Parquet partition.
fn day(ms: i64) -> String {
    let t = Timestamp::from_unix_millis(ms).unwrap_or_else(Timestamp::now).0;
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// What one envelope holds, ready for the batch.
struct Expanded {
    prepared: Vec<Prepared>,
    feedback: Vec<errata_domain::Feedback>,
    outcomes: Outcomes,
}

/// Reads an envelope and turns its items into prepared events, outcomes and stored attachments.
async fn expand(deps: &Deps, queued: &QueuedEnvelope) -> Result<Expanded, ProcessError> {
    let bytes = match &queued.payload {
        QueuedPayload::Inline(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| ProcessError::Invalid("inline payload is not base64".into()))?,
        // Ingest names claim checks under their project; any other key is not this message's.
        QueuedPayload::Stored(key) if !key.starts_with(&format!("envelopes/{}/", queued.project_id)) => {
            return Err(ProcessError::Invalid(format!("stored envelope {key} is not under its project")));
        }
        QueuedPayload::Stored(key) => deps
            .raw
            .get(key)
            .await?
            .ok_or_else(|| ProcessError::Invalid(format!("stored envelope {key} is missing")))?,
    };
    let envelope = Envelope::parse(&bytes).map_err(|e| ProcessError::Invalid(e.to_string()))?;
    let envelope_id = envelope.header.event_id.clone().unwrap_or_default();
    let mut outcomes = Outcomes::default();
    let settings = deps.project_settings(queued.project_id).await?;
    let ctx = Context { queued, envelope: &envelope, config: &settings };

    let mut events: Vec<Value> = Vec::new();
    let mut prepared = Vec::new();
    let mut feedback = Vec::new();
    for item in &envelope.items {
        match item.header.ty.as_str() {
            "event" => match serde_json::from_slice::<Value>(&item.payload) {
                Ok(event) if event.is_object() => events.push(event),
                result => {
                    let e = result.err().map_or_else(|| "not a JSON object".to_owned(), |e| e.to_string());
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
            "transaction" => match serde_json::from_slice::<Value>(&item.payload) {
                Ok(event) if event.is_object() => match prepare_transaction(&ctx, event)? {
                    Some(p) => prepared.push(p),
                    None => outcomes.filtered += 1,
                },
                result => {
                    let e = result.err().map_or_else(|| "not a JSON object".to_owned(), |e| e.to_string());
                    tracing::warn!(error = %e, "transaction item is not a valid event");
                    outcome::record(queued.project_id, Outcome::Invalid, "invalid_transaction", "transaction", 1);
                    outcomes.invalid += 1;
                }
            },
            "attachment" => {}
            "feedback" | "user_report" => {
                match feedback::parse(queued.project_id, &envelope, &item.header.ty, &item.payload, received(queued)) {
                    Ok(f) => feedback.push(f),
                    Err(e) => {
                        tracing::warn!(error = %e, "feedback item is not valid");
                        outcome::record(queued.project_id, Outcome::Invalid, "invalid_feedback", "feedback", 1);
                        outcomes.invalid += 1;
                    }
                }
            }
            "client_report" => client_report(queued.project_id, &item.payload),
            "session" | "sessions" => {
                let contributions = if item.header.ty == "session" {
                    sessions::from_update(&item.payload)
                } else {
                    let key = derived_id(&format!("{:?}", envelope.header.sent_at), item.payload.len())
                        + &derived_id(&String::from_utf8_lossy(&item.payload), 0);
                    sessions::from_aggregates(&item.payload, &key, queued.received_ms).map(|a| {
                        if a.dropped > 0 {
                            let reason = "too_many_or_out_of_range_aggregates";
                            outcome::record(queued.project_id, Outcome::Invalid, reason, "session", a.dropped as u64);
                        }
                        a.contributions
                    })
                };
                match contributions {
                    Ok(list) => {
                        for c in &list {
                            if deps.health.record_sessions(queued.project_id, c).await? {
                                outcomes.sessions += 1;
                            }
                        }
                        outcome::record(queued.project_id, Outcome::Accepted, "", "session", 1);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "session item is not valid");
                        outcome::record(queued.project_id, Outcome::Invalid, "invalid_session", "session", 1);
                        outcomes.invalid += 1;
                    }
                }
            }
            other => {
                // Check-ins, spans, profiles, replays… are not processed yet.
                outcome::record(queued.project_id, Outcome::Ignored, "not_processed_yet", item.header.category(), 1);
                tracing::debug!(item_type = other, "item type not processed yet");
                outcomes.unhandled += 1;
            }
        }
    }
    if !queued.handback {
        // What the server alone writes (storage references among it) is never taken from a client.
        events.iter_mut().for_each(attachments::strip_server_fields);
    }
    // The envelope's attachments belong to its first event and are stored under that event's
    // id, so every reader can check that a reference lies in the event's own folder.
    let owner = events.first().map_or_else(|| envelope_id.clone(), |e| event_id_of(e, &envelope_id));
    let attachments = attachments::store(deps, queued.project_id, &owner, &envelope).await?;
    for (index, mut event) in events.into_iter().enumerate() {
        // The event carries its id itself (the envelope's, for the first; a body with several
        // reports gets one id per report, stable across redeliveries), so it keeps it when it
        // travels alone, to the symbolicator and back.
        if event.get("event_id").is_none_or(Value::is_null) {
            if index == 0 && !envelope_id.is_empty() {
                event["event_id"] = json!(envelope_id);
            } else if index > 0 {
                event["event_id"] = json!(derived_id(&envelope_id, index));
            }
        }
        if index == 0 && !attachments.is_empty() {
            if attachments.iter().any(|a| a.kind == "event.minidump") {
                attachments::mark_minidump_crash(&mut event);
            }
            event["attachments"] = serde_json::to_value(&attachments).unwrap_or_default();
        }
        if let Some(queue) = &deps.symbolication {
            if errata_domain::symbols::needs_symbols(&event) {
                if symbolication::hand_over(queue.as_ref(), queued, &event).await? {
                    continue;
                }
                let reason = "the event is too large to hand to the symbolicator; stored as sent";
                errata_domain::symbols::give_up(&mut event, "symbolication_skipped", reason);
            }
        }
        match prepare_event(&ctx, event)? {
            Some(p) => prepared.push(p),
            None => outcomes.filtered += 1,
        }
    }
    Ok(Expanded { prepared, feedback, outcomes })
}

/// What preparing an event needs to know of its envelope and project.
struct Context<'a> {
    queued: &'a QueuedEnvelope,
    envelope: &'a Envelope,
    config: &'a ProjectConfig,
}

/// Normalizes an event, applies the project's inbound filters and scrubs it. Returns the
/// typed view grouping reads and the JSON to store, or `None` when a filter dropped it
/// (counted as an outcome). The JSON is the event: everything the SDK sent is kept in it.
fn clean(ctx: &Context, mut stored: Value, category: &str) -> Result<Option<(Event, Value)>, ProcessError> {
    normalize::normalize(&mut stored, ctx.envelope, ctx.queued);
    normalize_event(&mut stored);
    // A project's glob filters and fingerprint rules get a bounded time per event: what they
    // cannot decide in it is skipped and said on the event, and the batch goes on; a project
    // whose rules keep running out of time has them skipped outright for a while.
    let deadline = || Some(std::time::Instant::now() + RULES_BUDGET);
    let filters_tripped = tripped(&ctx.config.filter_overruns);
    let filters =
        if filters_tripped { Err(OverBudget) } else { ctx.config.settings.filters.check_within(&stored, deadline()) };
    match filters {
        Ok(Some(reason)) => {
            filtered(ctx.queued.project_id, reason, category);
            return Ok(None);
        }
        Ok(None) => {}
        Err(_) => {
            ctx.config.filter_overruns.fetch_add(1, Ordering::Relaxed);
            over_budget(&mut stored, "inbound_filters_skipped", "the project's inbound filters", filters_tripped);
        }
    }
    // Scrub before anything is grouped, summarized or stored.
    scrub_event(&mut stored, &ctx.config.settings.scrubbing);
    let rules_tripped = tripped(&ctx.config.rule_overruns);
    let rules = if rules_tripped { Err(OverBudget) } else { ctx.config.rules.apply_within(&mut stored, deadline()) };
    if rules.is_err() {
        ctx.config.rule_overruns.fetch_add(1, Ordering::Relaxed);
        over_budget(&mut stored, "fingerprinting_skipped", "the project's fingerprint rules", rules_tripped);
    }
    // The typed view reads only what grouping and titles need; the rest is skipped in place.
    let view = Event::deserialize(&stored).map_err(|e| ProcessError::Invalid(e.to_string()))?;
    Ok(Some((view, stored)))
}

/// How long one event's inbound filters, and then its fingerprint rules, may take.
pub const RULES_BUDGET: Duration = Duration::from_millis(25);

/// Events of a project whose rules ran out of time before its rules are skipped outright (until
/// its config is read again, within a minute).
const MAX_OVERRUNS: u32 = 3;

fn tripped(overruns: &AtomicU32) -> bool {
    overruns.load(Ordering::Relaxed) >= MAX_OVERRUNS
}

/// Records on the event that a project's rules were skipped for taking too long.
fn over_budget(event: &mut Value, kind: &str, what: &str, tripped: bool) {
    let reason = if tripped {
        format!("{what} were skipped: they ran out of time on this project's recent events")
    } else {
        format!("{what} took longer than {} ms for this event and were skipped", RULES_BUDGET.as_millis())
    };
    tracing::warn!(kind, "rules over budget");
    errata_domain::symbols::add_error(event, kind, &reason);
}

fn filtered(project_id: u64, reason: FilterReason, category: &str) {
    tracing::debug!(project_id, reason = reason.as_str(), "filtered");
    outcome::record(project_id, Outcome::Filtered, reason.as_str(), category, 1);
}

fn received(queued: &QueuedEnvelope) -> Timestamp {
    Timestamp::from_unix_millis(queued.received_ms).unwrap_or_else(Timestamp::now)
}

/// An error event: grouped, summarized, with its body, row and sighting.
fn prepare_event(ctx: &Context, event: Value) -> Result<Option<Prepared>, ProcessError> {
    let Some((event, mut stored)) = clean(ctx, event, "error")? else { return Ok(None) };
    let queued = ctx.queued;
    let grouping = Grouping::of(&event);
    let summary = EventSummary::of(&event);
    let issue_id = IssueId::for_group(queued.project_id, &grouping.hash);
    stored["grouping"] = json!({ "hash": grouping.hash, "variant": grouping.variant, "components": grouping.components, "version": grouping.version });
    stored["title"] = json!(summary.title);
    stored["culprit"] = json!(summary.culprit);
    let row = rows::event_row(&stored, &summary, Some(issue_id), received(queued));
    let sighting = Sighting {
        project_id: queued.project_id,
        issue_id,
        event_id: event.event_id.clone().unwrap_or_default(),
        timestamp: event.timestamp.unwrap_or_else(|| received(queued)),
        platform: event.platform.clone().unwrap_or_else(|| "other".into()),
        release: event.release.clone(),
        environment: event.environment.clone(),
        user_hash: row.user_hash.clone(),
        grouping,
        summary,
        body: BodyRef::default(),
        retention_days: ctx.config.settings.retention_days,
        has_attachments: stored.get("attachments").and_then(Value::as_array).is_some_and(|a| !a.is_empty()),
    };
    let body = serde_json::to_vec(&stored).map_err(|e| ProcessError::Invalid(e.to_string()))?;
    let alert = Some(AlertFacts::of(&stored, &row.tags));
    Ok(Some(Prepared { project_id: queued.project_id, body: Some(body), sighting: Some(sighting), row, alert }))
}

/// A transaction: a row in the event store, no issue.
fn prepare_transaction(ctx: &Context, event: Value) -> Result<Option<Prepared>, ProcessError> {
    let Some((event, mut stored)) = clean(ctx, event, "transaction")? else { return Ok(None) };
    let title = event.transaction.clone().unwrap_or_else(|| "<unlabeled transaction>".into());
    let summary = EventSummary {
        title: title.clone(),
        culprit: title,
        level: "info".into(),
        ty: "transaction".into(),
        metadata: Value::Null,
    };
    stored["type"] = json!("transaction");
    let row = rows::event_row(&stored, &summary, None, received(ctx.queued));
    Ok(Some(Prepared { project_id: ctx.queued.project_id, body: None, sighting: None, row, alert: None }))
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

/// The id an event is stored under: its own when it is a valid event id, else the envelope's
/// (the rule `normalize` applies).
pub(crate) fn event_id_of(event: &Value, envelope_id: &str) -> String {
    event
        .get("event_id")
        .and_then(Value::as_str)
        .and_then(errata_protocol::envelope::normalize_event_id)
        .unwrap_or_else(|| envelope_id.to_owned())
}

/// A stable event id for the `index`-th event of an envelope.
pub(crate) fn derived_id(envelope_id: &str, index: usize) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(format!("{envelope_id}/{index}").as_bytes()))
}

#[cfg(test)]
mod tests;
