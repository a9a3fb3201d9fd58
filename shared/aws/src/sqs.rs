//! SQS: the envelope queue, the notifier's queue as an outbox, and dead-letter queues.

use crate::classify;
use async_trait::async_trait;
use errata_domain::QueuedEnvelope;
use errata_ports::{EnvelopeQueue, StoreError, StoreResult};

/// A client whose requests are metered.
fn client(config: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(aws_sdk_sqs::config::Builder::from(config).interceptor(crate::meter::Meter).build())
}

pub struct SqsEnvelopeQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsEnvelopeQueue {
    pub fn new(config: &aws_config::SdkConfig, queue_url: String) -> Self {
        SqsEnvelopeQueue { client: crate::sqs::client(config), queue_url }
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
        SqsOutbox { client: crate::sqs::client(config), queue_url }
    }
}

#[async_trait]
impl errata_ports::Outbox for SqsOutbox {
    async fn send(&self, notice: &errata_domain::Notice) -> StoreResult<()> {
        send_json(&self.client, &self.queue_url, notice).await
    }
}

/// A dead-letter queue that takes poison messages directly, each with its reason as the
/// `errata_reason` message attribute (SQS's own moves after `maxReceiveCount` carry none).
pub struct SqsDeadLetters {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsDeadLetters {
    pub fn new(config: &aws_config::SdkConfig, queue_url: String) -> Self {
        SqsDeadLetters { client: crate::sqs::client(config), queue_url }
    }
}

#[async_trait]
impl errata_ports::DeadLetters for SqsDeadLetters {
    async fn park(&self, body: &str, reason: &str) -> StoreResult<()> {
        let reason: String = reason.chars().take(1000).collect();
        let attribute = aws_sdk_sqs::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
            .map_err(|e| StoreError::permanent(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            // SQS takes at most 256 KiB; a body that large was not ours anyway.
            .message_body(if body.is_empty() { "(empty)" } else { body })
            .message_attributes("errata_reason", attribute)
            .send()
            .await
            .map_err(|e| classify("sqs send_message (dead letter)", &e))?;
        Ok(())
    }
}
