//! The issue store on DynamoDB.
//!
//! Issues table: `pk` = `P#project_id`, `sk` = `I#issue_id`, GSI `by-id` on `issue_id` (N).
//! For listing (see `issue_list.rs`): GSI `by-last-seen` on `seen_day` (S) + `list_seen` (N,
//! the hour of the last sighting) and GSI `by-first-seen` on `first_day` (S) + `first_seen`
//! (N), where a day key is `project#status#day-number`: one partition per project, status and
//! day. All three hold keys only: DynamoDB bills a write to every index whose copy of an item
//! changes, and every counted event changes its issue. With keys only and an hourly sort key,
//! a count writes no index at all, most of the time.
//! `P#project_id` / `G#issue_id` holds an issue's grouping, written once when it is created,
//! so the item every count rewrites stays small. `P#project_id` / `META` keeps `oldest_day`,
//! the earliest day an issue of the project was created on, where list walks stop.
//! Events table: `pk` = `project_id/event_id` (the event index: issue, time, where the body
//! is), GSI `by-issue` on `issue_id` (N) + `ts` (N, ms); `pk` = `U/issue_id/user_hash` marks a
//! user already counted for an issue. TTL on `expires_at`.

use crate::classify;
use crate::dynamodb::{corrupt, get_n, get_s, n, s, Item};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use errata_domain::issue::Recorded;
use errata_domain::status::{self, Reopened};
use errata_domain::{
    BodyRef, Feedback, Grouping, Issue, IssueId, IssueStatus, Sighting, StatusChange, StatusDetails, StoredEvent,
    Substatus, Timestamp,
};
use errata_ports::{EventOrder, EventPage, FeedbackScope, IssuePage, IssueQuery, IssueStore, StoreError, StoreResult};

/// Where an event's time falls against its issue's first and last sighting. Events arrive out
/// of order (SQS batches, concurrent processors), so `first_seen` and `last_seen` are kept as
/// min and max under conditions rather than overwritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// The usual case: the newest event; moves `last_seen` (and `last_release`).
    Newer,
    /// Older than the first sighting; moves `first_seen`.
    Older,
    /// In between: only counts.
    Between,
}

/// One attempt at recording a sighting: what the issue is expected to look like (the
/// transaction's conditions) and what to write.
#[derive(Debug, Clone)]
enum Plan {
    Create,
    Count {
        when: When,
        /// The status the issue must still have: a concurrent resolve makes the attempt fail
        /// and be planned again from the issue as it is.
        status: IssueStatus,
        /// For an issue ignored until a count: the count the decision was made on.
        times_seen: Option<u64>,
        change: Option<(StatusChange, Reopened)>,
        /// The issue's first and last sighting when it was read: a status change moves it to
        /// other list partitions, which these name.
        seen: Option<(Timestamp, Timestamp)>,
    },
}

/// The list partition of an issue: its project, status and the day of `at`.
pub(crate) fn day_key(project_id: u64, status: IssueStatus, at: Timestamp) -> AttributeValue {
    s(format!("{project_id}#{}#{}", status.as_str(), at.unix_millis().div_euclid(86_400_000)))
}

/// How finely `by-last-seen` orders issues: by the hour of their last sighting. The index holds
/// keys only and its key moves once an hour, not with every event (DynamoDB bills a write to an
/// index only when its copy changes); lists read the issues and order them exactly.
pub(crate) const LIST_SEEN_MS: i64 = 3_600_000;

/// The `by-last-seen` sort key of an issue last seen at `at`.
pub(crate) fn list_seen(at: Timestamp) -> AttributeValue {
    n(at.unix_millis().div_euclid(LIST_SEEN_MS) * LIST_SEEN_MS)
}

impl Plan {
    /// The guess before anything was read: the newest event of an unresolved issue.
    fn optimistic() -> Plan {
        Plan::Count { when: When::Newer, status: IssueStatus::Unresolved, times_seen: None, change: None, seen: None }
    }

