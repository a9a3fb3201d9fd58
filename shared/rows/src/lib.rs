//! The Parquet event store: one row per event (errors and transactions), written by the
//! processor as one Snappy-compressed file per batch and partition, read by Athena through the
//! Glue table whose columns `columns.json` lists (the CDK app reads the same file), and merged
//! by compaction.
//!
//! Object keys are Hive-style, `parquet/events/project_id=N/dt=YYYY-MM-DD/<name>.parquet`: the
//! partition values live in the path, not in the file.

use arrow_array::builder::{Float64Builder, Int64Builder, MapBuilder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::sync::Arc;
use thiserror::Error;

/// The Glue table's columns, `[{"name", "type"}]`, in file order.
pub const COLUMNS_JSON: &str = include_str!("../columns.json");

/// Where the table's data starts in the events bucket (the Glue table's location).
pub const TABLE_PREFIX: &str = "parquet/events/";

#[derive(Debug, Error)]
#[error("parquet: {0}")]
pub struct RowsError(String);

impl From<parquet::errors::ParquetError> for RowsError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        RowsError(e.to_string())
    }
}
impl From<arrow_schema::ArrowError> for RowsError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        RowsError(e.to_string())
    }
}

/// One event as a row. Times are milliseconds since the epoch, UTC.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventRow {
    pub event_id: String,
    /// `None` for transactions, which do not form issues.
    pub issue_id: Option<i64>,
    /// `error`, `default` (a message), `csp`… or `transaction`.
    pub event_type: String,
    pub timestamp: i64,
    pub received: i64,
    pub level: String,
    pub platform: String,
    pub release: Option<String>,
    pub dist: Option<String>,
    pub environment: Option<String>,
    pub title: String,
    pub culprit: Option<String>,
    pub message: Option<String>,
    pub exception_type: Option<String>,
    pub exception_value: Option<String>,
    pub transaction: Option<String>,
    pub duration_ms: Option<f64>,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub user_ip: Option<String>,
    pub user_hash: Option<String>,
    pub sdk_name: Option<String>,
    pub sdk_version: Option<String>,
    pub os_name: Option<String>,
    pub browser_name: Option<String>,
    pub device_family: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// The partition folder (under `TABLE_PREFIX`) of a project's rows on a UTC day.
pub fn partition(project_id: u64, date: &str) -> String {
    format!("{TABLE_PREFIX}project_id={project_id}/dt={date}/")
}

/// Encodes rows as one Parquet file (one row group, Snappy).
pub fn encode(rows: &[EventRow]) -> Result<Vec<u8>, RowsError> {
    let strings = |f: &dyn Fn(&EventRow) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
        for r in rows {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    };
    let times = |f: &dyn Fn(&EventRow) -> i64| -> ArrayRef {
        let mut b = TimestampMillisecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
        for r in rows {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    };
    let mut issue = Int64Builder::with_capacity(rows.len());
    let mut duration = Float64Builder::with_capacity(rows.len());
    let mut tags = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for r in rows {
        issue.append_option(r.issue_id);
        duration.append_option(r.duration_ms);
        for (k, v) in &r.tags {
            tags.keys().append_value(k);
            tags.values().append_value(v);
        }
        tags.append(true)?;
    }
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("event_id", strings(&|r| Some(&r.event_id))),
        ("issue_id", Arc::new(issue.finish())),
        ("event_type", strings(&|r| Some(&r.event_type))),
        ("timestamp", times(&|r| r.timestamp)),
        ("received", times(&|r| r.received)),
        ("level", strings(&|r| Some(&r.level))),
        ("platform", strings(&|r| Some(&r.platform))),
        ("release", strings(&|r| r.release.as_deref())),
        ("dist", strings(&|r| r.dist.as_deref())),
        ("environment", strings(&|r| r.environment.as_deref())),
        ("title", strings(&|r| Some(&r.title))),
        ("culprit", strings(&|r| r.culprit.as_deref())),
        ("message", strings(&|r| r.message.as_deref())),
        ("exception_type", strings(&|r| r.exception_type.as_deref())),
        ("exception_value", strings(&|r| r.exception_value.as_deref())),
        ("transaction", strings(&|r| r.transaction.as_deref())),
        ("duration_ms", Arc::new(duration.finish())),
        ("user_id", strings(&|r| r.user_id.as_deref())),
        ("user_email", strings(&|r| r.user_email.as_deref())),
        ("user_ip", strings(&|r| r.user_ip.as_deref())),
        ("user_hash", strings(&|r| r.user_hash.as_deref())),
        ("sdk_name", strings(&|r| r.sdk_name.as_deref())),
        ("sdk_version", strings(&|r| r.sdk_version.as_deref())),
        ("os_name", strings(&|r| r.os_name.as_deref())),
        ("browser_name", strings(&|r| r.browser_name.as_deref())),
        ("device_family", strings(&|r| r.device_family.as_deref())),
        ("tags", Arc::new(tags.finish())),
    ];
    let batch = RecordBatch::try_from_iter_with_nullable(columns.into_iter().map(|(n, a)| (n, a, true)))?;
    // Statistics per column chunk (what Athena prunes on), not per page: cheaper to write.
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk)
        .build();
    let mut out = Vec::with_capacity(rows.len() * 256);
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(out)
}

