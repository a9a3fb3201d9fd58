//! SQS: the envelope queue, and the notifier's queue as an outbox.

use crate::classify;
use async_trait::async_trait;
use errata_domain::QueuedEnvelope;
use errata_ports::{EnvelopeQueue, StoreError, StoreResult};

pub struct SqsEnvelopeQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsEnvelopeQueue {
    pub fn new(config: &aws_config::SdkConfig, queue_url: String) -> Self {
        SqsEnvelopeQueue { client: aws_sdk_sqs::Client::new(config), queue_url }
    }
}

/// Sends `message` as JSON to the queue.
async fn send_json<T: serde::Serialize>(client: &aws_sdk_sqs::Client, queue_url: &str, message: &T) -> StoreResult<()> {
    let body = serde_json::to_string(message).map_err(|e| StoreError::permanent(e.to_string()))?;
    client
        .send_message()
        .queue_url(queue_url)
        .message_body(body)
        .send()
        .await
        .map_err(|e| classify("sqs send_message", &e))?;
    Ok(())
}

#[async_trait]
impl EnvelopeQueue for SqsEnvelopeQueue {
    async fn send(&self, envelope: &QueuedEnvelope) -> StoreResult<()> {
        send_json(&self.client, &self.queue_url, envelope).await
    }
}

/// The notifier's queue, as the API and processor's outbox.
pub struct SqsOutbox {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsOutbox {
    pub fn new(config: &aws_config::SdkConfig, queue_url: String) -> Self {
        SqsOutbox { client: aws_sdk_sqs::Client::new(config), queue_url }
    }
}

#[async_trait]
impl errata_ports::Outbox for SqsOutbox {
    async fn send(&self, notice: &errata_domain::Notice) -> StoreResult<()> {
        send_json(&self.client, &self.queue_url, notice).await
    }
}
