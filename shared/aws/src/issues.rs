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
//! is, and `b`, the token of the batch that wrote it), GSI `by-issue` on `issue_id` (N) + `ts`
//! (N, ms); `pk` = `B/token` marks a batch whose events are all counted (issues keep the tokens
//! of batches not known done in `applied`; see `counting.rs`); `pk` = `U/issue_id/user_hash`
//! marks a user already counted for an issue. TTL on `expires_at`.

use crate::classify;
use crate::dynamodb::{corrupt, get_n, get_s, n, s, Item};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use errata_domain::issue::Recorded;
use errata_domain::{
    BodyRef, Feedback, Grouping, Issue, IssueId, IssueStatus, Sighting, StatusChange, StatusDetails, StoredEvent,
    Substatus, Timestamp,
};
use errata_ports::{
    EventOrder, EventPage, FeedbackScope, IssuePage, IssueQuery, IssueStore, Purge, StoreError, StoreResult,
};

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

/// Issues and their event index.
pub struct DynamoIssueStore {
    pub(crate) client: Client,
    pub(crate) issues_table: String,
    pub(crate) events_table: String,
    /// How long event index entries live (DynamoDB TTL), in days.
    pub(crate) retention_days: i64,
    /// How long a batch's writer can run (its function's timeout), in ms: see `counting.rs`.
    pub(crate) writer_lease_ms: i64,
}

