//! `errata-admin`: operator commands against a deployed Errata's tables.
//!
//! ```text
//! errata-admin seed --org demo --project demo --email demo@errata.local \
//!     --password PASS --public-key KEY --token TOKEN
//! ```
//! Creates (or updates) the organization, project, DSN key, user, owner membership and API
//! token, then prints `PROJECT_ID=<n>`. Values are passed in so re-running is idempotent:
//! the same key and token stay valid. Table names come from `DIRECTORY_TABLE`.
//!
//! ```text
//! errata-admin rate-limit --public-key KEY --count 100 --window 60   # a DSN key's limit
//! errata-admin rate-limit --project-id 1 --count 10000 --window 3600 # a project's quota
//! errata-admin rate-limit --org acme --count 50000 --window 3600      # all of an organization's projects
//! errata-admin add-key --project-id 1 [--label L]                   # prints the new public key
//! ```
//! `--count 0` removes the limit. Ingest picks changes up within 30 seconds.
//!
//! ```text
//! errata-admin settings --project-id 1                                   # prints the settings
//! errata-admin settings --project-id 1 --set '{"filters": {"localhost": true,
//!     "error_messages": ["*ResizeObserver*"]}, "scrubbing": {"sensitive_fields": ["iban"]}}'
//! ```
//! `--set` merges the given JSON into the project's settings (scrubbing and inbound filters);
//! the processor picks changes up within a minute.

use anyhow::{bail, Context, Result};
use errata_aws::{load_config, DynamoDirectory};
use errata_domain::secrets::{hash_password, token_digest, verify_password};
use errata_domain::{ApiToken, Member, Org, Project, ProjectKey, RateLimit, Role, User};
use errata_ports::Directory;
use std::collections::HashMap;

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut opts = HashMap::new();
    while let Some(flag) = args.next() {
        let name = flag.strip_prefix("--").with_context(|| format!("unexpected argument {flag}"))?.to_owned();
        let value = args.next().with_context(|| format!("--{name} needs a value"))?;
        opts.insert(name, value);
    }
    match command.as_str() {
        "seed" => seed(&opts).await,
        "rate-limit" => rate_limit(&opts).await,
        "add-key" => add_key(&opts).await,
        "settings" => settings(&opts).await,
        "new-key" => {
            println!("{}", errata_domain::secrets::new_public_key());
            Ok(())
        }
        "new-token" => {
            println!("{}", errata_domain::secrets::new_api_token());
            Ok(())
        }
        _ => bail!(
            "usage: errata-admin seed --org SLUG --project SLUG --email E --password P --public-key K --token T\n       \
             errata-admin rate-limit (--public-key K | --project-id N | --org SLUG) --count N --window SECONDS\n       \
             errata-admin add-key --project-id N [--label L]\n       \
             errata-admin settings --project-id N [--set JSON]\n       \
             errata-admin new-key | new-token"
        ),
    }
}

fn directory_from_env(aws: &aws_config::SdkConfig) -> Result<DynamoDirectory> {
    let table = std::env::var("DIRECTORY_TABLE").context("DIRECTORY_TABLE is not set")?;
    Ok(DynamoDirectory::new(aws, table))
}

async fn rate_limit(opts: &HashMap<String, String>) -> Result<()> {
    let number = |k: &str| -> Result<u64> {
        opts.get(k)
            .with_context(|| format!("--{k} is required"))?
            .parse()
            .with_context(|| format!("--{k} must be a number"))
    };
    let count = number("count")?;
    let limit = if count == 0 { None } else { Some(RateLimit { count, window_secs: number("window")?.max(1) }) };
    let dir = directory_from_env(&load_config().await)?;
    if let Some(public_key) = opts.get("public-key") {
        let mut key = dir.project_key(public_key).await?.context("no such DSN key")?;
        key.rate_limit = limit;
        dir.put_project_key(&key).await?;
    } else if let Some(slug) = opts.get("org") {
        let mut org = dir.org(slug).await?.context("no such organization")?;
        org.quota = limit;
        dir.put_org(&org).await?;
    } else {
        let id = number("project-id")?;
        let mut project = dir.project(id).await?.context("no such project")?;
        project.quota = limit;
        dir.put_project(&project).await?;
    }
    println!("ok");
    Ok(())
}

