//! Plumbing every Lambda binary shares: logging, configuration from the environment, and the
//! API Gateway (HTTP API, payload 2.0) request/response helpers.

pub mod cache;
pub mod egress;
pub mod http;
pub mod outcome;
pub mod purge;

use thiserror::Error;

/// Logs as JSON lines (CloudWatch-friendly); `RUST_LOG` sets the filter, default `info`.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .try_init();
}

#[derive(Debug, Error)]
#[error("environment variable {0} is not set; the function's configuration is incomplete")]
pub struct MissingEnv(pub &'static str);

/// A required environment variable. Functions read their configuration at cold start, so a
/// misconfigured deployment fails loudly on the first invocation instead of the thousandth.
pub fn env(name: &'static str) -> Result<String, MissingEnv> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or(MissingEnv(name))
}

/// The answer of a queue consumer whose capability is not built yet: every message is
/// reported failed, so SQS redelivers it and finally parks it in the DLQ, where it waits to be
/// redriven once the capability exists. Nothing is dropped and nothing is faked.
pub fn not_built_yet(
    function: &str,
    what: &str,
    event: aws_lambda_events::sqs::SqsEvent,
) -> aws_lambda_events::sqs::SqsBatchResponse {
    let mut response = aws_lambda_events::sqs::SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
        tracing::warn!(function, message_id = %id, "{what} is not implemented yet; the message stays queued and goes to the DLQ");
        let mut failure = aws_lambda_events::sqs::BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn unbuilt_consumers_fail_every_message() {
        let mut event = aws_lambda_events::sqs::SqsEvent::default();
        for id in ["a", "b"] {
            let mut m = aws_lambda_events::sqs::SqsMessage::default();
            m.message_id = Some(id.into());
            event.records.push(m);
        }
        let resp = super::not_built_yet("x", "y", event);
        let ids: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
    }
}