    fn from_issue(issue: Option<&Issue>, s_: &Sighting) -> Plan {
        let Some(issue) = issue else { return Plan::Create };
        let when = if s_.timestamp >= issue.last_seen {
            When::Newer
        } else if s_.timestamp < issue.first_seen {
            When::Older
        } else {
            When::Between
        };
        let counts_matter = issue.status == IssueStatus::Ignored && issue.status_details.ignore_count.is_some();
        Plan::Count {
            when,
            status: issue.status,
            times_seen: counts_matter.then_some(issue.times_seen),
            change: status::on_event(issue, s_.timestamp, s_.release.as_deref()),
            seen: Some((issue.first_seen, issue.last_seen)),
        }
    }

    fn outcome(&self) -> Recorded {
        match self {
            Plan::Create => Recorded::NewIssue,
            Plan::Count { change: Some((_, Reopened::Regressed)), .. } => Recorded::Regressed,
            Plan::Count { change: Some((_, Reopened::Escalated)), .. } => Recorded::Escalated,
            Plan::Count { change: None, .. } => Recorded::Counted,
        }
    }
}

/// Issues and their event index.
pub struct DynamoIssueStore {
    pub(crate) client: Client,
    pub(crate) issues_table: String,
    pub(crate) events_table: String,
    /// How long event index entries live (DynamoDB TTL), in days.
    pub(crate) retention_days: i64,
}

fn json_attr<T: serde::Serialize + ?Sized>(v: &T) -> StoreResult<AttributeValue> {
    serde_json::to_string(v).map(s).map_err(|e| StoreError::permanent(e.to_string()))
}

/// An update whose names all go through `#f<i>` aliases (`level`, `status` and others are
/// DynamoDB reserved words).
struct Assignments {
    set: Vec<String>,
    names: Vec<(String, String)>,
    values: Vec<(String, AttributeValue)>,
}

impl Assignments {
    fn new() -> Self {
        Assignments { set: Vec::new(), names: Vec::new(), values: Vec::new() }
    }
    fn set(&mut self, name: &str, value: AttributeValue) {
        let i = self.names.len();
        self.set.push(format!("#f{i} = :f{i}"));
        self.names.push((format!("#f{i}"), name.to_owned()));
        self.values.push((format!(":f{i}"), value));
    }
    fn set_change(&mut self, change: &StatusChange) -> StoreResult<()> {
        self.set("status", s(change.status.as_str()));
        self.set("substatus", s(change.substatus.as_str()));
        self.set("status_details", json_attr(&change.details)?);
        Ok(())
    }
    fn apply(self, mut update: aws_sdk_dynamodb::types::builders::UpdateBuilder, extra: &str) -> StoreResult<Update> {
        let mut expression = String::new();
        if !self.set.is_empty() {
            expression = format!("SET {}", self.set.join(", "));
        }
        if !extra.is_empty() {
            expression = format!("{expression} {extra}");
        }
        update = update.update_expression(expression.trim());
        for (k, v) in self.names {
            update = update.expression_attribute_names(k, v);
        }
        for (k, v) in self.values {
            update = update.expression_attribute_values(k, v);
        }
        update.build().map_err(|e| StoreError::permanent(e.to_string()))
    }
}

