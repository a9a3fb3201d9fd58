//! Compaction of the Parquet event store: every processor batch writes one small file per
//! partition; on a schedule, the files of a partition are merged into one, duplicate rows
//! (redelivered messages) dropped. Athena then reads a few large files instead of many small
//! ones, which is both faster and cheaper.
//!
//! Safe at any moment: the merged file is written before the inputs are deleted, so a reader
//! sees every row at least once (queries count distinct event ids), and a crash in between
//! leaves duplicates that the next run merges away. Files written while a run is going are
//! not among its inputs, so they are never deleted unmerged.

use errata_ports::{BlobStore, StoreError};
use errata_rows::{decode, encode, merge, TABLE_PREFIX};
use serde::Deserialize;

/// Files at least this large are left alone: merging them gains nothing.
pub const LARGE_FILE: u64 = 64 * 1024 * 1024;

/// What a scheduled run is asked to do: the days to compact (`YYYY-MM-DD`), by default today
/// and yesterday (UTC), in every project.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompactRequest {
    #[serde(default)]
    pub days: Vec<String>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Compacted {
    pub partitions: usize,
    pub files_in: usize,
    pub files_out: usize,
    pub rows: usize,
    pub duplicates_dropped: usize,
    /// Partitions deleted because their project keeps events for fewer days.
    pub partitions_expired: usize,
    /// Deleted issues whose events (and attachments) this run finished purging.
    pub issues_purged: usize,
}

/// The project id of a `…/project_id=N/` folder.
pub fn project_of(folder: &str) -> Option<u64> {
    folder.trim_end_matches('/').rsplit("project_id=").next()?.parse().ok()
}

/// Deletes the day partitions of a project folder older than `days` days before `today`;
/// returns how many went.
pub async fn expire(store: &dyn BlobStore, project: &str, days: u32, today: time::Date) -> Result<usize, StoreError> {
    let cutoff = date(today - time::Duration::days(i64::from(days)));
    let mut expired = 0;
    for folder in store.list(project).await?.folders {
        let day = folder.trim_end_matches('/').rsplit("dt=").next().unwrap_or("");
        // `YYYY-MM-DD` strings order like the days they name.
        if time::Date::parse(day, DAY).is_ok() && day < cutoff.as_str() {
            let keys: Vec<String> = store.list(&folder).await?.objects.into_iter().map(|(k, _)| k).collect();
            if !keys.is_empty() {
                store.delete(&keys).await?;
            }
            expired += 1;
        }
    }
    Ok(expired)
}

pub async fn compact(
    store: &dyn BlobStore,
    request: &CompactRequest,
    today: time::Date,
) -> Result<Compacted, StoreError> {
    let days: Vec<String> = if request.days.is_empty() {
        let yesterday = today.previous_day().unwrap_or(today);
        vec![date(yesterday), date(today)]
    } else {
        request.days.clone()
    };
    if let Some(bad) = days.iter().find(|d| time::Date::parse(d, DAY).is_err()) {
        return Err(StoreError::permanent(format!("{bad:?} is not a day (YYYY-MM-DD)")));
    }
    let mut total = Compacted::default();
    for project in store.list(TABLE_PREFIX).await?.folders {
        for day in &days {
            let partition = format!("{project}dt={day}/");
            compact_partition(store, &partition, &mut total).await?;
        }
    }
    Ok(total)
}