/// What an issue's count writes of the batch's token (see `counting.rs`).
pub(crate) struct Applied<'a> {
    pub token: &'a str,
    pub count: usize,
    /// Whether the issue has an `applied` map to add the token to.
    pub has_map: bool,
    /// Tokens the issue can forget.
    pub forget: &'a [&'a str],
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
            writer_lease_ms: 15 * 60 * 1000,
        }
    }

    /// How long one batch can take to record, at most: the processor's timeout. A batch that
    /// died is taken for gone a while after that, and its events are counted by whichever
    /// batch finds them (default: 15 minutes, Lambda's longest timeout).
    pub fn with_writer_lease(mut self, lease: std::time::Duration) -> Self {
        self.writer_lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 4);
        self
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

    /// An event's index entry.
    pub(crate) fn entry_item(&self, s_: &Sighting) -> Item {
        let mut item = Item::from([
            ("pk".to_owned(), s(format!("{}/{}", s_.project_id, s_.event_id))),
            ("project_id".to_owned(), n(s_.project_id)),
            ("event_id".to_owned(), s(&s_.event_id)),
            ("issue_id".to_owned(), n(s_.issue_id.0)),
            ("ts".to_owned(), n(s_.timestamp.unix_millis())),
            ("body_key".to_owned(), s(&s_.body.key)),
            ("body_offset".to_owned(), n(s_.body.offset)),
            ("body_len".to_owned(), n(s_.body.len)),
            ("expires_at".to_owned(), self.event_expires_at(s_)),
        ]);
        // Purging the event deletes its attachments only when it has some.
        if s_.has_attachments {
            item.insert("attachments".to_owned(), AttributeValue::Bool(true));
        }
        item
    }

    /// A new issue's grouping (its components can be long) as an item of its own, written once:
    /// the issue item, rewritten by every count and copied into `by-last-seen`, stays small.
    pub(crate) async fn put_grouping(&self, s_: &Sighting) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.issues_table)
            .item("pk", s(format!("P#{}", s_.project_id)))
            .item("sk", s(grouping_sk(s_.issue_id)))
            .item("grouping", json_attr(&s_.grouping)?)
            .send()
            .await
            .map_err(|e| classify("dynamodb put_item issue grouping", &e))?;
        Ok(())
    }

    fn issue_key(&self, project_id: u64, id: IssueId) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.issues_table)
            .key("pk", s(format!("P#{project_id}")))
            .key("sk", s(format!("I#{id}")))
    }

    /// An issue's update for a batch's new events of it: its creation (`stored` is none) or its
    /// counters, times and status, moved from `stored` to `after` under conditions that hold
    /// only while the issue is still as read, and the batch's token (`applied`).
    pub(crate) fn group_update(
        &self,
        stored: Option<&Issue>,
        after: &Issue,
        events: &[&Sighting],
        applied: &Applied<'_>,
    ) -> StoreResult<Update> {
        let applied_map =
            || AttributeValue::M(std::collections::HashMap::from([(applied.token.to_owned(), n(applied.count))]));
        let project_id = after.project_id;
        let mut a = Assignments::new();
        let envs: Vec<String> = {
            let mut envs: Vec<String> = events.iter().filter_map(|e| e.environment.clone()).collect();
            envs.sort();
            envs.dedup();
            envs
        };
        let update = match stored {
            None => {
                a.set("issue_id", n(after.id.0));
                a.set("project_id", n(project_id));
                a.set("group_hash", s(&after.hash));
                a.set("title", s(&after.title));
                a.set("culprit", s(&after.culprit));
                a.set("level", s(&after.level));
                a.set("issue_type", s(&after.ty));
                a.set("metadata", s(after.metadata.to_string()));
                a.set("platform", s(&after.platform));
                a.set("status", s(after.status.as_str()));
                a.set("substatus", s(after.substatus.as_str()));
                a.set("status_details", json_attr(&after.status_details)?);
                a.set("first_seen", n(after.first_seen.unix_millis()));
                a.set("last_seen", n(after.last_seen.unix_millis()));
                a.set("seen_day", day_key(project_id, after.status, after.last_seen));
                a.set("list_seen", list_seen(after.last_seen));
                a.set("first_day", day_key(project_id, after.status, after.first_seen));
                if !envs.is_empty() {
                    a.set("envs", AttributeValue::Ss(envs));
                }
                a.set("times_seen", n(after.times_seen));
                a.set("users_seen", n(0));
                if let Some(release) = &after.first_release {
                    a.set("first_release", s(release));
                }
                if let Some(release) = &after.last_release {
                    a.set("last_release", s(release));
                }
                a.set("applied", applied_map());
                a.apply(self.issue_key(project_id, after.id).condition_expression("attribute_not_exists(pk)"), "")?
            }
            Some(before) => {
                let mut conditions = vec!["attribute_exists(pk)".to_owned()];
                let moved = (after.status, after.substatus, &after.status_details)
                    != (before.status, before.substatus, &before.status_details);
                let newer = events.iter().any(|e| e.timestamp >= before.last_seen);
                let older = after.first_seen < before.first_seen;
                if newer || moved {
                    a.set("seen_day", day_key(project_id, after.status, after.last_seen));
                    a.set("list_seen", list_seen(after.last_seen));
                }
                if older || moved {
                    a.set("first_day", day_key(project_id, after.status, after.first_seen));
                }
                if newer {
                    a.set("last_seen", n(after.last_seen.unix_millis()));
                    conditions.push(format!("#f{} <= :last", a.names.len() - 1));
                    a.values.push((":last".into(), n(after.last_seen.unix_millis())));
                    if after.last_release != before.last_release {
                        if let Some(release) = &after.last_release {
                            a.set("last_release", s(release));
                        }
                    }
                }
                if older {
                    a.set("first_seen", n(after.first_seen.unix_millis()));
                    conditions.push(format!("#f{} > :first", a.names.len() - 1));
                    a.values.push((":first".into(), n(after.first_seen.unix_millis())));
                }
                if moved {
                    a.set_change(&StatusChange {
                        status: after.status,
                        substatus: after.substatus,
                        details: after.status_details.clone(),
                    })?;
                }
                a.names.push(("#st".into(), "status".into()));
                a.values.push((":st".into(), s(before.status.as_str())));
                conditions.push("#st = :st".into());
                if before.status == IssueStatus::Ignored && before.status_details.ignore_count.is_some() {
                    a.values.push((":seen".into(), n(before.times_seen)));
                    conditions.push("times_seen = :seen".into());
                }
                // Counted once per token: the condition refuses a second attempt of this batch.
                if applied.has_map {
                    a.set.push("#ap.#tk = :tkn".into());
                    a.names.push(("#ap".into(), "applied".into()));
                    a.names.push(("#tk".into(), applied.token.to_owned()));
                    a.values.push((":tkn".into(), n(applied.count)));
                    conditions.push("attribute_not_exists(#ap.#tk)".into());
                } else {
                    a.set("applied", applied_map());
                    conditions.push(format!("attribute_not_exists(#f{})", a.names.len() - 1));
                }
                a.values.push((":count".into(), n(events.len())));
                let mut add = "ADD times_seen :count".to_owned();
                if !envs.is_empty() {
                    a.values.push((":env".into(), AttributeValue::Ss(envs)));
                    add.push_str(", envs :env");
                }
                if applied.has_map && !applied.forget.is_empty() {
                    let mut remove = Vec::new();
                    for (i, t) in applied.forget.iter().enumerate() {
                        a.names.push((format!("#fg{i}"), (*t).to_owned()));
                        remove.push(format!("#ap.#fg{i}"));
                    }
                    add.push_str(&format!(" REMOVE {}", remove.join(", ")));
                }
                a.apply(self.issue_key(project_id, after.id).condition_expression(conditions.join(" AND ")), &add)?
            }
        };
        Ok(update)
    }

    /// Counts each new (issue, user) of the events once: a strongly consistent read first
    /// (a fifth of a write's price), then the marker and the counter for users not seen yet.
    pub(crate) async fn note_users(&self, events: &[&Sighting]) -> StoreResult<()> {
        let mut seen = std::collections::HashSet::new();
        for e in events {
            if e.user_hash.as_ref().is_some_and(|u| seen.insert(u.clone())) {
                self.note_user(e).await?;
            }
        }
        Ok(())
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
    /// Most users were seen before: a read (a fifth of a refused write's price) finds them.
    async fn note_user(&self, s_: &Sighting) -> StoreResult<()> {
        let Some(user) = &s_.user_hash else { return Ok(()) };
        let known = self
            .client
            .get_item()
            .table_name(&self.events_table)
            .key("pk", s(format!("U/{}/{}", s_.issue_id, user)))
            .projection_expression("pk")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("dynamodb get_item user", &e))?;
        if known.item.is_some() {
            return Ok(());
        }
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
        self.record_batch(std::slice::from_ref(sighting))
            .await
            .pop()
            .unwrap_or_else(|| Err(StoreError::permanent("not recorded")))
    }

    async fn record_batch(&self, sightings: &[Sighting]) -> Vec<StoreResult<Recorded>> {
        self.count_batch(sightings).await
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
        // The marker first: from now on the issue's events are gone for readers.
        self.mark_deleted(issue).await?;
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

    async fn deleted_before(&self, project_id: u64, issue_id: IssueId) -> StoreResult<Option<i64>> {
        self.deleted_at(project_id, issue_id).await
    }

    async fn purge_events(&self, project_id: u64, issue_id: IssueId, limit: usize) -> StoreResult<Purge> {
        self.purge(project_id, issue_id, limit).await
    }

    async fn pending_purges(&self) -> StoreResult<Vec<(u64, IssueId)>> {
        self.purges().await
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
        // A purged event's entry stays (for deduplication) without an issue: it is gone.
        out.item.as_ref().filter(|i| i.contains_key("issue_id")).map(stored_event_from).transpose()
    }
}
