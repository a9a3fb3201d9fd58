//! The envelope queue on SQS.

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

#[async_trait]
impl EnvelopeQueue for SqsEnvelopeQueue {
    async fn send(&self, envelope: &QueuedEnvelope) -> StoreResult<()> {
        let body = serde_json::to_string(envelope).map_err(|e| StoreError::permanent(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| classify("sqs send_message", &e))?;
        Ok(())
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
        let body = serde_json::to_string(notice).map_err(|e| StoreError::permanent(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| classify("sqs send_message", &e))?;
        Ok(())
    }
}
