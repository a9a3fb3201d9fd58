//! The symbolicator Lambda. **Not implemented yet**: Symbolication (native, minidump, source maps) arrives with the symbolication issue.
//! Until then it consumes its queue honestly: every message is reported failed, so SQS keeps
//! it and finally parks it in the dead-letter queue. Nothing sends to this queue yet.

pub mod native;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

pub fn handle_batch(event: SqsEvent) -> SqsBatchResponse {
    errata_runtime::not_built_yet("errata-symbolicator", "Symbolication (native, minidump, source maps)", event)
}