impl DynamoIssueStore {
    pub fn new(
        config: &aws_config::SdkConfig,
        issues_table: String,
        events_table: String,
        retention_days: i64,
    ) -> Self {
        DynamoIssueStore {
            client: Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(config).interceptor(crate::meter::Meter).build(),
            ),
            issues_table,
            events_table,
            retention_days,
        }
    }

    pub(crate) fn expires_at(&self, t: Timestamp) -> AttributeValue {
        n(t.0.unix_timestamp() + self.retention_days * 86_400)
    }

    /// When an event's index entries expire: the stack's retention, or its project's when
    /// shorter.
    fn event_expires_at(&self, s_: &Sighting) -> AttributeValue {
        let days = s_.retention_days.map_or(self.retention_days, |d| i64::from(d).min(self.retention_days));
        n(s_.timestamp.0.unix_timestamp() + days * 86_400)
    }

    fn event_put(&self, s_: &Sighting) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.events_table)
            .item("pk", s(format!("{}/{}", s_.project_id, s_.event_id)))
            .item("project_id", n(s_.project_id))
            .item("event_id", s(&s_.event_id))
            .item("issue_id", n(s_.issue_id.0))
            .item("ts", n(s_.timestamp.unix_millis()))
            .item("body_key", s(&s_.body.key))
            .item("body_offset", n(s_.body.offset))
            .item("body_len", n(s_.body.len))
            .item("expires_at", self.event_expires_at(s_))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::permanent(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A new issue's grouping (its components can be long) as an item of its own, written once:
    /// the issue item, rewritten by every count and copied into `by-last-seen`, stays small.
    fn grouping_put(&self, s_: &Sighting) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.issues_table)
            .item("pk", s(format!("P#{}", s_.project_id)))
            .item("sk", s(grouping_sk(s_.issue_id)))
            .item("grouping", json_attr(&s_.grouping)?)
            .build()
            .map_err(|e| StoreError::permanent(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn issue_key(&self, project_id: u64, id: IssueId) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.issues_table)
            .key("pk", s(format!("P#{project_id}")))
            .key("sk", s(format!("I#{id}")))
    }

    /// The issue's side of the transaction: its creation, or its counters (and status).
    fn issue_update(&self, s_: &Sighting, plan: &Plan) -> StoreResult<TransactWriteItem> {
        let ts = n(s_.timestamp.unix_millis());
        let mut a = Assignments::new();
        let update = match plan {
            Plan::Create => {
                let issue = Issue::from_sighting(s_);
                a.set("issue_id", n(issue.id.0));
                a.set("project_id", n(issue.project_id));
                a.set("group_hash", s(&issue.hash));
                a.set("title", s(&issue.title));
                a.set("culprit", s(&issue.culprit));
                a.set("level", s(&issue.level));
                a.set("issue_type", s(&issue.ty));
                a.set("metadata", s(issue.metadata.to_string()));
                a.set("platform", s(&issue.platform));
                a.set("status", s(issue.status.as_str()));
                a.set("substatus", s(issue.substatus.as_str()));
                a.set("status_details", json_attr(&issue.status_details)?);
                a.set("first_seen", ts.clone());
                a.set("last_seen", ts);
                a.set("seen_day", day_key(s_.project_id, issue.status, s_.timestamp));
                a.set("list_seen", list_seen(s_.timestamp));
                a.set("first_day", day_key(s_.project_id, issue.status, s_.timestamp));
                if let Some(env) = &s_.environment {
                    a.set("envs", AttributeValue::Ss(vec![env.clone()]));
                }
                a.set("times_seen", n(1));
                a.set("users_seen", n(0));
                if let Some(release) = &s_.release {
                    a.set("first_release", s(release));
                    a.set("last_release", s(release));
                }
                a.apply(
                    self.issue_key(s_.project_id, s_.issue_id).condition_expression("attribute_not_exists(pk)"),
                    "",
                )?
            }
            Plan::Count { when, status, times_seen, change, seen } => {
                let mut conditions = vec!["attribute_exists(pk)".to_owned()];
                let new_status = change.as_ref().map_or(*status, |(c, _)| c.status);
                // The list partitions follow the times (and the status, when it changes).
                let (first, last) = match (when, seen) {
                    (When::Newer, Some((first, _))) => (Some(*first), Some(s_.timestamp)),
                    (When::Newer, None) => (None, Some(s_.timestamp)),
                    (When::Older, Some((_, last))) => (Some(s_.timestamp), Some(*last)),
                    (When::Older, None) => (Some(s_.timestamp), None),
                    (When::Between, Some((first, last))) => (Some(*first), Some(*last)),
                    (When::Between, None) => (None, None),
                };
                let moved = change.is_some();
                if let Some(last) = last.filter(|_| moved || *when == When::Newer) {
                    a.set("seen_day", day_key(s_.project_id, new_status, last));
                    a.set("list_seen", list_seen(last));
                }
                if let Some(first) = first.filter(|_| moved || *when == When::Older) {
                    a.set("first_day", day_key(s_.project_id, new_status, first));
                }
                match when {
                    When::Newer => {
                        a.set("last_seen", ts.clone());
                        conditions.push(format!("#f{} <= :ts", a.names.len() - 1));
                        if let Some(release) = &s_.release {
                            a.set("last_release", s(release));
                        }
                    }
                    When::Older => {
                        a.set("first_seen", ts.clone());
                        conditions.push(format!("#f{} > :ts", a.names.len() - 1));
                    }
                    When::Between => {}
                }
                if let Some((change, _)) = change {
                    a.set_change(change)?;
                }
                a.names.push(("#st".into(), "status".into()));
                a.values.push((":st".into(), s(status.as_str())));
                conditions.push("#st = :st".into());
                if let Some(count) = times_seen {
                    a.values.push((":seen".into(), n(count)));
                    conditions.push("times_seen = :seen".into());
                }
                a.values.push((":one".into(), n(1)));
                if *when != When::Between {
                    a.values.push((":ts".into(), ts));
                }
                let mut add = "ADD times_seen :one".to_owned();
                if let Some(env) = &s_.environment {
                    a.values.push((":env".into(), AttributeValue::Ss(vec![env.clone()])));
                    add.push_str(", envs :env");
                }
                a.apply(
                    self.issue_key(s_.project_id, s_.issue_id).condition_expression(conditions.join(" AND ")),
                    &add,
                )?
            }
        };
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs the event put + issue update transaction. `Ok(Err(duplicate))` means a condition
    /// cancelled it: the event's (an id already recorded) when `duplicate`, else the issue's.
    async fn transact(&self, s_: &Sighting, plan: &Plan) -> StoreResult<Result<(), bool>> {
        let mut request = self
            .client
            .transact_write_items()
            .transact_items(self.event_put(s_)?)
            .transact_items(self.issue_update(s_, plan)?);
        if matches!(plan, Plan::Create) {
            request = request.transact_items(self.grouping_put(s_)?);
        }
        let result = request.send().await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(e) => {
                if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() {
                    let failed: Vec<bool> = c
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code() == Some("ConditionalCheckFailed"))
                        .collect();
                    if failed.iter().any(|f| *f) {
                        return Ok(Err(failed.first() == Some(&true)));
                    }
                }
                Err(classify("dynamodb transact_write_items", &e))
            }
        }
    }

    /// The issue as stored now (strongly consistent reads), with its grouping.
    async fn read_issue(&self, project_id: u64, id: IssueId) -> StoreResult<Option<Issue>> {
        let get = |sk: String| {
            self.client
                .get_item()
                .table_name(&self.issues_table)
                .key("pk", s(format!("P#{project_id}")))
                .key("sk", s(sk))
                .consistent_read(true)
                .send()
        };
        let (issue, grouping) = futures_util::future::join(get(format!("I#{id}")), get(grouping_sk(id))).await;
        let issue = issue.map_err(|e| classify("dynamodb get_item issue", &e))?;
        let grouping = grouping.map_err(|e| classify("dynamodb get_item issue grouping", &e))?;
        let Some(mut item) = issue.item else { return Ok(None) };
        // Issues created before the grouping had an item of its own keep it in theirs.
        if let Some(g) = grouping.item.and_then(|mut g| g.remove("grouping")) {
            item.insert("grouping".into(), g);
        }
        issue_from(&item).map(Some)
    }

    /// The project partition's items whose sort key starts with `prefix`, every page.
    async fn partition_items(&self, project_id: u64, prefix: &str) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.issues_table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(format!("P#{project_id}")))
                .expression_attribute_values(":prefix", s(prefix))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("dynamodb query issues", &e))?;
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// Counts the sighting's user for its issue once: a marker item per (issue, user), then
    /// the counter. A crash between the two misses that user (documented as approximate).
    async fn note_user(&self, s_: &Sighting) -> StoreResult<()> {
        let Some(user) = &s_.user_hash else { return Ok(()) };
        let marked = self
            .client
            .put_item()
            .table_name(&self.events_table)
            .item("pk", s(format!("U/{}/{}", s_.issue_id, user)))
            .item("expires_at", self.event_expires_at(s_))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match marked {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => return Ok(()),
            Err(e) => return Err(classify("dynamodb put_item user", &e)),
        }
        self.client
            .update_item()
            .table_name(&self.issues_table)
            .key("pk", s(format!("P#{}", s_.project_id)))
            .key("sk", s(format!("I#{}", s_.issue_id)))
            .update_expression("ADD users_seen :one")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| classify("dynamodb update_item users", &e))?;
        Ok(())
    }
}

