//! The ingest Lambda: wiring only.

use errata_aws::{load_config, DynamoDirectory, DynamoRateLimiter, S3Blobs, SqsEnvelopeQueue};
use errata_ingest::{handle, Deps, KeyCache};
use errata_runtime::env;
use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    errata_runtime::init_tracing();
    let directory_table = env("DIRECTORY_TABLE")?;
    let queue_url = env("ENVELOPE_QUEUE_URL")?;
    let large_queue_url = env("LARGE_ENVELOPE_QUEUE_URL")?;
    let raw_bucket = env("RAW_BUCKET")?;
    let quotas_table = env("QUOTAS_TABLE")?;
    let aws = load_config().await;
    let deps = Deps {
        directory: Arc::new(DynamoDirectory::new(&aws, directory_table)),
        queue: Arc::new(SqsEnvelopeQueue::new(&aws, queue_url)),
        large_queue: Arc::new(SqsEnvelopeQueue::new(&aws, large_queue_url)),
        raw: Arc::new(S3Blobs::new(&aws, raw_bucket)),
        limiter: Arc::new(DynamoRateLimiter::new(&aws, quotas_table)),
        keys: KeyCache::default(),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<errata_runtime::http::Request>| async move {
        Ok::<_, std::convert::Infallible>(errata_aws::metered(100, handle(deps, ev.payload)).await)
    }))
    .await
}
