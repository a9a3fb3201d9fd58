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
//! | `USER#email`    | `MEMBER#org`    | copy of a membership, to list a user's organizations |
//! | `USER#email`    | `TOKEN#digest`  | copy of a token, to list a user's tokens |
//! | `PROJECT#id`    | `KEY#public`    | copy of a DSN key, to list a project's keys |
//! | `SESSION#digest`| `SESSION`       | browser session (TTL `expires_at`)     |
//! | `USER#email`    | `SESSION#digest`| copy of a session, to list a user's sign-ins (TTL) |
//! | `RESET#digest`  | `RESET`         | password reset, under the SHA-256 of its secret (TTL) |
//! | `AUDIT#org`     | `ms#id`         | audit log entry (JSON in `data`, TTL a year) |
//! | `INVITE#digest` | `INVITE`        | invitation, under the SHA-256 of its secret (TTL) |
//! | `ORG#slug`      | `INVITE#email`  | copy of a pending invitation           |
//! | `ORG#slug`      | `RELEASE#version` | release (sentry-cli `releases new`)  |
//! | `PROJECT#id`    | `DIF#debugid#id`| debug file (JSON in `data`)            |
//! | `PROJECT#id`    | `BUNDLE#sha1`   | source-map artifact bundle (JSON in `data`) |
//! | `COUNTER`       | `PROJECT`       | last project id handed out             |
//! | `SETUP`         | `SETUP`         | first-run setup claimed                |
//!
//! The issue store is in `issues.rs`.

use crate::classify;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use errata_domain::secrets::{key_digest, secrets_equal};
use errata_domain::{ApiToken, Invite, Member, Org, Project, ProjectKey, RateLimit, Role, Session, User};
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
    pub(crate) client: Client,
    pub(crate) table: String,
}

