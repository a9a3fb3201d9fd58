//! Deleting an issue with its events. The issue's items go at once; a marker in the issues
//! table (`pk = PURGE`, `sk = project#issue`, with the time of deletion) stands for its events
//! until they are purged. Purging an event removes `issue_id` from its index entry: the entry
//! leaves the `by-issue` index (so the issue's lists) and lookups by id answer nothing, yet it
//! stays, so a redelivered envelope still finds the event recorded and does not count it again.
//! Only events at or before the deletion are purged: a new event of the same group that came
//! after starts the issue anew and keeps its own events.

use crate::classify;
use crate::dynamodb::{get_n, get_s, n, s};
use crate::issues::DynamoIssueStore;
use errata_domain::{Issue, IssueId, Timestamp};
use errata_ports::{Purge, StoreResult};
use futures_util::stream::{self, StreamExt, TryStreamExt};

/// Index entries tombstoned at once.
const CONCURRENCY: usize = 16;

fn marker_sk(project_id: u64, issue_id: IssueId) -> String {
    format!("{project_id}#{}", issue_id.0)
}

impl DynamoIssueStore {
    /// Writes the purge marker of a deleted issue.
    pub(crate) async fn mark_deleted(&self, issue: &Issue) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.issues_table)
            .item("pk", s("PURGE"))
            .item("sk", s(marker_sk(issue.project_id, issue.id)))
            // Not `issue_id`: the table's `by-id` index would take the marker for the issue.
            .item("purge_project", n(issue.project_id))
            .item("purge_issue", n(issue.id.0))
            .item("deleted_at", n(Timestamp::now().unix_millis()))
            .send()
            .await
            .map_err(|e| classify("dynamodb put purge marker", &e))?;
        Ok(())
    }

    pub(crate) async fn deleted_at(&self, project_id: u64, issue_id: IssueId) -> StoreResult<Option<i64>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.issues_table)
            .key("pk", s("PURGE"))
            .key("sk", s(marker_sk(project_id, issue_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("dynamodb get purge marker", &e))?;
        Ok(out.item.as_ref().and_then(|i| get_n(i, "deleted_at")))
    }

    pub(crate) async fn purge(&self, project_id: u64, issue_id: IssueId, limit: usize) -> StoreResult<Purge> {
        let Some(at) = self.deleted_at(project_id, issue_id).await? else {
            return Ok(Purge { done: true, ..Purge::default() });
        };
        let out = self
            .client
            .query()
            .table_name(&self.events_table)
            .index_name("by-issue")
            .key_condition_expression("issue_id = :id AND ts <= :at")
            .expression_attribute_values(":id", n(issue_id.0))
            .expression_attribute_values(":at", n(at))
            .limit(i32::try_from(limit.clamp(1, 1000)).unwrap_or(1000))
            .send()
            .await
            .map_err(|e| classify("dynamodb query purge", &e))?;
        // The index holds every project's events of an issue id; only this project's are its.
        let found: Vec<(String, String, bool)> = out
            .items()
            .iter()
            .filter(|i| get_n::<u64>(i, "project_id") == Some(project_id))
            .filter_map(|i| {
                let attachments = i.get("attachments").and_then(|a| a.as_bool().ok()).copied().unwrap_or(false);
                Some((get_s(i, "pk")?, get_s(i, "event_id")?, attachments))
            })
            .collect();
        let purged: Vec<Option<(String, bool)>> = stream::iter(found)
            .map(|(pk, event_id, attachments)| async move {
                let result = self
                    .client
                    .update_item()
                    .table_name(&self.events_table)
                    .key("pk", s(pk))
                    .update_expression("REMOVE issue_id SET purged_at = :at")
                    .condition_expression("issue_id = :id")
                    .expression_attribute_values(":id", n(issue_id.0))
                    .expression_attribute_values(":at", n(at))
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(Some((event_id, attachments))),
                    // Purged already (the index lags its table a little).
                    Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                        Ok(None)
                    }
                    Err(e) => Err(classify("dynamodb purge event", &e)),
                }
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let purged: Vec<(String, bool)> = purged.into_iter().flatten().collect();
        let with_attachments = purged.iter().filter(|(_, a)| *a).map(|(id, _)| id.clone()).collect();
        let events: Vec<String> = purged.into_iter().map(|(id, _)| id).collect();
        let done = events.is_empty() && out.last_evaluated_key().is_none_or(|k| k.is_empty());
        if done {
            self.client
                .delete_item()
                .table_name(&self.issues_table)
                .key("pk", s("PURGE"))
                .key("sk", s(marker_sk(project_id, issue_id)))
                .send()
                .await
                .map_err(|e| classify("dynamodb delete purge marker", &e))?;
        }
        Ok(Purge { events, with_attachments, done })
    }

    pub(crate) async fn purges(&self) -> StoreResult<Vec<(u64, IssueId)>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.issues_table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s("PURGE"))
            .into_paginator()
            .items()
            .send();
        let mut found = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| classify("dynamodb query purge markers", &e))?;
            if let (Some(p), Some(i)) = (get_n(&item, "purge_project"), get_n(&item, "purge_issue")) {
                found.push((p, IssueId(i)));
            }
        }
        Ok(found)
    }
}