/// The sort key of an issue's grouping item.
fn grouping_sk(id: IssueId) -> String {
    format!("G#{id}")
}

pub(crate) fn issue_from(item: &Item) -> StoreResult<Issue> {
    // Lists read issues without their grouping components: then only the hash is known.
    let grouping: Grouping = match get_s(item, "grouping") {
        Some(g) => serde_json::from_str(&g).map_err(|_| corrupt("issue grouping"))?,
        None => Grouping { hash: get_s(item, "group_hash").unwrap_or_default(), ..Grouping::default() },
    };
    let ts = |k: &str| get_n::<i64>(item, k).and_then(Timestamp::from_unix_millis).ok_or_else(|| corrupt("issue"));
    Ok(Issue {
        id: IssueId(get_n(item, "issue_id").ok_or_else(|| corrupt("issue"))?),
        project_id: get_n(item, "project_id").ok_or_else(|| corrupt("issue"))?,
        hash: get_s(item, "group_hash").unwrap_or_default(),
        title: get_s(item, "title").unwrap_or_default(),
        culprit: get_s(item, "culprit").unwrap_or_default(),
        level: get_s(item, "level").unwrap_or_else(|| "error".into()),
        ty: get_s(item, "issue_type").unwrap_or_else(|| "error".into()),
        metadata: get_s(item, "metadata").and_then(|m| serde_json::from_str(&m).ok()).unwrap_or_default(),
        platform: get_s(item, "platform").unwrap_or_default(),
        status: get_s(item, "status").and_then(|s| IssueStatus::parse(&s)).unwrap_or(IssueStatus::Unresolved),
        substatus: get_s(item, "substatus").and_then(|s| Substatus::parse(&s)).unwrap_or_default(),
        status_details: get_s(item, "status_details")
            .and_then(|d| serde_json::from_str::<StatusDetails>(&d).ok())
            .unwrap_or_default(),
        first_release: get_s(item, "first_release"),
        last_release: get_s(item, "last_release"),
        users_seen: get_n(item, "users_seen").unwrap_or(0),
        first_seen: ts("first_seen")?,
        last_seen: ts("last_seen")?,
        times_seen: get_n(item, "times_seen").unwrap_or(0),
        grouping,
        environments: item.get("envs").and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default(),
        assignee: get_s(item, "assignee"),
    })
}