impl DynamoDirectory {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Self {
        DynamoDirectory {
            client: Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(config).interceptor(crate::meter::Meter).build(),
            ),
            table,
        }
    }

    pub(crate) async fn get(&self, pk: String, sk: &str) -> StoreResult<Option<Item>> {
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

    pub(crate) async fn put(&self, mut item: Item, pk: String, sk: &str) -> StoreResult<()> {
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

    pub(crate) async fn delete(&self, pk: String, sk: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .send()
            .await
            .map_err(|e| classify("dynamodb delete_item", &e))?;
        Ok(())
    }

    /// Writes the item unless one with its key exists; `false` when it did.
    async fn put_if_absent(&self, mut item: Item, pk: String, sk: &str) -> StoreResult<bool> {
        item.insert("pk".into(), s(pk));
        item.insert("sk".into(), s(sk));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify("dynamodb put_item if absent", &e)),
        }
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`, page after page: a
    /// listing is never cut short. What can grow large is bounded where it is written (a
    /// project's debug files and artifact bundles, an organization's members and keys).
    pub(crate) async fn list(&self, pk: String, prefix: &str) -> StoreResult<Vec<Item>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .into_paginator()
            .items()
            .send();
        let mut items = Vec::new();
        while let Some(item) = pages.next().await {
            items.push(item.map_err(|e| classify("dynamodb query", &e))?);
        }
        Ok(items)
    }

    /// Writes a record kept whole as JSON in the item's `data` attribute.
    async fn put_record<T: serde::Serialize + Sync>(&self, pk: String, sk: &str, record: &T) -> StoreResult<()> {
        let data = serde_json::to_string(record).map_err(|e| StoreError::permanent(e.to_string()))?;
        self.put(HashMap::from([("data".into(), s(&data))]), pk, sk).await
    }

    /// The records `put_record` wrote in partition `pk` below `prefix`.
    async fn records<T: serde::de::DeserializeOwned>(&self, pk: String, prefix: &str) -> StoreResult<Vec<T>> {
        self.list(pk, prefix)
            .await?
            .iter()
            .map(|item| {
                let data = item
                    .get("data")
                    .and_then(|v| v.as_s().ok())
                    .ok_or_else(|| StoreError::permanent(format!("{prefix} record without data")))?;
                serde_json::from_str(data)
                    .map_err(|e| StoreError::permanent(format!("unreadable {prefix} record: {e}")))
            })
            .collect()
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

fn key_from(item: &Item) -> StoreResult<ProjectKey> {
    Ok(ProjectKey {
        public_key: get_s(item, "public_key").ok_or_else(|| corrupt("key"))?,
        project_id: get_n(item, "project_id").ok_or_else(|| corrupt("key"))?,
        label: get_s(item, "label").unwrap_or_default(),
        enabled: get_bool(item, "enabled").unwrap_or(true),
        rate_limit: rate_limit_from(item),
        created_at: get_n(item, "created_at").unwrap_or(0),
    })
}

fn token_from(item: &Item) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        digest: get_s(item, "digest").ok_or_else(|| corrupt("token"))?,
        email: get_s(item, "email").ok_or_else(|| corrupt("token"))?,
        label: get_s(item, "label").unwrap_or_default(),
        scopes: item.get("scopes").and_then(|v| v.as_ss().ok()).cloned().unwrap_or_default(),
        created_at: get_n(item, "created_at").unwrap_or(0),
        last_chars: get_s(item, "last_chars").unwrap_or_default(),
        expires_at: get_n(item, "expires_at"),
    })
}

pub(crate) fn session_from(item: &Item) -> StoreResult<Session> {
    Ok(Session {
        digest: get_s(item, "digest").ok_or_else(|| corrupt("session"))?,
        email: get_s(item, "email").ok_or_else(|| corrupt("session"))?,
        expires_at: get_n(item, "expires_at").ok_or_else(|| corrupt("session"))?,
        created_at: get_n(item, "created_at").unwrap_or(0),
        ip: get_s(item, "ip"),
        user_agent: get_s(item, "user_agent"),
    })
}

pub(crate) fn invite_from(item: &Item) -> StoreResult<Invite> {
    Ok(Invite {
        digest: get_s(item, "digest").ok_or_else(|| corrupt("invite"))?,
        org: get_s(item, "org").ok_or_else(|| corrupt("invite"))?,
        email: get_s(item, "email").ok_or_else(|| corrupt("invite"))?,
        role: get_s(item, "role").and_then(|r| Role::parse(&r)).ok_or_else(|| corrupt("invite"))?,
        invited_by: get_s(item, "invited_by").unwrap_or_default(),
        created_at: get_n(item, "created_at").unwrap_or(0),
        expires_at: get_n(item, "expires_at").ok_or_else(|| corrupt("invite"))?,
    })
}

fn invite_item(i: &Invite) -> Item {
    HashMap::from([
        ("digest".into(), s(&i.digest)),
        ("org".into(), s(&i.org)),
        ("email".into(), s(&i.email)),
        ("role".into(), s(i.role.as_str())),
        ("invited_by".into(), s(&i.invited_by)),
        ("created_at".into(), n(i.created_at)),
        ("expires_at".into(), n(i.expires_at)),
    ])
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
        let key = key_from(&item)?;
        // The digest matched; compare the key itself too, in constant time.
        Ok(secrets_equal(&key.public_key, public_key).then_some(key))
    }

    async fn org(&self, slug: &str) -> StoreResult<Option<Org>> {
        let item = self.get(format!("ORG#{slug}"), "ORG").await?;
        Ok(item.map(|i| Org {
            slug: slug.to_owned(),
            name: get_s(&i, "name").unwrap_or_else(|| slug.to_owned()),
            quota: rate_limit_from(&i),
        }))
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
        let token = token_from(&item)?;
        Ok(secrets_equal(&token.digest, digest).then_some(token))
    }

    async fn put_org(&self, org: &Org) -> StoreResult<()> {
        let mut item = HashMap::from([("name".into(), s(&org.name))]);
        put_rate_limit(&mut item, org.quota);
        self.put(item, format!("ORG#{}", org.slug), "ORG").await
    }

    async fn create_org(&self, org: &Org) -> StoreResult<bool> {
        self.put_if_absent(HashMap::from([("name".into(), s(&org.name))]), format!("ORG#{}", org.slug), "ORG").await
    }

    async fn create_project(&self, project: &Project) -> StoreResult<Option<Project>> {
        let id = self.next_project_id().await?;
        // The slug link is claimed first, under a condition: two creators of one slug cannot
        // both win, and a taken slug never points at a new project.
        let link = HashMap::from([("id".into(), n(id))]);
        if !self.put_if_absent(link, format!("ORG#{}", project.org), &format!("PROJECT#{}", project.slug)).await? {
            return Ok(None);
        }
        self.put_project(&Project { id, ..project.clone() }).await.map(Some)
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
            ("created_at".into(), n(key.created_at)),
        ]);
        put_rate_limit(&mut item, key.rate_limit);
        self.put(item.clone(), format!("KEY#{}", key_digest(&key.public_key)), "KEY").await?;
        self.put(item, format!("PROJECT#{}", key.project_id), &format!("KEY#{}", key.public_key)).await
    }

    async fn put_user(&self, user: &User) -> StoreResult<()> {
        let item = HashMap::from([("name".into(), s(&user.name)), ("password_hash".into(), s(&user.password_hash))]);
        self.put(item, format!("USER#{}", user.email), "USER").await
    }

    async fn put_member(&self, m: &Member) -> StoreResult<()> {
        let item = HashMap::from([("role".into(), s(m.role.as_str()))]);
        self.put(item.clone(), format!("ORG#{}", m.org), &format!("MEMBER#{}", m.email)).await?;
        self.put(item, format!("USER#{}", m.email), &format!("MEMBER#{}", m.org)).await
    }

    async fn put_api_token(&self, t: &ApiToken) -> StoreResult<()> {
        let mut item = HashMap::from([
            ("digest".into(), s(&t.digest)),
            ("email".into(), s(&t.email)),
            ("label".into(), s(&t.label)),
            ("created_at".into(), n(t.created_at)),
            ("last_chars".into(), s(&t.last_chars)),
        ]);
        if !t.scopes.is_empty() {
            item.insert("scopes".into(), AttributeValue::Ss(t.scopes.clone()));
        }
        // The table's TTL attribute: DynamoDB removes an expired token in time by itself.
        if let Some(at) = t.expires_at {
            item.insert("expires_at".into(), n(at));
        }
        self.put(item.clone(), format!("TOKEN#{}", t.digest), "TOKEN").await?;
        self.put(item, format!("USER#{}", t.email), &format!("TOKEN#{}", t.digest)).await
    }

    async fn user_memberships(&self, email: &str) -> StoreResult<Vec<Member>> {
        let items = self.list(format!("USER#{email}"), "MEMBER#").await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let org = get_s(i, "sk")?.strip_prefix("MEMBER#")?.to_owned();
                Some(Member { org, email: email.to_owned(), role: Role::parse(&get_s(i, "role")?)? })
            })
            .collect())
    }

    async fn org_members(&self, org: &str) -> StoreResult<Vec<Member>> {
        let items = self.list(format!("ORG#{org}"), "MEMBER#").await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let email = get_s(i, "sk")?.strip_prefix("MEMBER#")?.to_owned();
                Some(Member { org: org.to_owned(), email, role: Role::parse(&get_s(i, "role")?)? })
            })
            .collect())
    }

    async fn delete_member(&self, org: &str, email: &str) -> StoreResult<()> {
        self.delete(format!("ORG#{org}"), &format!("MEMBER#{email}")).await?;
        self.delete(format!("USER#{email}"), &format!("MEMBER#{org}")).await
    }

    async fn org_projects(&self, org: &str) -> StoreResult<Vec<Project>> {
        let links = self.list(format!("ORG#{org}"), "PROJECT#").await?;
        let mut projects = Vec::with_capacity(links.len());
        for link in &links {
            let id: u64 = get_n(link, "id").ok_or_else(|| corrupt("project link"))?;
            // A renamed project leaves its old slug's link behind: keep the current one only.
            if let Some(p) = self.project(id).await?.filter(|p| p.org == org) {
                if get_s(link, "sk").as_deref() == Some(&format!("PROJECT#{}", p.slug)) {
                    projects.push(p);
                }
            }
        }
        Ok(projects)
    }

    async fn project_keys(&self, project_id: u64) -> StoreResult<Vec<ProjectKey>> {
        self.list(format!("PROJECT#{project_id}"), "KEY#").await?.iter().map(key_from).collect()
    }

    async fn delete_project_key(&self, key: &ProjectKey) -> StoreResult<()> {
        self.delete(format!("KEY#{}", key_digest(&key.public_key)), "KEY").await?;
        self.delete(format!("PROJECT#{}", key.project_id), &format!("KEY#{}", key.public_key)).await
    }

    async fn put_debug_file(&self, file: &errata_domain::difs::DebugFile) -> StoreResult<()> {
        self.put_record(format!("PROJECT#{}", file.project_id), &format!("DIF#{}#{}", file.debug_id, file.id), file)
            .await
    }

    async fn debug_files(&self, project_id: u64) -> StoreResult<Vec<errata_domain::difs::DebugFile>> {
        self.records(format!("PROJECT#{project_id}"), "DIF#").await
    }

    async fn delete_debug_file(&self, file: &errata_domain::difs::DebugFile) -> StoreResult<()> {
        self.delete(format!("PROJECT#{}", file.project_id), &format!("DIF#{}#{}", file.debug_id, file.id)).await
    }

    async fn put_artifact_bundle(&self, bundle: &errata_domain::difs::ArtifactBundle) -> StoreResult<()> {
        self.put_record(format!("PROJECT#{}", bundle.project_id), &format!("BUNDLE#{}", bundle.id), bundle).await
    }

    async fn artifact_bundles(&self, project_id: u64) -> StoreResult<Vec<errata_domain::difs::ArtifactBundle>> {
        self.records(format!("PROJECT#{project_id}"), "BUNDLE#").await
    }

    async fn delete_artifact_bundle(&self, bundle: &errata_domain::difs::ArtifactBundle) -> StoreResult<()> {
        self.delete(format!("PROJECT#{}", bundle.project_id), &format!("BUNDLE#{}", bundle.id)).await
    }

    async fn put_release(&self, release: &errata_domain::releases::Release) -> StoreResult<()> {
        self.put_record(format!("ORG#{}", release.org), &format!("RELEASE#{}", release.version), release).await
    }

    async fn releases(&self, org: &str) -> StoreResult<Vec<errata_domain::releases::Release>> {
        self.records(format!("ORG#{org}"), "RELEASE#").await
    }

    async fn delete_release(&self, org: &str, version: &str) -> StoreResult<()> {
        self.delete(format!("ORG#{org}"), &format!("RELEASE#{version}")).await
    }

    async fn user_tokens(&self, email: &str) -> StoreResult<Vec<ApiToken>> {
        self.list(format!("USER#{email}"), "TOKEN#").await?.iter().map(token_from).collect()
    }

    async fn delete_api_token(&self, t: &ApiToken) -> StoreResult<()> {
        self.delete(format!("TOKEN#{}", t.digest), "TOKEN").await?;
        self.delete(format!("USER#{}", t.email), &format!("TOKEN#{}", t.digest)).await
    }

    async fn put_session(&self, session: &Session) -> StoreResult<()> {
        let mut item = HashMap::from([
            ("digest".into(), s(&session.digest)),
            ("email".into(), s(&session.email)),
            ("expires_at".into(), n(session.expires_at)),
            ("created_at".into(), n(session.created_at)),
        ]);
        for (name, value) in [("ip", &session.ip), ("user_agent", &session.user_agent)] {
            if let Some(v) = value {
                item.insert(name.into(), s(v.chars().take(256).collect::<String>()));
            }
        }
        self.put(item.clone(), format!("SESSION#{}", session.digest), "SESSION").await?;
        self.put(item, format!("USER#{}", session.email), &format!("SESSION#{}", session.digest)).await
    }

    async fn session(&self, digest: &str) -> StoreResult<Option<Session>> {
        let Some(item) = self.get(format!("SESSION#{digest}"), "SESSION").await? else { return Ok(None) };
        let session = session_from(&item)?;
        Ok(secrets_equal(&session.digest, digest).then_some(session))
    }

    async fn delete_session(&self, session: &Session) -> StoreResult<()> {
        self.delete(format!("SESSION#{}", session.digest), "SESSION").await?;
        self.delete(format!("USER#{}", session.email), &format!("SESSION#{}", session.digest)).await
    }

    async fn put_invite(&self, invite: &Invite) -> StoreResult<()> {
        // A new invitation for the same address replaces the old one and its secret.
        if let Some(old) = self.get(format!("ORG#{}", invite.org), &format!("INVITE#{}", invite.email)).await? {
            if let Some(digest) = get_s(&old, "digest") {
                self.delete(format!("INVITE#{digest}"), "INVITE").await?;
            }
        }
        self.put(invite_item(invite), format!("INVITE#{}", invite.digest), "INVITE").await?;
        self.put(invite_item(invite), format!("ORG#{}", invite.org), &format!("INVITE#{}", invite.email)).await
    }

    async fn invite(&self, digest: &str) -> StoreResult<Option<Invite>> {
        let Some(item) = self.get(format!("INVITE#{digest}"), "INVITE").await? else { return Ok(None) };
        let invite = invite_from(&item)?;
        Ok(secrets_equal(&invite.digest, digest).then_some(invite))
    }

    async fn org_invites(&self, org: &str) -> StoreResult<Vec<Invite>> {
        self.list(format!("ORG#{org}"), "INVITE#").await?.iter().map(invite_from).collect()
    }

    async fn delete_invite(&self, invite: &Invite) -> StoreResult<()> {
        self.delete(format!("INVITE#{}", invite.digest), "INVITE").await?;
        self.delete(format!("ORG#{}", invite.org), &format!("INVITE#{}", invite.email)).await
    }

    async fn claim_setup(&self) -> StoreResult<bool> {
        self.put_if_absent(HashMap::new(), "SETUP".into(), "SETUP").await
    }
}

#[async_trait]
impl errata_ports::RuleStore for DynamoDirectory {
    async fn rules(&self, project_id: u64) -> StoreResult<Vec<errata_domain::alerts::AlertRule>> {
        let items = self.list(format!("PROJECT#{project_id}"), "RULE#").await?;
        let mut rules: Vec<errata_domain::alerts::AlertRule> =
            items.iter().filter_map(|i| get_s(i, "rule").and_then(|r| serde_json::from_str(&r).ok())).collect();
        rules.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(rules)
    }

    async fn put_rule(&self, rule: &errata_domain::alerts::AlertRule) -> StoreResult<()> {
        let json = serde_json::to_string(rule).map_err(|e| StoreError::permanent(e.to_string()))?;
        let item = HashMap::from([("rule".into(), s(json))]);
        self.put(item, format!("PROJECT#{}", rule.project_id), &format!("RULE#{}", rule.id)).await
    }

    async fn delete_rule(&self, rule: &errata_domain::alerts::AlertRule) -> StoreResult<()> {
        self.delete(format!("PROJECT#{}", rule.project_id), &format!("RULE#{}", rule.id)).await
    }
}

/// Rate-limit counters: one item per scope and window, expiring (TTL) after the window.
/// Quotas table: `pk` = `scope@window_start`, `n` the count, `expires_at`.
pub struct DynamoRateLimiter {
    pub(crate) client: Client,
    pub(crate) table: String,
}

impl DynamoRateLimiter {
    pub fn new(config: &aws_config::SdkConfig, table: String) -> Self {
        DynamoRateLimiter {
            client: Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(config).interceptor(crate::meter::Meter).build(),
            ),
            table,
        }
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
