//! Listing a project's issues from the day-partitioned indexes.
//!
//! Each issue sits in one partition of `by-last-seen` (`project#status#day of last_seen`) and
//! one of `by-first-seen`. A page sorted by last (or first) seen walks the days backwards from
//! the cursor's day, reading the partitions of the statuses asked for, newest first, and stops
//! once the page is full, or at the day the project's oldest issue was created on. Days are
//! read one, then 3, 9 and 27 at a time, concurrently.
//! Partitions stay small (one day of one project's issues), so each read is cheap on DynamoDB
//! and on emulators that scan a partition per query alike.
//!
//! Frequency and user sorts rank the issues seen in the query's period, at most
//! `MAX_RANKED` of them.

use crate::classify;
use crate::dynamodb::{n, s, Item};
use crate::issues::{issue_from, DynamoIssueStore};
use errata_domain::{Issue, IssueStatus, Timestamp};
use errata_ports::{page_of, IssuePage, IssueQuery, IssueSort, ListPosition, StoreError, StoreResult};
use futures_util::future::try_join_all;

const DAY_MS: i64 = 86_400_000;
/// The most issues one partition read takes before the page is cut short.
const MAX_PARTITION_READ: usize = 2_000;
/// The most issues a frequency or user sort ranks.
pub const MAX_RANKED: usize = 5_000;
/// How much older than its first event an issue's first sighting can become: events are
/// accepted up to 30 days late.
const LATE_DAYS: i64 = 31;

/// What one partition read returned.
struct PartitionRead {
    items: Vec<Issue>,
    /// The position of the last issue read when the read stopped before the partition's end.
    cut_at: Option<ListPosition>,
}

