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
/// A running execution older than this is abandoned and started again.
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

    fn remember(&self, sql: &str, entry: Entry) {
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            // Forget what is stale first, then anything, to stay bounded.
            entries.retain(|_, e| match e {
                Entry::Running { since, .. } => since.elapsed() < RUNNING_TTL,
                Entry::Done { at, .. } => at.elapsed() < RESULT_TTL,
            });
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(sql.to_owned(), entry);
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
                self.remember(sql, Entry::Running { id: id.clone(), since: Instant::now() });
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
        self.remember(sql, Entry::Done { rows: rows.clone(), at: Instant::now() });
        Ok(Some(rows))
    }
}