async fn compact_partition(store: &dyn BlobStore, partition: &str, total: &mut Compacted) -> Result<(), StoreError> {
    let inputs: Vec<String> = store
        .list(partition)
        .await?
        .objects
        .into_iter()
        .filter(|(key, size)| key.ends_with(".parquet") && *size < LARGE_FILE)
        .map(|(key, _)| key)
        .collect();
    if inputs.len() < 2 {
        return Ok(());
    }
    let mut rows = Vec::new();
    for key in &inputs {
        // Gone since the listing: another run merged it. Its rows are in that run's output.
        let Some(bytes) = store.get(key).await? else { continue };
        match decode(bytes) {
            Ok(file) => rows.extend(file),
            Err(e) => {
                tracing::error!(key = %key, error = %e, "unreadable Parquet file left in place");
                return Ok(());
            }
        }
    }
    let read = rows.len();
    let rows = merge(rows);
    let file = encode(&rows).map_err(|e| StoreError::permanent(e.to_string()))?;
    let key = format!("{partition}compacted-{}.parquet", uuid::Uuid::new_v4().simple());
    store.put(&key, file, "application/vnd.apache.parquet").await?;
    store.delete(&inputs).await?;
    tracing::info!(partition, files = inputs.len(), rows = rows.len(), dropped = read - rows.len(), "compacted");
    total.partitions += 1;
    total.files_in += inputs.len();
    total.files_out += 1;
    total.rows += rows.len();
    total.duplicates_dropped += read - rows.len();
    Ok(())
}

const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

fn date(d: time::Date) -> String {
    d.format(DAY).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use errata_rows::EventRow;
    use errata_testkit::MemoryBlobs;

    fn row(id: &str) -> EventRow {
        EventRow { event_id: id.into(), timestamp: 1, title: "t".into(), ..Default::default() }
    }

    #[tokio::test]
    async fn expires_partitions_older_than_the_project_keeps() {
        let store = MemoryBlobs::default();
        for day in ["2026-01-01", "2026-01-09", "2026-01-10"] {
            let key = format!("{TABLE_PREFIX}project_id=4/dt={day}/a.parquet");
            store.put(&key, encode(&[row("x")]).unwrap(), "").await.unwrap();
        }
        let today = time::Date::from_calendar_date(2026, time::Month::January, 17).unwrap();
        let project = format!("{TABLE_PREFIX}project_id=4/");
        assert_eq!(project_of(&project), Some(4));
        assert_eq!(expire(&store, &project, 7, today).await.unwrap(), 2, "kept: the 10th and later");
        let left = store.list(&project).await.unwrap().folders;
        assert_eq!(left, vec![format!("{project}dt=2026-01-10/")]);
    }

    #[tokio::test]
    async fn merges_small_files_per_partition_and_drops_duplicates() {
        let store = MemoryBlobs::default();
        let p1 = "parquet/events/project_id=1/dt=2026-11-25/";
        let p2 = "parquet/events/project_id=2/dt=2026-11-25/";
        store.put(&format!("{p1}a.parquet"), encode(&[row("1"), row("2")]).unwrap(), "").await.unwrap();
        store.put(&format!("{p1}b.parquet"), encode(&[row("2"), row("3")]).unwrap(), "").await.unwrap();
        store.put(&format!("{p2}c.parquet"), encode(&[row("9")]).unwrap(), "").await.unwrap();
        store
            .put("parquet/events/project_id=1/dt=2026-11-20/old.parquet", encode(&[row("0")]).unwrap(), "")
            .await
            .unwrap();

        let today = time::macros::date!(2026 - 11 - 25);
        let done = compact(&store, &CompactRequest::default(), today).await.unwrap();
        assert_eq!(
            done,
            Compacted {
                partitions: 1,
                files_in: 2,
                files_out: 1,
                rows: 3,
                duplicates_dropped: 1,
                partitions_expired: 0,
                issues_purged: 0
            }
        );
        let files = store.list(p1).await.unwrap().objects;
        assert_eq!(files.len(), 1);
        let rows = decode(store.get(&files[0].0).await.unwrap().unwrap()).unwrap();
        assert_eq!(rows.iter().map(|r| r.event_id.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
        assert_eq!(store.list(p2).await.unwrap().objects.len(), 1, "a single file is left alone");

        // Again: nothing to do. An explicit older day is compacted only when asked.
        assert_eq!(compact(&store, &CompactRequest::default(), today).await.unwrap(), Compacted::default());
        let err = compact(&store, &CompactRequest { days: vec!["yesterday".into()] }, today).await.unwrap_err();
        assert!(err.message.contains("not a day"));
    }
}
