//! DynamoDB adapters: the directory (orgs, projects, keys, users, tokens) and the issue store.
//!
//! Directory table (`pk`, `sk` strings):
//! | pk              | sk              | what                                   |
//! |-----------------|-----------------|----------------------------------------|
//! | `ORG#slug`      | `ORG`           | organization                           |
//! | `ORG#slug`      | `PROJECT#slug`  | project slug → id                      |
//! | `ORG#slug`      | `MEMBER#email`  | membership and role                    |
//! | `PROJECT#id`    | `PROJECT`       | project                                |
//! | `KEY#digest`    | `KEY`           | DSN key, under the SHA-256 of its key  |
//! | `USER#email`    | `USER`          | user, argon2id password hash           |
//! | `TOKEN#digest`  | `TOKEN`         | API token, under its SHA-256 only      |
//! | `COUNTER`       | `PROJECT`       | last project id handed out             |
//!
//! Issues table: `pk` = `P#project_id`, `sk` = `I#issue_id`, GSI `by-id` on `issue_id` (N).
//! Events table: `pk` = `project_id/event_id`, GSI `by-issue` on `issue_id` (N) + `ts` (N, ms),
//! TTL on `expires_at`.

use crate::classify;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use errata_domain::issue::Recorded;
use errata_domain::secrets::{key_digest, secrets_equal};
use errata_domain::Timestamp;
use errata_domain::{
    ApiToken, Grouping, Issue, IssueId, IssueStatus, Member, Org, Project, ProjectKey, RateLimit, Role, Sighting,
    StoredEvent, User,
};
use errata_ports::{Directory, IssueStore, RateLimiter, StoreError, StoreResult};
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
fn get_s(item: &Item, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}
fn get_n<T: std::str::FromStr>(item: &Item, k: &str) -> Option<T> {
    item.get(k).and_then(|v| v.as_n().ok()).and_then(|s| s.parse().ok())
}
fn get_bool(item: &Item, k: &str) -> Option<bool> {
    item.get(k).and_then(|v| v.as_bool().ok()).copied()
}
fn corrupt(what: &str) -> StoreError {
    StoreError::permanent(format!("stored {what} is missing required attributes"))
}

/// Organizations, projects, keys, users, memberships and API tokens in one table.
pub struct DynamoDirectory {
    client: Client,
    table: String,
}

impl DynamoDirectory {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Self {
        DynamoDirectory { client: Client::new(config), table }
    }

    async fn get(&self, pk: String, sk: &str) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .send()
            .await
            .map_err(|e| classify("dynamodb get_item", &e))?;
        Ok(out.item)
    }

    async fn put(&self, mut item: Item, pk: String, sk: &str) -> StoreResult<()> {
        item.insert("pk".into(), s(pk));
        item.insert("sk".into(), s(sk));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify("dynamodb put_item", &e))?;
        Ok(())
    }

    async fn next_project_id(&self) -> StoreResult<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s("COUNTER"))
            .key("sk", s("PROJECT"))
            .update_expression("ADD #v :one")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| classify("dynamodb update_item", &e))?;
        out.attributes.as_ref().and_then(|a| get_n(a, "value")).ok_or_else(|| corrupt("project counter"))
    }
}

fn project_from(item: &Item) -> StoreResult<Project> {
    Ok(Project {
        id: get_n(item, "id").ok_or_else(|| corrupt("project"))?,
        org: get_s(item, "org").ok_or_else(|| corrupt("project"))?,
        slug: get_s(item, "slug").ok_or_else(|| corrupt("project"))?,
        name: get_s(item, "name").unwrap_or_default(),
        platform: get_s(item, "platform"),
        quota: rate_limit_from(item),
    })
}

/// A rate limit stored as `rl_count` + `rl_window` attributes.
fn rate_limit_from(item: &Item) -> Option<RateLimit> {
    Some(RateLimit { count: get_n(item, "rl_count")?, window_secs: get_n(item, "rl_window")? })
}

fn put_rate_limit(item: &mut Item, limit: Option<RateLimit>) {
    if let Some(l) = limit {
        item.insert("rl_count".into(), n(l.count));
        item.insert("rl_window".into(), n(l.window_secs));
    }
}

#[async_trait]
impl Directory for DynamoDirectory {
    async fn project_key(&self, public_key: &str) -> StoreResult<Option<ProjectKey>> {
        let Some(item) = self.get(format!("KEY#{}", key_digest(public_key)), "KEY").await? else { return Ok(None) };
        let stored = get_s(&item, "public_key").ok_or_else(|| corrupt("key"))?;
        // The digest matched; compare the key itself too, in constant time.
        if !secrets_equal(&stored, public_key) {
            return Ok(None);
        }
        Ok(Some(ProjectKey {
            public_key: stored,
            project_id: get_n(&item, "project_id").ok_or_else(|| corrupt("key"))?,
            label: get_s(&item, "label").unwrap_or_default(),
            enabled: get_bool(&item, "enabled").unwrap_or(true),
            rate_limit: rate_limit_from(&item),
        }))
    }

