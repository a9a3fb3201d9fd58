//! Purging a deleted issue: its events leave the index step by step (see the issue store's
//! `purge_events`), and each purged event's attachments are deleted from the events bucket.
//! The API runs it when an issue is deleted, for as long as a request may take; the hourly
//! maintenance run finishes what a very large issue leaves.

use errata_domain::storage::attachment_folder;
use errata_domain::IssueId;
use errata_ports::{BlobStore, IssueStore, StoreResult};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::time::Instant;

/// Events purged per step.
const STEP: usize = 200;
/// Attachment folders deleted at once.
const CONCURRENCY: usize = 16;

/// Purges the deleted issue's events and their attachments until none is left (`true`) or
/// `deadline` passes (`false`: the rest waits for the next run).
pub async fn purge_issue(
    issues: &dyn IssueStore,
    events: &dyn BlobStore,
    project_id: u64,
    issue_id: IssueId,
    deadline: Instant,
) -> StoreResult<bool> {
    loop {
        let step = issues.purge_events(project_id, issue_id, STEP).await?;
        stream::iter(&step.with_attachments)
            .map(|event_id| async move {
                let folder = events.list(&attachment_folder(project_id, event_id)).await?;
                let keys: Vec<String> = folder.objects.into_iter().map(|(key, _)| key).collect();
                if keys.is_empty() {
                    Ok(())
                } else {
                    events.delete(&keys).await
                }
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        if step.done {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
    }
}
