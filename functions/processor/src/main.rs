//! The processor Lambda: wiring only.

use errata_aws::{
    load_config, DynamoAlertState, DynamoDirectory, DynamoIssueStore, S3Blobs, SqsDeadLetters, SqsEnvelopeQueue,
    SqsOutbox,
};
use errata_ports::faults::{FaultPlan, FaultyBlobs, FaultyIssues};
use errata_ports::{BlobStore, IssueStore};
use errata_processor::alerting::Alerting;
use errata_processor::{handle, Deps};
use errata_runtime::env;
use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

/// Processing is allocation-heavy (every JSON key and value); mimalloc makes it markedly faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    errata_runtime::init_tracing();
    let directory_table = env("DIRECTORY_TABLE")?;
    let issues_table = env("ISSUES_TABLE")?;
    let events_table = env("EVENTS_TABLE")?;
    let raw_bucket = env("RAW_BUCKET")?;
    let events_bucket = env("EVENTS_BUCKET")?;
    let retention_days = std::env::var("RETENTION_DAYS").ok().and_then(|d| d.parse().ok()).unwrap_or(90);
    let quotas_table = env("QUOTAS_TABLE")?;
    let notify_queue = env("NOTIFY_QUEUE_URL")?;
    let symbolication_queue = env("SYMBOLICATION_QUEUE_URL")?;
    let web_url = std::env::var("WEB_URL").unwrap_or_default();
    let aws = load_config().await;
    // A batch that dies is recounted by another once its lease (this function's timeout) is
    // well past; see errata_aws::counting.
    let lease = std::env::var("WRITER_LEASE_SECONDS").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(900);
    let store = Arc::new(
        DynamoIssueStore::new(&aws, issues_table, events_table, retention_days)
            .with_writer_lease(std::time::Duration::from_secs(lease)),
    );
    let directory = Arc::new(DynamoDirectory::new(&aws, directory_table));
    let mut issues: Arc<dyn IssueStore> = store.clone();
    let mut raw: Arc<dyn BlobStore> = Arc::new(S3Blobs::new(&aws, raw_bucket));
    let mut events: Arc<dyn BlobStore> = Arc::new(S3Blobs::new(&aws, events_bucket));
    // Resilience tests (only they set ERRATA_FAULTS) make S3 and DynamoDB fail for a while.
    if let Some(plan) = FaultPlan::from_env().map_err(|e| format!("ERRATA_FAULTS: {e}"))? {
        tracing::warn!(?plan, "injecting faults");
        issues = Arc::new(FaultyIssues { inner: issues, plan: plan.clone() });
        raw = Arc::new(FaultyBlobs { inner: raw, plan: plan.clone() });
        events = Arc::new(FaultyBlobs { inner: events, plan });
    }
    let deps = Deps::new(issues, store, raw, events, directory.clone())
        .with_symbolication(Arc::new(SqsEnvelopeQueue::new(&aws, symbolication_queue)))
        .with_dead_letters(Arc::new(SqsDeadLetters::new(&aws, env("ENVELOPE_DLQ_URL")?)))
        .with_alerting(Alerting {
            rules: directory,
            state: Arc::new(DynamoAlertState::new(&aws, quotas_table)),
            outbox: Arc::new(SqsOutbox::new(&aws, notify_queue)),
            web_url,
        });
    let deps = &deps;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<serde_json::Value>| async move {
        errata_aws::metered(1, handle(deps, ev.payload)).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