async fn settings(opts: &HashMap<String, String>) -> Result<()> {
    let project_id: u64 = opts.get("project-id").context("--project-id is required")?.parse()?;
    let dir = directory_from_env(&load_config().await)?;
    let mut project = dir.project(project_id).await?.context("no such project")?;
    if let Some(patch) = opts.get("set") {
        let patch: serde_json::Value = serde_json::from_str(patch).context("--set must be JSON")?;
        let mut current = serde_json::to_value(&project.settings)?;
        merge(&mut current, patch);
        project.settings = serde_json::from_value(current).context("not valid project settings")?;
        dir.put_project(&project).await?;
    }
    println!("{}", serde_json::to_string_pretty(&project.settings)?);
    Ok(())
}

/// Merges `patch` into `into`: objects key by key, anything else replaced.
fn merge(into: &mut serde_json::Value, patch: serde_json::Value) {
    match (into, patch) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

async fn add_key(opts: &HashMap<String, String>) -> Result<()> {
    let project_id: u64 = opts.get("project-id").context("--project-id is required")?.parse()?;
    let dir = directory_from_env(&load_config().await)?;
    dir.project(project_id).await?.context("no such project")?;
    let public_key = errata_domain::secrets::new_public_key();
    let label = opts.get("label").cloned().unwrap_or_else(|| "Added".into());
    dir.put_project_key(&ProjectKey {
        public_key: public_key.clone(),
        project_id,
        label,
        enabled: true,
        rate_limit: None,
        created_at: 0,
    })
    .await?;
    println!("{public_key}");
    Ok(())
}

async fn seed(opts: &HashMap<String, String>) -> Result<()> {
    let opt = |k: &str| opts.get(k).cloned().with_context(|| format!("--{k} is required"));
    let (org, slug, email, password, public_key, token) =
        (opt("org")?, opt("project")?, opt("email")?, opt("password")?, opt("public-key")?, opt("token")?);
    let dir = directory_from_env(&load_config().await)?;

    // A seeded stack is set up: the first-run route is closed.
    dir.claim_setup().await?;
    dir.put_org(&Org { slug: org.clone(), name: org.clone(), quota: None }).await?;
    let project = match dir.project_by_slug(&org, &slug).await? {
        // The demo project takes whatever it is sent (load runs send 100,000 envelopes): no
        // default quota.
        Some(p) if p.quota.is_some() => dir.put_project(&Project { quota: None, ..p }).await?,
        Some(p) => p,
        None => {
            let project = dir
                .put_project(&Project {
                    id: 0,
                    org: org.clone(),
                    slug: slug.clone(),
                    name: slug.clone(),
                    platform: None,
                    quota: None,
                    settings: Default::default(),
                })
                .await?;
            // Like any new project: e-mail the members on new issues and regressions.
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let rule = errata_domain::alerts::default_rule(project.id, errata_domain::secrets::new_public_key(), now);
            errata_ports::RuleStore::put_rule(&dir, &rule).await?;
            project
        }
    };
    // The demo project's one key is the pinned one (first-run setup made a key of its own).
    for other in dir.project_keys(project.id).await?.iter().filter(|k| k.public_key != public_key) {
        dir.delete_project_key(other).await?;
    }
    dir.put_project_key(&ProjectKey {
        public_key,
        project_id: project.id,
        label: "Default".into(),
        enabled: true,
        rate_limit: None,
        created_at: 0,
    })
    .await?;
    // Keep an existing hash when the password is unchanged (argon2 salts differ per hash).
    let keep = dir.user(&email).await?.filter(|u| verify_password(&password, &u.password_hash));
    let password_hash = match keep {
        Some(u) => u.password_hash,
        None => hash_password(&password).map_err(anyhow::Error::msg)?,
    };
    dir.put_user(&User { email: email.clone(), name: email.clone(), password_hash }).await?;
    dir.put_member(&Member { org: org.clone(), email: email.clone(), role: Role::Owner }).await?;
    dir.put_api_token(&ApiToken {
        digest: token_digest(&token),
        email,
        label: "seed".into(),
        scopes: vec!["org:admin".into(), "project:admin".into(), "member:admin".into(), "event:admin".into()],
        created_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        last_chars: token[token.len().saturating_sub(4)..].to_owned(),
        expires_at: None,
    })
    .await?;
    println!("PROJECT_ID={}", project.id);
    Ok(())
}