    async fn org(&self, slug: &str) -> StoreResult<Option<Org>> {
        let item = self.get(format!("ORG#{slug}"), "ORG").await?;
        Ok(item.map(|i| Org { slug: slug.to_owned(), name: get_s(&i, "name").unwrap_or_else(|| slug.to_owned()) }))
    }

    async fn project(&self, id: u64) -> StoreResult<Option<Project>> {
        self.get(format!("PROJECT#{id}"), "PROJECT").await?.as_ref().map(project_from).transpose()
    }

    async fn project_by_slug(&self, org: &str, slug: &str) -> StoreResult<Option<Project>> {
        let Some(link) = self.get(format!("ORG#{org}"), &format!("PROJECT#{slug}")).await? else { return Ok(None) };
        let id: u64 = get_n(&link, "id").ok_or_else(|| corrupt("project link"))?;
        // Check the project still belongs to this organization.
        Ok(self.project(id).await?.filter(|p| p.org == org))
    }

    async fn member(&self, org: &str, email: &str) -> StoreResult<Option<Member>> {
        let item = self.get(format!("ORG#{org}"), &format!("MEMBER#{email}")).await?;
        Ok(item.and_then(|i| {
            let role = Role::parse(&get_s(&i, "role")?)?;
            Some(Member { org: org.to_owned(), email: email.to_owned(), role })
        }))
    }

    async fn user(&self, email: &str) -> StoreResult<Option<User>> {
        let item = self.get(format!("USER#{email}"), "USER").await?;
        item.map(|i| {
            Ok(User {
                email: email.to_owned(),
                name: get_s(&i, "name").unwrap_or_default(),
                password_hash: get_s(&i, "password_hash").ok_or_else(|| corrupt("user"))?,
            })
        })
        .transpose()
    }

    async fn api_token(&self, digest: &str) -> StoreResult<Option<ApiToken>> {
        let Some(item) = self.get(format!("TOKEN#{digest}"), "TOKEN").await? else { return Ok(None) };
        let stored = get_s(&item, "digest").ok_or_else(|| corrupt("token"))?;
        if !secrets_equal(&stored, digest) {
            return Ok(None);
        }
        Ok(Some(ApiToken {
            digest: stored,
            email: get_s(&item, "email").ok_or_else(|| corrupt("token"))?,
            label: get_s(&item, "label").unwrap_or_default(),
            scopes: item.get("scopes").and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default(),
        }))
    }

    async fn put_org(&self, org: &Org) -> StoreResult<()> {
        self.put(HashMap::from([("name".into(), s(&org.name))]), format!("ORG#{}", org.slug), "ORG").await
    }

    async fn put_project(&self, project: &Project) -> StoreResult<Project> {
        let mut p = project.clone();
        if p.id == 0 {
            p.id = self.next_project_id().await?;
        }
        let mut item = HashMap::from([
            ("id".into(), n(p.id)),
            ("org".into(), s(&p.org)),
            ("slug".into(), s(&p.slug)),
            ("name".into(), s(&p.name)),
        ]);
        if let Some(platform) = &p.platform {
            item.insert("platform".into(), s(platform));
        }
        put_rate_limit(&mut item, p.quota);
        self.put(item, format!("PROJECT#{}", p.id), "PROJECT").await?;
        self.put(HashMap::from([("id".into(), n(p.id))]), format!("ORG#{}", p.org), &format!("PROJECT#{}", p.slug))
            .await?;
        Ok(p)
    }

    async fn put_project_key(&self, key: &ProjectKey) -> StoreResult<()> {
        let mut item = HashMap::from([
            ("public_key".into(), s(&key.public_key)),
            ("project_id".into(), n(key.project_id)),
            ("label".into(), s(&key.label)),
            ("enabled".into(), AttributeValue::Bool(key.enabled)),
        ]);
        put_rate_limit(&mut item, key.rate_limit);
        self.put(item, format!("KEY#{}", key_digest(&key.public_key)), "KEY").await
    }

    async fn put_user(&self, user: &User) -> StoreResult<()> {
        let item = HashMap::from([("name".into(), s(&user.name)), ("password_hash".into(), s(&user.password_hash))]);
        self.put(item, format!("USER#{}", user.email), "USER").await
    }

    async fn put_member(&self, m: &Member) -> StoreResult<()> {
        self.put(
            HashMap::from([("role".into(), s(m.role.as_str()))]),
            format!("ORG#{}", m.org),
            &format!("MEMBER#{}", m.email),
        )
        .await
    }

