//! The notifier Lambda. **Not implemented yet**: Alert delivery (e-mail, webhooks) arrives with the alerts issue.
//! Until then it consumes its queue honestly: every message is reported failed, so SQS keeps
//! it and finally parks it in the dead-letter queue. Nothing sends to this queue yet.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

pub fn handle_batch(event: SqsEvent) -> SqsBatchResponse {
    errata_runtime::not_built_yet("errata-notifier", "Alert delivery (e-mail, webhooks)", event)
}
