//! Listing a project's issues from the day-partitioned indexes.
//!
//! Each issue sits in one partition of `by-last-seen` (`project#status#day of last_seen`,
//! ordered by the hour of `last_seen`) and one of `by-first-seen`. The indexes hold keys only:
//! the issues of each chunk read are fetched from the table and ordered exactly. A page sorted by last (or first) seen walks the days backwards from
//! the cursor's day, reading the partitions of the statuses asked for, newest first, and stops
//! once the page is full, or at the day the project's oldest issue was created on. Each
//! partition is read in chunks, only as far as the page needs (a merge of the statuses' partitions
//! of a day, newest first); the first chunks of several days are read at once.
//! Partitions stay small (one day of one project's issues), so each read is cheap on DynamoDB
//! and on emulators that scan a partition per query alike.
//!
//! Frequency and user sorts rank the issues seen in the query's period, at most
//! `MAX_RANKED` of them.

use crate::classify;
use crate::dynamodb::{get_n, n, s, Item};
use crate::issues::{issue_from, DynamoIssueStore, LIST_SEEN_MS};
use errata_domain::{Issue, IssueStatus, Timestamp};
use errata_ports::{page_of, IssuePage, IssueQuery, IssueSort, ListPosition, StoreError, StoreResult};
use futures_util::future::try_join_all;
use std::collections::VecDeque;