    async fn put_api_token(&self, t: &ApiToken) -> StoreResult<()> {
        let mut item = HashMap::from([
            ("digest".into(), s(&t.digest)),
            ("email".into(), s(&t.email)),
            ("label".into(), s(&t.label)),
        ]);
        if !t.scopes.is_empty() {
            item.insert("scopes".into(), AttributeValue::Ss(t.scopes.clone()));
        }
        self.put(item, format!("TOKEN#{}", t.digest), "TOKEN").await
    }
}

/// How a sighting's write touches its issue. Event times arrive out of order (SQS batches,
/// concurrent processors), so `first_seen` and `last_seen` are kept as min and max with
/// conditions rather than overwritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IssueWrite {
    /// The usual case: the event is the newest; moves `last_seen`.
    Newer,
    /// The event predates the issue's first sighting; moves `first_seen`.
    Older,
    /// Between first and last seen: only counts.
    Between,
    /// The issue does not exist yet.
    Create,
}

/// Issues and their event index.
pub struct DynamoIssueStore {
    client: Client,
    issues_table: String,
    events_table: String,
    /// How long event index entries live (DynamoDB TTL), in days.
    retention_days: i64,
}

impl DynamoIssueStore {
    pub fn new(
        config: &aws_config::SdkConfig,
        issues_table: String,
        events_table: String,
        retention_days: i64,
    ) -> Self {
        DynamoIssueStore { client: Client::new(config), issues_table, events_table, retention_days }
    }

    fn event_put(&self, s_: &Sighting) -> StoreResult<TransactWriteItem> {
        let expires = s_.timestamp.0.unix_timestamp() + self.retention_days * 86_400;
        let put = Put::builder()
            .table_name(&self.events_table)
            .item("pk", s(format!("{}/{}", s_.project_id, s_.event_id)))
            .item("project_id", n(s_.project_id))
            .item("event_id", s(&s_.event_id))
            .item("issue_id", n(s_.issue_id.0))
            .item("ts", n(s_.timestamp.unix_millis()))
            .item("body_key", s(&s_.body_key))
            .item("expires_at", n(expires))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::permanent(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The counter update for an existing issue (`create` false) or the creation of a new one.
    fn issue_update(&self, s_: &Sighting, mode: IssueWrite) -> StoreResult<TransactWriteItem> {
        let key_pk = s(format!("P#{}", s_.project_id));
        let key_sk = s(format!("I#{}", s_.issue_id));
        let ts = n(s_.timestamp.unix_millis());
        let update = if mode == IssueWrite::Create {
            let grouping = serde_json::to_string(&s_.grouping).map_err(|e| StoreError::permanent(e.to_string()))?;
            let fields = [
                ("issue_id", n(s_.issue_id.0)),
                ("project_id", n(s_.project_id)),
                ("group_hash", s(&s_.grouping.hash)),
                ("title", s(&s_.summary.title)),
                ("culprit", s(&s_.summary.culprit)),
                ("level", s(&s_.summary.level)),
                ("issue_type", s(&s_.summary.ty)),
                ("metadata", s(s_.summary.metadata.to_string())),
                ("platform", s(&s_.platform)),
                ("status", s(IssueStatus::Unresolved.as_str())),
                ("first_seen", ts.clone()),
                ("last_seen", ts),
                ("times_seen", n(1)),
                ("grouping", s(grouping)),
            ];
            // Every name goes through an alias: several (level, status, grouping) are
            // DynamoDB reserved words.
            let set: Vec<String> = (0..fields.len()).map(|i| format!("#f{i} = :f{i}")).collect();
            let mut update = Update::builder()
                .table_name(&self.issues_table)
                .key("pk", key_pk)
                .key("sk", key_sk)
                .update_expression(format!("SET {}", set.join(", ")))
                .condition_expression("attribute_not_exists(pk)");
            for (i, (name, value)) in fields.into_iter().enumerate() {
                update = update
                    .expression_attribute_names(format!("#f{i}"), name)
                    .expression_attribute_values(format!(":f{i}"), value);
            }
            update
        } else {
            let (expression, condition) = match mode {
                IssueWrite::Newer => {
                    ("SET last_seen = :ts ADD times_seen :one", "attribute_exists(pk) AND last_seen <= :ts")
                }
                IssueWrite::Older => {
                    ("SET first_seen = :ts ADD times_seen :one", "attribute_exists(pk) AND first_seen > :ts")
                }
                _ => ("ADD times_seen :one", "attribute_exists(pk)"),
            };
            let update = Update::builder()
                .table_name(&self.issues_table)
                .key("pk", key_pk)
                .key("sk", key_sk)
                .update_expression(expression)
                .condition_expression(condition)
                .expression_attribute_values(":one", n(1));
            if mode == IssueWrite::Between {
                update
            } else {
                update.expression_attribute_values(":ts", ts)
            }
        };
        let update = update.build().map_err(|e| StoreError::permanent(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs the event put + issue update transaction. `Ok(Err(failed))` means a condition
    /// cancelled it: `failed[0]` is the event (a duplicate), `failed[1]` the issue.
    async fn transact(&self, s_: &Sighting, mode: IssueWrite) -> StoreResult<Result<(), Vec<bool>>> {
        let result = self
            .client
            .transact_write_items()
            .transact_items(self.event_put(s_)?)
            .transact_items(self.issue_update(s_, mode)?)
            .send()
            .await;
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
                        return Ok(Err(failed));
                    }
                }
                Err(classify("dynamodb transact_write_items", &e))
            }
        }
    }
}

fn issue_from(item: &Item) -> StoreResult<Issue> {
    let grouping: Grouping =
        get_s(item, "grouping").and_then(|g| serde_json::from_str(&g).ok()).ok_or_else(|| corrupt("issue grouping"))?;
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
        first_seen: ts("first_seen")?,
        last_seen: ts("last_seen")?,
        times_seen: get_n(item, "times_seen").unwrap_or(0),
        grouping,
    })
}

