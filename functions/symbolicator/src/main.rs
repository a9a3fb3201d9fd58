//! The symbolicator Lambda: wiring only.

use errata_aws::{load_config, DynamoDirectory, S3Blobs, SqsEnvelopeQueue};
use errata_runtime::env;
use errata_symbolicator::{handle_batch, Deps};
use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    errata_runtime::init_tracing();
    let directory_table = env("DIRECTORY_TABLE")?;
    let debug_files_bucket = env("DEBUG_FILES_BUCKET")?;
    let envelope_queue = env("ENVELOPE_QUEUE_URL")?;
    let events_bucket = env("EVENTS_BUCKET")?;
    let aws = load_config().await;
    let deps = Deps {
        directory: Arc::new(DynamoDirectory::new(&aws, directory_table)),
        files: Arc::new(S3Blobs::new(&aws, debug_files_bucket)),
        events: Arc::new(S3Blobs::new(&aws, events_bucket)),
        envelopes: Arc::new(SqsEnvelopeQueue::new(&aws, envelope_queue)),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
        Ok::<_, std::convert::Infallible>(errata_aws::metered(1, handle_batch(deps, ev.payload)).await)
    }))
    .await
}