const DAY_MS: i64 = 86_400_000;
/// What a list reads of each issue: everything but the grouping components, which only the
/// issue's own routes show.
const LISTED: [&str; 20] = [
    "issue_id",
    "project_id",
    "group_hash",
    "title",
    "culprit",
    "level",
    "issue_type",
    "metadata",
    "platform",
    "status",
    "substatus",
    "status_details",
    "first_release",
    "last_release",
    "users_seen",
    "first_seen",
    "last_seen",
    "times_seen",
    "envs",
    "assignee",
];
/// The most issues one request reads before it answers with what it found and a cursor.
const MAX_READ: usize = 5_000;
/// The largest chunk read from a partition at once.
const MAX_CHUNK: usize = 500;
/// The most issues a frequency or user sort ranks.
pub const MAX_RANKED: usize = 5_000;
/// How much older than its first event an issue's first sighting can become: events are
/// accepted up to 30 days late.
const LATE_DAYS: i64 = 31;

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
        let index = match sort {
            IssueSort::FirstSeen => Index::FIRST_SEEN,
            _ => Index::LAST_SEEN,
        };
        let today = Timestamp::now().unix_millis().div_euclid(DAY_MS);
        // Events may be stamped up to a minute ahead: start from tomorrow's partition, and
        // never later, whatever a cursor says (no walk over days that cannot hold issues).
        let mut day = cursor.map_or(today + 1, |c| c.key.div_euclid(DAY_MS)).min(today + 1);
        // No issue was last seen before the day the oldest issue was created on.
        let Some(oldest) = self.oldest_day(q.project_id).await? else { return Ok(IssuePage::default()) };
        let lowest = match sort {
            IssueSort::FirstSeen => oldest - LATE_DAYS,
            _ => q.seen_after.div_euclid(DAY_MS).max(oldest),
        };
        let mut out: Vec<Issue> = Vec::new();
        let mut read = 0;
        let mut batch = 1;
        while day >= lowest {
            // The first chunk of each day's partitions, a few days at once: most are small or
            // empty, and one round trip for several saves time.
            let days: Vec<i64> = (0..batch).map(|i| day - i).filter(|d| *d >= lowest).collect();
            // A search that turns issues down reads more of each partition from the start.
            // (One more after a cursor: the cursor's own issue comes back first.) Twice what
            // a page needs otherwise: the hour a chunk ends in waits for the next chunk.
            let wanted = limit + 1 + usize::from(cursor.is_some());
            let first = if q.selective { 4 * wanted } else { 2 * wanted }.min(MAX_CHUNK);
            let opened = days.iter().flat_map(|d| {
                q.statuses.iter().map(move |status| {
                    let upper = cursor.filter(|c| c.key.div_euclid(DAY_MS) == *d).map(|c| c.key);
                    let partition = Partition { index, project_id: q.project_id, status: *status, day: *d, upper };
                    self.open(partition, sort, first)
                })
            });
            let mut streams: Vec<Stream> = try_join_all(opened).await?;
            for (i, _) in days.iter().enumerate() {
                let day_streams = &mut streams[i * q.statuses.len()..(i + 1) * q.statuses.len()];
                // Merge the day's partitions newest first, reading more of one only when its
                // buffer runs dry.
                loop {
                    {
                        let dry = day_streams.iter_mut().filter(|s| s.buffer.is_empty() && s.more.is_some());
                        let refills: Vec<_> = dry.map(|s| self.refill(s, sort)).collect();
                        if !refills.is_empty() {
                            read += try_join_all(refills).await?.into_iter().sum::<usize>();
                        }
                    }
                    let Some(best) = day_streams
                        .iter_mut()
                        .filter(|s| !s.buffer.is_empty())
                        .max_by_key(|s| s.buffer.front().map(|i| ListPosition::of(i, sort)))
                    else {
                        break;
                    };
                    let Some(issue) = best.buffer.pop_front() else { break };
                    let at = ListPosition::of(&issue, sort);
                    if cursor.is_some_and(|c| at >= c) || issue.last_seen.unix_millis() < q.seen_after {
                        continue;
                    }
                    if (q.filter)(&issue) {
                        out.push(issue);
                        if out.len() > limit {
                            out.truncate(limit);
                            let next = out.last().map(|i| ListPosition::of(i, sort).cursor());
                            return Ok(IssuePage { issues: out, next });
                        }
                    }
                    if read + streams_read(day_streams) >= MAX_READ {
                        // Enough read for one request: the next page resumes exactly here.
                        return Ok(IssuePage { issues: out, next: Some(at.cursor()) });
                    }
                }
            }
            read += streams_read(&streams);
            day -= batch;
            batch = (batch * 2).min(8);
        }
        Ok(IssuePage { issues: out, next: None })
    }

    /// The first chunk of a partition.
    async fn open(&self, partition: Partition, sort: IssueSort, chunk: usize) -> StoreResult<Stream> {
        let mut stream =
            Stream { partition, buffer: VecDeque::new(), waiting: Vec::new(), more: Some(None), chunk, first_read: 0 };
        stream.first_read = self.refill(&mut stream, sort).await?;
        Ok(stream)
    }

    /// Reads the partition's next chunk into the stream's buffer; returns how many keys came.
    /// The indexes hold keys only, ordered by a time that can be coarse (`by-last-seen`: the
    /// hour): the issues are read from the table and ordered exactly, a whole bucket at a time.
    /// The keys of the bucket a chunk ends in wait for the next chunk, where it may go on.
    async fn refill(&self, stream: &mut Stream, sort: IssueSort) -> StoreResult<usize> {
        let mut read = 0;
        while let Some(start) = stream.more.take() {
            let p = &stream.partition;
            let mut query = self
                .client
                .query()
                .table_name(&self.issues_table)
                .index_name(p.index.name)
                .scan_index_forward(false)
                .limit(stream.chunk as i32)
                .expression_attribute_names("#d", p.index.day)
                .expression_attribute_values(":d", s(format!("{}#{}#{}", p.project_id, p.status.as_str(), p.day)))
                .set_exclusive_start_key(start);
            query = match p.upper {
                Some(upper) => query
                    .key_condition_expression("#d = :d AND #t <= :upper")
                    .expression_attribute_names("#t", p.index.time)
                    .expression_attribute_values(":upper", n(upper.div_euclid(p.index.bucket) * p.index.bucket)),
                None => query.key_condition_expression("#d = :d"),
            };
            let out = query.send().await.map_err(|e| classify("dynamodb query issue list", &e))?;
            read += out.items().len();
            stream.more = out.last_evaluated_key.clone().filter(|k| !k.is_empty()).map(Some);
            // Later chunks grow: a stream read again is one a filter is scanning through.
            stream.chunk = (stream.chunk * 4).min(MAX_CHUNK);
            let mut keys = std::mem::take(&mut stream.waiting);
            keys.extend(out.items().iter().cloned());
            if stream.more.is_some() {
                let time = |k: &Item| get_n::<i64>(k, p.index.time);
                let last = keys.last().and_then(time);
                let whole = keys.iter().rposition(|k| time(k) != last).map_or(0, |i| i + 1);
                stream.waiting = keys.split_off(whole);
            }
            if !keys.is_empty() {
                // An index copy trails the table: an issue that has since left this partition
                // is listed from the one it is in now.
                let (status, day) = (p.status, p.day);
                let mut issues: Vec<Issue> = self
                    .hydrate(&keys)
                    .await?
                    .into_iter()
                    .filter(|i| i.status == status && ListPosition::of(i, sort).key.div_euclid(DAY_MS) == day)
                    .collect();
                issues.sort_by_key(|i| std::cmp::Reverse(ListPosition::of(i, sort)));
                stream.buffer.extend(issues);
                break;
            }
        }
        Ok(read)
    }
}