#[async_trait]
impl IssueStore for DynamoIssueStore {
    async fn record(&self, sighting: &Sighting) -> StoreResult<Recorded> {
        // Most events are the newest of an existing issue: try that first, then the rarer
        // cases. `last_seen` only grows and `first_seen` only shrinks, so once a condition
        // failed it stays failed, and `Between` is right whenever both did. Two processors
        // creating one issue race on the create's condition; the loser goes round again.
        for _ in 0..3 {
            for mode in [IssueWrite::Newer, IssueWrite::Older, IssueWrite::Between, IssueWrite::Create] {
                match self.transact(sighting, mode).await? {
                    Ok(()) if mode == IssueWrite::Create => return Ok(Recorded::NewIssue),
                    Ok(()) => return Ok(Recorded::Counted),
                    Err(failed) if failed.first() == Some(&true) => return Ok(Recorded::Duplicate),
                    Err(_) => {}
                }
            }
        }
        Err(StoreError::retryable("issue record kept racing with concurrent writers"))
    }

    async fn issue(&self, id: IssueId) -> StoreResult<Option<Issue>> {
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
        out.items().first().map(issue_from).transpose()
    }

    async fn project_issues(&self, project_id: u64) -> StoreResult<Vec<Issue>> {
        let mut issues = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.issues_table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("P#{project_id}")))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("dynamodb query issues", &e))?;
            for item in out.items() {
                issues.push(issue_from(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(issues)
    }

    async fn latest_event(&self, id: IssueId) -> StoreResult<Option<StoredEvent>> {
        let out = self
            .client
            .query()
            .table_name(&self.events_table)
            .index_name("by-issue")
            .key_condition_expression("issue_id = :id")
            .expression_attribute_values(":id", n(id.0))
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(|e| classify("dynamodb query by-issue", &e))?;
        out.items()
            .first()
            .map(|item| {
                Ok(StoredEvent {
                    project_id: get_n(item, "project_id").ok_or_else(|| corrupt("event"))?,
                    event_id: get_s(item, "event_id").ok_or_else(|| corrupt("event"))?,
                    issue_id: id,
                    timestamp: get_n::<i64>(item, "ts")
                        .and_then(Timestamp::from_unix_millis)
                        .ok_or_else(|| corrupt("event"))?,
                    body_key: get_s(item, "body_key").ok_or_else(|| corrupt("event"))?,
                })
            })
            .transpose()
    }
}

/// Rate-limit counters: one item per scope and window, expiring (TTL) after the window.
/// Quotas table: `pk` = `scope@window_start`, `n` the count, `expires_at`.
pub struct DynamoRateLimiter {
    client: Client,
    table: String,
}

impl DynamoRateLimiter {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Self {
        DynamoRateLimiter { client: Client::new(config), table }
    }
}

#[async_trait]
impl RateLimiter for DynamoRateLimiter {
    async fn try_take(&self, scope: &str, quantity: u64, limit: &RateLimit, now_secs: i64) -> StoreResult<Option<u64>> {
        let (start, retry_after) = limit.window(now_secs);
        if quantity > limit.count {
            return Ok(Some(retry_after));
        }
        // One conditional write: the take happens only if it keeps the count within the limit.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("{scope}@{start}")))
            .update_expression("ADD #n :q SET expires_at = :exp")
            .condition_expression("attribute_not_exists(#n) OR #n <= :room")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":q", n(quantity))
            .expression_attribute_values(":room", n(limit.count - quantity))
            .expression_attribute_values(":exp", n(start + limit.window_secs as i64 + 60))
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(Some(retry_after))
            }
            Err(e) => Err(classify("dynamodb update_item quota", &e)),
        }
    }
}
