//! `errata-admin`: operator commands against a deployed Errata's tables.
//!
//! ```text
//! errata-admin seed --org demo --project demo --email demo@errata.local \
//!     --password PASS --public-key KEY --token TOKEN
//! ```
//! Creates (or updates) the organization, project, DSN key, user, owner membership and API
//! token, then prints `PROJECT_ID=<n>`. Values are passed in so re-running is idempotent:
//! the same key and token stay valid. Table names come from `DIRECTORY_TABLE`.

use anyhow::{bail, Context, Result};
use errata_aws::{load_config, DynamoDirectory};
use errata_domain::secrets::{hash_password, token_digest, verify_password};
use errata_domain::{ApiToken, Member, Org, Project, ProjectKey, Role, User};
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
        "new-key" => {
            println!("{}", errata_domain::secrets::new_public_key());
            Ok(())
        }
        "new-token" => {
            println!("{}", errata_domain::secrets::new_api_token());
            Ok(())
        }
        _ => bail!("usage: errata-admin seed --org SLUG --project SLUG --email E --password P --public-key K --token T\n       errata-admin new-key | new-token"),
    }
}

async fn seed(opts: &HashMap<String, String>) -> Result<()> {
    let opt = |k: &str| opts.get(k).cloned().with_context(|| format!("--{k} is required"));
    let (org, slug, email, password, public_key, token) =
        (opt("org")?, opt("project")?, opt("email")?, opt("password")?, opt("public-key")?, opt("token")?);
    let table = std::env::var("DIRECTORY_TABLE").context("DIRECTORY_TABLE is not set")?;
    let aws = load_config().await;
    let dir = DynamoDirectory::new(&aws, table);

    dir.put_org(&Org { slug: org.clone(), name: org.clone() }).await?;
    let project = match dir.project_by_slug(&org, &slug).await? {
        Some(p) => p,
        None => {
            dir.put_project(&Project {
                id: 0,
                org: org.clone(),
                slug: slug.clone(),
                name: slug.clone(),
                platform: None,
            })
            .await?
        }
    };
    dir.put_project_key(&ProjectKey { public_key, project_id: project.id, label: "Default".into(), enabled: true })
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
        scopes: vec!["org:admin".into(), "project:admin".into(), "event:admin".into()],
    })
    .await?;
    println!("PROJECT_ID={}", project.id);
    Ok(())
}
