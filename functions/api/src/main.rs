//! The api Lambda: wiring only.

use errata_api::{handle, Deps};
use errata_aws::{
    load_config, AthenaQueries, DynamoDirectory, DynamoIssueStore, DynamoRateLimiter, S3Blobs, SqsOutbox,
};
use errata_runtime::env;
use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    errata_runtime::init_tracing();
    let directory_table = env("DIRECTORY_TABLE")?;
    let issues_table = env("ISSUES_TABLE")?;
    let events_table = env("EVENTS_TABLE")?;
    let events_bucket = env("EVENTS_BUCKET")?;
    let debug_files_bucket = env("DEBUG_FILES_BUCKET")?;
    let notify_queue = env("NOTIFY_QUEUE_URL")?;
    let athena_database = env("ATHENA_DATABASE")?;
    let athena_workgroup = env("ATHENA_WORKGROUP")?;
    let quotas_table = env("QUOTAS_TABLE")?;
    // The deploy's one-time secret for first-run setup; without it setup is refused.
    let setup_secret = std::env::var("SETUP_SECRET").unwrap_or_default();
    let public_url = env("PUBLIC_URL")?;
    let dsn_url = std::env::var("DSN_URL").unwrap_or_else(|_| public_url.clone());
    let web_url = std::env::var("WEB_URL").unwrap_or_default();
    let egress = errata_runtime::egress::policy_from_env()?;
    let limit = |name| errata_domain::RateLimit::parse_setting(&std::env::var(name).unwrap_or_default());
    let default_key_limit = limit("DEFAULT_KEY_RATE_LIMIT")?;
    let default_project_quota = limit("DEFAULT_PROJECT_QUOTA")?;
    let aws = load_config().await;
    let store = Arc::new(DynamoIssueStore::new(&aws, issues_table, events_table, 90));
    let directory = Arc::new(DynamoDirectory::new(&aws, directory_table));
    let deps = Deps {
        directory: directory.clone(),
        accounts: directory.clone(),
        audit: directory.clone(),
        throttle: Arc::new(DynamoRateLimiter::new(&aws, quotas_table)),
        setup_secret,
        rules: directory,
        notifications: store.clone(),
        issues: store.clone(),
        health: store,
        events: Arc::new(S3Blobs::new(&aws, events_bucket)),
        debug_files: Arc::new(S3Blobs::new(&aws, debug_files_bucket)),
        queries: Arc::new(AthenaQueries::new(&aws, athena_database, athena_workgroup)),
        outbox: Arc::new(SqsOutbox::new(&aws, notify_queue)),
        web_url,
        public_url,
        dsn_url,
        egress,
        default_key_limit,
        default_project_quota,
        resolver: Arc::new(errata_runtime::egress::SystemResolver),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<errata_runtime::http::Request>| async move {
        Ok::<_, std::convert::Infallible>(errata_aws::metered(100, handle(deps, ev.payload)).await)
    }))
    .await
}
