//! Queries over the Parquet event store with Athena: start → poll → results, with the
//! execution of each SQL text remembered so that a caller who gave up waiting picks up the
//! same execution next time, and finished results cached for `RESULT_TTL`.

use crate::classify;
use async_trait::async_trait;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState};
use aws_sdk_athena::Client;
use errata_ports::{EventQueries, Rows, StoreError, StoreResult};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long finished results are served from memory.
const RESULT_TTL: Duration = Duration::from_secs(60);
/// A running execution older than this is abandoned (stopped) and started again.
const RUNNING_TTL: Duration = Duration::from_secs(300);
/// The most queries remembered.
const MAX_ENTRIES: usize = 512;
/// The most rows read from one result.
pub const MAX_ROWS: usize = 10_000;

#[derive(Clone)]
enum Entry {
    Running { id: String, since: Instant },
    Done { rows: Rows, at: Instant },
}

pub struct AthenaQueries {
    client: Client,
    database: String,
    workgroup: String,
    entries: Mutex<HashMap<String, Entry>>,
}

impl AthenaQueries {
    pub fn new(config: &aws_config::SdkConfig, database: String, workgroup: String) -> Self {
        AthenaQueries {
            client: Client::from_conf(
                aws_sdk_athena::config::Builder::from(config).interceptor(crate::meter::Meter).build(),
            ),
            database,
            workgroup,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers an entry; returns the executions it had to forget while still running
    /// (the memory is bounded), for the caller to stop.
    fn remember(&self, sql: &str, entry: Entry) -> Vec<String> {
        let mut entries = self.entries();
        let mut abandoned = Vec::new();
        if entries.len() >= MAX_ENTRIES {
            // Forget what is stale first, then anything, to stay bounded.
            entries.retain(|_, e| match e {
                Entry::Running { since, id } => {
                    let keep = since.elapsed() < RUNNING_TTL;
                    if !keep {
                        abandoned.push(id.clone());
                    }
                    keep
                }
                Entry::Done { at, .. } => at.elapsed() < RESULT_TTL,
            });
            if entries.len() >= MAX_ENTRIES {
                abandoned.extend(entries.drain().filter_map(|(_, e)| match e {
                    Entry::Running { id, .. } => Some(id),
                    Entry::Done { .. } => None,
                }));
            }
        }
        if let Some(Entry::Running { id, .. }) = entries.insert(sql.to_owned(), entry) {
            abandoned.push(id);
        }
        abandoned
    }

    /// Stops executions nobody waits for any more, so they stop scanning (and billing). A
    /// failure to stop is logged: the workgroup's bytes-scanned cutoff still bounds them.
    async fn stop(&self, ids: Vec<String>) {
        for id in ids {
            if let Err(e) = self.client.stop_query_execution().query_execution_id(&id).send().await {
                tracing::warn!(query_execution_id = %id, error = %classify("athena stop_query_execution", &e), "abandoned query not stopped");
            }
        }
    }

    async fn start(&self, sql: &str) -> StoreResult<String> {
        let out = self
            .client
            .start_query_execution()
            .query_string(sql)
            .query_execution_context(QueryExecutionContext::builder().database(&self.database).build())
            .work_group(&self.workgroup)
            .send()
            .await
            .map_err(|e| classify("athena start_query_execution", &e))?;
        out.query_execution_id.ok_or_else(|| StoreError::retryable("athena returned no execution id"))
    }

    /// The execution's state: `Some(true)` succeeded, `Some(false)` still running.
    async fn state(&self, id: &str) -> StoreResult<bool> {
        let out = self
            .client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| classify("athena get_query_execution", &e))?;
        let status = out.query_execution.and_then(|q| q.status);
        match status.as_ref().and_then(|s| s.state.clone()) {
            Some(QueryExecutionState::Succeeded) => Ok(true),
            Some(QueryExecutionState::Failed | QueryExecutionState::Cancelled) => {
                let reason = status.and_then(|s| s.state_change_reason).unwrap_or_default();
                Err(StoreError::permanent(format!("athena query failed: {reason}")))
            }
            _ => Ok(false),
        }
    }

    async fn results(&self, id: &str) -> StoreResult<Rows> {
        let mut rows = Vec::new();
        let mut token: Option<String> = None;
        let mut header_skipped = false;
        loop {
            let out = self
                .client
                .get_query_results()
                .query_execution_id(id)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| classify("athena get_query_results", &e))?;
            for row in out.result_set.and_then(|r| r.rows).unwrap_or_default() {
                // The first row of a SELECT's results is its column names.
                if !header_skipped {
                    header_skipped = true;
                    continue;
                }
                rows.push(row.data.unwrap_or_default().into_iter().map(|d| d.var_char_value).collect());
                if rows.len() >= MAX_ROWS {
                    return Ok(Arc::new(rows));
                }
            }
            match out.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(Arc::new(rows)),
            }
        }
    }
}

#[async_trait]
impl EventQueries for AthenaQueries {
    async fn rows(&self, sql: &str, wait: Duration) -> StoreResult<Option<Rows>> {
        let known = self.entries().get(sql).cloned();
        let id = match known {
            Some(Entry::Done { rows, at }) if at.elapsed() < RESULT_TTL => return Ok(Some(rows)),
            Some(Entry::Running { id, since }) if since.elapsed() < RUNNING_TTL => id,
            _ => {
                let id = self.start(sql).await?;
                // An execution of the same SQL that ran too long is abandoned: stopped, not left to scan.
                let abandoned = self.remember(sql, Entry::Running { id: id.clone(), since: Instant::now() });
                self.stop(abandoned).await;
                id
            }
        };
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(25);
        loop {
            match self.state(&id).await {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => {
                    self.entries().remove(sql);
                    return Err(e);
                }
            }
            if Instant::now() + pause > deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(400));
        }
        let rows = self.results(&id).await?;
        let abandoned = self.remember(sql, Entry::Done { rows: rows.clone(), at: Instant::now() });
        self.stop(abandoned.into_iter().filter(|a| *a != id).collect()).await;
        Ok(Some(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queries() -> AthenaQueries {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        AthenaQueries::new(&config, "db".into(), "wg".into())
    }

    #[test]
    fn executions_nobody_waits_for_are_handed_back_to_be_stopped() {
        let q = queries();
        let running = |id: &str| Entry::Running { id: id.into(), since: Instant::now() };
        assert!(q.remember("select 1", running("a")).is_empty());
        // The same SQL started again (the first ran too long): the first is abandoned.
        assert_eq!(q.remember("select 1", running("b")), ["a"]);
        // Done: the execution that answered is handed back too; the caller keeps it.
        assert_eq!(q.remember("select 1", Entry::Done { rows: Arc::new(vec![]), at: Instant::now() }), ["b"]);
        // A full memory forgets everything, and stops what was running.
        for i in 0..MAX_ENTRIES - 1 {
            assert!(q.remember(&format!("select {i} + 1"), running(&format!("r{i}"))).is_empty());
        }
        let abandoned = q.remember("select 'last'", running("last"));
        assert_eq!(abandoned.len(), MAX_ENTRIES - 1, "every running one, not the finished one");
        assert_eq!(q.entries().len(), 1);
    }
}