fn stored_event_from(item: &Item) -> StoreResult<StoredEvent> {
    Ok(StoredEvent {
        project_id: get_n(item, "project_id").ok_or_else(|| corrupt("event"))?,
        event_id: get_s(item, "event_id").ok_or_else(|| corrupt("event"))?,
        issue_id: IssueId(get_n(item, "issue_id").ok_or_else(|| corrupt("event"))?),
        timestamp: get_n::<i64>(item, "ts").and_then(Timestamp::from_unix_millis).ok_or_else(|| corrupt("event"))?,
        body: BodyRef {
            key: get_s(item, "body_key").ok_or_else(|| corrupt("event"))?,
            offset: get_n(item, "body_offset").unwrap_or(0),
            len: get_n(item, "body_len").unwrap_or(0),
        },
    })
}

/// An events page cursor: the last key of the page, as `ts:project_id:event_id`.
fn cursor_key(cursor: &str, issue: IssueId) -> Option<Item> {
    let mut parts = cursor.splitn(3, ':');
    let ts: i64 = parts.next()?.parse().ok()?;
    let project: u64 = parts.next()?.parse().ok()?;
    let event_id =
        parts.next().filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))?;
    Some(Item::from([
        ("pk".to_owned(), s(format!("{project}/{event_id}"))),
        ("issue_id".to_owned(), n(issue.0)),
        ("ts".to_owned(), n(ts)),
    ]))
}

