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
//! The issue store is in `issues.rs`.

use crate::classify;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use errata_domain::secrets::{key_digest, secrets_equal};
use errata_domain::{ApiToken, Member, Org, Project, ProjectKey, RateLimit, Role, User};
use errata_ports::{Directory, RateLimiter, StoreError, StoreResult};
use std::collections::HashMap;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
pub(crate) fn get_s(item: &Item, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}
pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, k: &str) -> Option<T> {
    item.get(k).and_then(|v| v.as_n().ok()).and_then(|s| s.parse().ok())
}
pub(crate) fn get_bool(item: &Item, k: &str) -> Option<bool> {
    item.get(k).and_then(|v| v.as_bool().ok()).copied()
}
pub(crate) fn corrupt(what: &str) -> StoreError {
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
        settings: get_s(item, "settings").and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default(),
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
        let settings = serde_json::to_string(&p.settings).map_err(|e| StoreError::permanent(e.to_string()))?;
        item.insert("settings".into(), s(settings));
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
