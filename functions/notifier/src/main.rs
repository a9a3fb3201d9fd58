//! The notifier Lambda: wiring only.

use errata_aws::{load_config, DynamoIssueStore, DynamoRateLimiter, SesMailer};
use errata_notifier::{handle_batch, Deps};
use errata_runtime::egress::SystemResolver;
use errata_runtime::env;
use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    errata_runtime::init_tracing();
    let sender = env("SENDER_EMAIL")?;
    let issues_table = env("ISSUES_TABLE")?;
    let events_table = env("EVENTS_TABLE")?;
    let quotas_table = env("QUOTAS_TABLE")?;
    let retention_days = std::env::var("RETENTION_DAYS").ok().and_then(|d| d.parse().ok()).unwrap_or(90);
    let policy = errata_runtime::egress::policy_from_env()?;
    let aws = load_config().await;
    let deps = Deps {
        mailer: Arc::new(SesMailer::new(&aws, sender)),
        limiter: Arc::new(DynamoRateLimiter::new(&aws, quotas_table)),
        webhooks: Arc::new(errata_notifier::webhook::HyperWebhooks::new(policy, Arc::new(SystemResolver))?),
        log: Arc::new(DynamoIssueStore::new(&aws, issues_table, events_table, retention_days)),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
        Ok::<_, std::convert::Infallible>(errata_aws::metered(1, handle_batch(deps, ev.payload)).await)
    }))
    .await
}