#[async_trait]
impl IssueStore for DynamoIssueStore {
    async fn record(&self, sighting: &Sighting) -> StoreResult<Recorded> {
        // Most events are the newest of an existing unresolved issue: try that first. When
        // the issue's condition fails, read it and plan exactly; a concurrent writer can
        // still change it in between, so go round a few times.
        let mut plan = Plan::optimistic();
        for _ in 0..5 {
            match self.transact(sighting, &plan).await? {
                Ok(()) => {
                    self.note_user(sighting).await?;
                    if matches!(plan, Plan::Create) {
                        self.note_first_day(sighting).await?;
                    }
                    return Ok(plan.outcome());
                }
                Err(true) => return Ok(Recorded::Duplicate),
                Err(false) => {
                    let issue = self.read_issue(sighting.project_id, sighting.issue_id).await?;
                    plan = Plan::from_issue(issue.as_ref(), sighting);
                }
            }
        }
        Err(StoreError::retryable("issue record kept racing with concurrent writers"))
    }

    async fn set_status(&self, issue: &Issue, change: &StatusChange) -> StoreResult<()> {
        let mut a = Assignments::new();
        a.set_change(change)?;
        a.set("seen_day", day_key(issue.project_id, change.status, issue.last_seen));
        a.set("list_seen", list_seen(issue.last_seen));
        a.set("first_day", day_key(issue.project_id, change.status, issue.first_seen));
        let update =
            a.apply(self.issue_key(issue.project_id, issue.id).condition_expression("attribute_exists(pk)"), "")?;
        // A user action, rare: the transaction API takes the `Update` as built.
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
            .await
            .map_err(|e| classify("dynamodb update status", &e))?;
        Ok(())
    }

    async fn issue(&self, id: IssueId) -> StoreResult<Option<Issue>> {
        // The index holds keys only (an issue's every count would rewrite a full copy of it):
        // it names the issue's project, and the issue is read from the table.
        let out = self
            .client
            .query()
            .table_name(&self.issues_table)
            .index_name("by-id")
            .key_condition_expression("issue_id = :id")
            .expression_attribute_values(":id", n(id.0))
            .limit(1)
            .send()
            .await
            .map_err(|e| classify("dynamodb query by-id", &e))?;
        let Some(key) = out.items().first() else { return Ok(None) };
        let project_id = get_s(key, "pk")
            .and_then(|pk| pk.strip_prefix("P#").and_then(|p| p.parse::<u64>().ok()))
            .ok_or_else(|| corrupt("issue key"))?;
        self.read_issue(project_id, id).await
    }

