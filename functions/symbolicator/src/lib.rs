//! The symbolicator Lambda: the processor hands it error events whose native frames need
//! symbols (as an envelope on the symbolication queue); it symbolicates them with the
//! project's uploaded debug files (SymCaches built once and kept beside them) and hands each
//! event back to the envelope queue, frames marked, so the processor stores it. A frame whose
//! debug file is missing is stored as sent and marked `missing`; an event is never held back.

pub mod native;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use base64::Engine;
use errata_domain::queue::{QueuedEnvelope, QueuedPayload};
use errata_ports::{BlobStore, Directory, EnvelopeQueue, StoreError};
use errata_protocol::Envelope;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub struct Deps {
    pub directory: Arc<dyn Directory>,
    /// The debug-files bucket: uploaded files, and SymCaches under `symcaches/`.
    pub files: Arc<dyn BlobStore>,
    /// Where symbolicated events go back to the processor.
    pub envelopes: Arc<dyn EnvelopeQueue>,
}

#[derive(Debug)]
pub enum Error {
    /// A store failed: the message is retried.
    Store(StoreError),
    /// The message is not what the processor sends: retrying will not help.
    Invalid(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

pub async fn handle_batch(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let result = match serde_json::from_str::<QueuedEnvelope>(record.body.as_deref().unwrap_or_default()) {
            Ok(queued) => handle(deps, &queued).await,
            Err(e) => Err(Error::Invalid(format!("not a queued envelope: {e}"))),
        };
        if let Err(e) = result {
            tracing::error!(message_id = %id, error = ?e, "symbolication failed");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Symbolicates the events of one envelope and sends it back to the envelope queue.
pub async fn handle(deps: &Deps, queued: &QueuedEnvelope) -> Result<(), Error> {
    let QueuedPayload::Inline(b64) = &queued.payload else {
        return Err(Error::Invalid("the processor sends events inline".into()));
    };
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| Error::Invalid(e.to_string()))?;
    let envelope = Envelope::parse(&bytes).map_err(|e| Error::Invalid(e.to_string()))?;
    let mut events: Vec<Value> = Vec::new();
    for item in envelope.items.iter().filter(|i| i.header.ty == "event") {
        events.push(serde_json::from_slice(&item.payload).map_err(|e| Error::Invalid(e.to_string()))?);
    }
    let files = deps.directory.debug_files(queued.project_id).await?;
    for event in &mut events {
        let mut caches: HashMap<String, Vec<u8>> = HashMap::new();
        for image in native::images(event) {
            if caches.contains_key(&image.debug_id) {
                continue;
            }
            let Some(file) = files.iter().find(|f| f.debug_id == image.debug_id) else { continue };
            let cache_key = format!("symcaches/{}/{}/{}", queued.project_id, file.sha1, image.debug_id);
            let cache = match deps.files.get(&cache_key).await? {
                Some(cache) => cache,
                None => {
                    let Some(data) = deps.files.get(&file.key).await? else { continue };
                    match native::build_symcache(&data, &image.debug_id) {
                        Ok(cache) => {
                            deps.files.put(&cache_key, cache.clone(), "application/octet-stream").await?;
                            cache
                        }
                        Err(e) => {
                            tracing::warn!(debug_id = %image.debug_id, error = %e, "no SymCache");
                            continue;
                        }
                    }
                }
            };
            caches.insert(image.debug_id.clone(), cache);
        }
        native::symbolicate(event, &mut |id| caches.get(id).cloned());
    }
    let back = Envelope::of_events(&events).to_bytes();
    let queued = QueuedEnvelope {
        project_id: queued.project_id,
        received_ms: queued.received_ms,
        client_ip: queued.client_ip.clone(),
        payload: QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(back)),
    };
    deps.envelopes.send(&queued).await?;
    Ok(())
}