/// Reads a file `encode` wrote (or any file with these columns; missing ones read as empty).
pub fn decode(bytes: Vec<u8>) -> Result<Vec<EventRow>, RowsError> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))?.build()?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch?;
        let string = |name: &str, i: usize| -> Option<String> {
            let col = batch.column_by_name(name)?;
            let col = col.as_string_opt::<i32>()?;
            col.is_valid(i).then(|| col.value(i).to_owned())
        };
        let time = |name: &str, i: usize| -> i64 {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<TimestampMillisecondType>())
                .filter(|c| c.is_valid(i))
                .map_or(0, |c| c.value(i))
        };
        let issue = batch.column_by_name("issue_id").and_then(|c| c.as_primitive_opt::<Int64Type>());
        let duration = batch.column_by_name("duration_ms").and_then(|c| c.as_primitive_opt::<Float64Type>());
        let tags = batch.column_by_name("tags").and_then(|c| c.as_map_opt());
        for i in 0..batch.num_rows() {
            let mut row_tags = Vec::new();
            if let Some(map) = tags.filter(|m| m.is_valid(i)) {
                let entries = map.value(i);
                if let (Some(keys), Some(values)) =
                    (entries.column(0).as_string_opt::<i32>(), entries.column(1).as_string_opt::<i32>())
                {
                    for j in 0..entries.len() {
                        row_tags.push((keys.value(j).to_owned(), values.value(j).to_owned()));
                    }
                }
            }
            rows.push(EventRow {
                event_id: string("event_id", i).unwrap_or_default(),
                issue_id: issue.filter(|c| c.is_valid(i)).map(|c| c.value(i)),
                event_type: string("event_type", i).unwrap_or_default(),
                timestamp: time("timestamp", i),
                received: time("received", i),
                level: string("level", i).unwrap_or_default(),
                platform: string("platform", i).unwrap_or_default(),
                release: string("release", i),
                dist: string("dist", i),
                environment: string("environment", i),
                title: string("title", i).unwrap_or_default(),
                culprit: string("culprit", i),
                message: string("message", i),
                exception_type: string("exception_type", i),
                exception_value: string("exception_value", i),
                transaction: string("transaction", i),
                duration_ms: duration.filter(|c| c.is_valid(i)).map(|c| c.value(i)),
                user_id: string("user_id", i),
                user_email: string("user_email", i),
                user_ip: string("user_ip", i),
                user_hash: string("user_hash", i),
                sdk_name: string("sdk_name", i),
                sdk_version: string("sdk_version", i),
                os_name: string("os_name", i),
                browser_name: string("browser_name", i),
                device_family: string("device_family", i),
                tags: row_tags,
            });
        }
    }
    Ok(rows)
}

/// Rows merged for compaction: one per event id (a redelivered message writes its rows again),
/// ordered by time.
pub fn merge(mut rows: Vec<EventRow>) -> Vec<EventRow> {
    rows.sort_by(|a, b| (&a.event_id, a.received).cmp(&(&b.event_id, b.received)));
    rows.dedup_by(|later, first| later.event_id == first.event_id);
    rows.sort_by(|a, b| (a.timestamp, &a.event_id).cmp(&(b.timestamp, &b.event_id)));
    rows
}

#[cfg(test)]
mod tests;