    async fn project_issues(&self, project_id: u64) -> StoreResult<Vec<Issue>> {
        let mut groupings = std::collections::HashMap::new();
        for item in self.partition_items(project_id, "G#").await? {
            if let (Some(sk), Some(g)) = (get_s(&item, "sk"), item.get("grouping")) {
                groupings.insert(sk.trim_start_matches("G#").to_owned(), g.clone());
            }
        }
        let mut issues = Vec::new();
        for mut item in self.partition_items(project_id, "I#").await? {
            let id = get_s(&item, "sk").unwrap_or_default().trim_start_matches("I#").to_owned();
            if let Some(g) = groupings.remove(&id) {
                item.insert("grouping".into(), g);
            }
            issues.push(issue_from(&item)?);
        }
        Ok(issues)
    }

    async fn current_issue(&self, project_id: u64, id: IssueId) -> StoreResult<Option<Issue>> {
        self.read_issue(project_id, id).await
    }

    async fn list_issues(&self, query: &IssueQuery<'_>) -> StoreResult<IssuePage> {
        self.list(query).await
    }

    async fn set_assignee(&self, issue: &Issue, assignee: Option<&str>) -> StoreResult<()> {
        let update = self
            .client
            .update_item()
            .table_name(&self.issues_table)
            .key("pk", s(format!("P#{}", issue.project_id)))
            .key("sk", s(format!("I#{}", issue.id)))
            .condition_expression("attribute_exists(pk)");
        let update = match assignee {
            Some(a) => update.update_expression("SET assignee = :a").expression_attribute_values(":a", s(a)),
            None => update.update_expression("REMOVE assignee"),
        };
        update.send().await.map_err(|e| classify("dynamodb update assignee", &e))?;
        Ok(())
    }

    async fn delete_issue(&self, issue: &Issue) -> StoreResult<()> {
        for sk in [format!("I#{}", issue.id), grouping_sk(issue.id)] {
            self.client
                .delete_item()
                .table_name(&self.issues_table)
                .key("pk", s(format!("P#{}", issue.project_id)))
                .key("sk", s(sk))
                .send()
                .await
                .map_err(|e| classify("dynamodb delete issue", &e))?;
        }
        Ok(())
    }

    async fn issue_events(
        &self,
        id: IssueId,
        order: EventOrder,
        cursor: Option<&str>,
        limit: usize,
    ) -> StoreResult<EventPage> {
        let start = match cursor {
            Some(c) => Some(cursor_key(c, id).ok_or_else(|| StoreError::permanent("malformed events cursor"))?),
            None => None,
        };
        let out = self
            .client
            .query()
            .table_name(&self.events_table)
            .index_name("by-issue")
            .key_condition_expression("issue_id = :id")
            .expression_attribute_values(":id", n(id.0))
            .scan_index_forward(order == EventOrder::OldestFirst)
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| classify("dynamodb query by-issue", &e))?;
        let events = out.items().iter().map(stored_event_from).collect::<StoreResult<Vec<_>>>()?;
        let next = match (&out.last_evaluated_key, events.last()) {
            (Some(k), Some(last)) if !k.is_empty() => {
                Some(format!("{}:{}:{}", last.timestamp.unix_millis(), last.project_id, last.event_id))
            }
            _ => None,
        };
        Ok(EventPage { events, next })
    }

    async fn add_feedback(&self, f: &Feedback) -> StoreResult<()> {
        self.put_feedback(f).await
    }

    async fn feedback(&self, project_id: u64, scope: FeedbackScope, limit: usize) -> StoreResult<Vec<Feedback>> {
        self.list_feedback(project_id, scope, limit).await
    }

    async fn event(&self, project_id: u64, event_id: &str) -> StoreResult<Option<StoredEvent>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.events_table)
            .key("pk", s(format!("{project_id}/{event_id}")))
            .send()
            .await
            .map_err(|e| classify("dynamodb get_item event", &e))?;
        out.item.as_ref().map(stored_event_from).transpose()
    }
}