impl DynamoIssueStore {
    /// The listed attributes of the issues whose keys an index returned, read 100 at a time.
    async fn hydrate(&self, keys: &[Item]) -> StoreResult<Vec<Issue>> {
        self.read_issues(keys, Some(&LISTED), false).await
    }

    /// The issues of `keys` (`pk` and `sk`), 100 at a time: `projection` of each (all when
    /// `None`), strongly consistent when asked.
    pub(crate) async fn read_issues(
        &self,
        keys: &[Item],
        projection: Option<&[&str]>,
        consistent: bool,
    ) -> StoreResult<Vec<Issue>> {
        let keys: Vec<Item> = keys
            .iter()
            .filter_map(|k| {
                Some(Item::from([("pk".into(), k.get("pk")?.clone()), ("sk".into(), k.get("sk")?.clone())]))
            })
            .collect();
        self.read_items(&self.issues_table, &keys, projection, consistent).await?.iter().map(issue_from).collect()
    }
}

/// What the first chunks of streams read (counted once, when their day is done).
fn streams_read(streams: &[Stream]) -> usize {
    streams.iter().map(|s| s.first_read).sum()
}

/// One of the two list indexes.
#[derive(Debug, Clone, Copy)]
struct Index {
    name: &'static str,
    day: &'static str,
    time: &'static str,
    /// The sort key's unit in ms: the time rounded down to it.
    bucket: i64,
}

impl Index {
    const LAST_SEEN: Index = Index { name: "by-last-seen", day: "seen_day", time: "list_seen", bucket: LIST_SEEN_MS };
    const FIRST_SEEN: Index = Index { name: "by-first-seen", day: "first_day", time: "first_seen", bucket: 1 };
}

/// One partition: a project's issues of one status whose time falls on one day, from `upper`
/// (inclusive) down.
#[derive(Debug, Clone, Copy)]
struct Partition {
    index: Index,
    project_id: u64,
    status: IssueStatus,
    day: i64,
    upper: Option<i64>,
}

/// A partition read newest first, a chunk at a time.
struct Stream {
    partition: Partition,
    buffer: VecDeque<Issue>,
    /// Keys of a bucket the last chunk ended in, read but not yet listed.
    waiting: Vec<Item>,
    /// Where the next chunk starts: `Some(None)` from the beginning, `None` when read out.
    more: Option<Option<Item>>,
    chunk: usize,
    first_read: usize,
}