impl DynamoIssueStore {
    /// Lowers the project's `oldest_day` to the day of this new issue's first event.
    pub(crate) async fn note_first_day(&self, s_: &errata_domain::Sighting) -> StoreResult<()> {
        let day = s_.timestamp.unix_millis().div_euclid(DAY_MS);
        let result = self
            .client
            .update_item()
            .table_name(&self.issues_table)
            .key("pk", s(format!("P#{}", s_.project_id)))
            .key("sk", s("META"))
            .update_expression("SET oldest_day = :d")
            .condition_expression("attribute_not_exists(oldest_day) OR oldest_day > :d")
            .expression_attribute_values(":d", n(day))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(classify("dynamodb update oldest_day", &e)),
        }
    }

    /// The earliest day any issue of the project was created on, if it has issues.
    async fn oldest_day(&self, project_id: u64) -> StoreResult<Option<i64>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.issues_table)
            .key("pk", s(format!("P#{project_id}")))
            .key("sk", s("META"))
            .send()
            .await
            .map_err(|e| classify("dynamodb get oldest_day", &e))?;
        Ok(out.item.as_ref().and_then(|i| crate::dynamodb::get_n(i, "oldest_day")))
    }

    pub(crate) async fn list(&self, q: &IssueQuery<'_>) -> StoreResult<IssuePage> {
        let cursor = match q.cursor {
            Some(c) => Some(ListPosition::parse(c).ok_or_else(|| StoreError::permanent("malformed issue cursor"))?),
            None => None,
        };
        match q.sort {
            IssueSort::LastSeen | IssueSort::FirstSeen => self.walk(q, q.sort, cursor, q.limit).await,
            IssueSort::TimesSeen | IssueSort::UsersSeen => {
                let seen = self.walk(q, IssueSort::LastSeen, None, MAX_RANKED).await?;
                Ok(page_of(seen.issues, q.sort, cursor, q.limit))
            }
        }
    }

    /// Issues in `sort` order (last or first seen) after `cursor`, at most `limit`.
    async fn walk(
        &self,
        q: &IssueQuery<'_>,
        sort: IssueSort,
        cursor: Option<ListPosition>,
        limit: usize,
    ) -> StoreResult<IssuePage> {
        let (index, day_attr, time_attr) = match sort {
            IssueSort::FirstSeen => ("by-first-seen", "first_day", "first_seen"),
            _ => ("by-last-seen", "seen_day", "last_seen"),
        };
        let today = Timestamp::now().unix_millis().div_euclid(DAY_MS);
        // Events may be stamped up to a minute ahead: start from tomorrow's partition.
        let mut day = cursor.map_or(today + 1, |c| c.key.div_euclid(DAY_MS));
        // No issue was last seen before the day the oldest issue was created on.
        let Some(oldest) = self.oldest_day(q.project_id).await? else { return Ok(IssuePage::default()) };
        let lowest = match sort {
            IssueSort::FirstSeen => oldest - LATE_DAYS,
            _ => q.seen_after.div_euclid(DAY_MS).max(oldest),
        };
        let mut out: Vec<Issue> = Vec::new();
        let mut batch = 1;
        while day >= lowest {
            let days: Vec<i64> = (0..batch).map(|i| day - i).filter(|d| *d >= lowest).collect();
            let reads = days.iter().flat_map(|d| {
                q.statuses.iter().map(move |status| {
                    let upper = cursor.filter(|c| c.key.div_euclid(DAY_MS) == *d).map(|c| c.key);
                    self.read_partition(index, day_attr, time_attr, q.project_id, *status, *d, upper, sort)
                })
            });
            let reads = try_join_all(reads).await?;
            for (i, _) in days.iter().enumerate() {
                let parts = &reads[i * q.statuses.len()..(i + 1) * q.statuses.len()];
                // When a read stopped early, only what lies above its cut is complete.
                let cut = parts.iter().filter_map(|p| p.cut_at).max();
                let mut items: Vec<&Issue> = parts.iter().flat_map(|p| &p.items).collect();
                items.sort_by_key(|i| std::cmp::Reverse(ListPosition::of(i, sort)));
                for issue in items {
                    let at = ListPosition::of(issue, sort);
                    if cursor.is_some_and(|c| at >= c) || issue.last_seen.unix_millis() < q.seen_after {
                        continue;
                    }
                    if cut.is_some_and(|c| at <= c) {
                        break;
                    }
                    if (q.filter)(issue) {
                        out.push(issue.clone());
                        if out.len() > limit {
                            out.truncate(limit);
                            let next = out.last().map(|i| ListPosition::of(i, sort).cursor());
                            return Ok(IssuePage { issues: out, next });
                        }
                    }
                }
                if let Some(c) = cut {
                    // Resume at the cut, which itself was not taken: just above it.
                    let next = ListPosition { key: c.key, id: c.id.saturating_add(1) }.cursor();
                    return Ok(IssuePage { issues: out, next: Some(next) });
                }
            }
            day -= batch;
            batch = (batch * 3).min(27);
        }
        Ok(IssuePage { issues: out, next: None })
    }

    /// One day's partition of one status, newest first, from `upper` (inclusive) down.
    #[allow(clippy::too_many_arguments)]
    async fn read_partition(
        &self,
        index: &str,
        day_attr: &str,
        time_attr: &str,
        project_id: u64,
        status: IssueStatus,
        day: i64,
        upper: Option<i64>,
        sort: IssueSort,
    ) -> StoreResult<PartitionRead> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.issues_table)
                .index_name(index)
                .scan_index_forward(false)
                .expression_attribute_names("#d", day_attr)
                .expression_attribute_values(":d", s(format!("{project_id}#{}#{day}", status.as_str())))
                .set_exclusive_start_key(start.take());
            query = match upper {
                Some(upper) => query
                    .key_condition_expression("#d = :d AND #t <= :upper")
                    .expression_attribute_names("#t", time_attr)
                    .expression_attribute_values(":upper", n(upper)),
                None => query.key_condition_expression("#d = :d"),
            };
            let out = query.send().await.map_err(|e| classify("dynamodb query issue list", &e))?;
            for item in out.items() {
                items.push(issue_from(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => {
                    if items.len() >= MAX_PARTITION_READ {
                        let cut_at = items.iter().map(|i| ListPosition::of(i, sort)).min();
                        return Ok(PartitionRead { items, cut_at });
                    }
                    start = Some(k);
                }
                _ => return Ok(PartitionRead { items, cut_at: None }),
            }
        }
    }
}
