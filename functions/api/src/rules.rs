//! Alert rules of a project: list, create, update (mute), delete; and an issue's
//! notifications ("notified at").

use crate::account::no_content;
use crate::body::Body;
use crate::router::Ctx;
use crate::{now_secs, ApiError, ApiResult, Deps};
use errata_domain::alerts::{default_rule, Action, AlertRule, WebhookFormat};
use errata_domain::secrets::new_public_key;
use errata_domain::Project;
use errata_runtime::http;
use serde_json::{json, Value};

/// The most rules a project may have.
const MAX_RULES: usize = 100;

/// A project's first rule: e-mail the members on new issues and regressions.
pub async fn add_default(deps: &Deps, project: &Project) -> Result<(), ApiError> {
    deps.rules.put_rule(&default_rule(project.id, new_public_key(), now_secs())).await?;
    Ok(())
}

/// A rule as the API shows it. A webhook's signing secret and a Slack webhook's URL (which is
/// itself a credential) are write-only: the answer says that one is set, never what it is.
fn rule_json(rule: &AlertRule) -> Value {
    let mut shape = serde_json::to_value(rule).unwrap_or(Value::Null);
    shape["frequency"] = json!(rule.frequency_minutes);
    if let Some(actions) = shape.get_mut("actions").and_then(Value::as_array_mut) {
        for (action, rule_action) in actions.iter_mut().zip(&rule.actions) {
            let Action::Webhook { url, format, secret } = rule_action else { continue };
            let Some(fields) = action.as_object_mut() else { continue };
            fields.remove("secret");
            fields.insert("secretSet".into(), json!(!secret.is_empty()));
            if *format == WebhookFormat::Slack {
                fields.remove("url");
                fields.insert("urlSet".into(), json!(!url.is_empty()));
                fields.insert(
                    "host".into(),
                    json!(url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned))),
                );
            }
        }
    }
    shape
}

/// Webhook actions of an update that leave out `url` or `secret` keep the rule's current ones
/// (the API never shows them, so a client cannot send them back): the n-th webhook action of
/// the body takes them from the n-th webhook action of the rule.
fn keep_write_only(mut actions: Value, current: &[Action]) -> Value {
    let mut existing = current.iter().filter_map(|a| match a {
        Action::Webhook { url, secret, .. } => Some((url, secret)),
        Action::Email { .. } => None,
    });
    for action in actions.as_array_mut().into_iter().flatten() {
        if action.get("id").and_then(Value::as_str) != Some("webhook") {
            continue;
        }
        let Some((url, secret)) = existing.next() else { break };
        let Some(fields) = action.as_object_mut() else { continue };
        fields.entry("url").or_insert_with(|| json!(url));
        fields.entry("secret").or_insert_with(|| json!(secret));
    }
    actions
}

/// Every webhook of the rule passes the stack's egress policy: https (unless the stack allows
/// http) to a host whose every address is public (or in the networks the stack allows).
async fn check_webhooks(deps: &Deps, rule: &AlertRule) -> Result<(), ApiError> {
    for action in &rule.actions {
        let Action::Webhook { url, .. } = action else { continue };
        if let Err(refused) = errata_runtime::egress::check_url(&deps.egress, deps.resolver.as_ref(), url).await {
            return Err(ApiError::new(400, format!("This webhook URL is not allowed: {refused}.")));
        }
    }
    Ok(())
}

async fn route_rule(deps: &Deps, ctx: &Ctx<'_>) -> Result<AlertRule, ApiError> {
    let project = ctx.project()?;
    let rules = deps.rules.rules(project.id).await?;
    rules.into_iter().find(|r| r.id == ctx.param("rule_id")).ok_or_else(ApiError::not_found)
}

/// The rule a body describes: `name`, `actionMatch` (`any`/`all`), `conditions`, `filters`,
/// `actions`, `frequency` (minutes), `muted`; validated as a whole.
fn parse(ctx: &Ctx<'_>, base: AlertRule) -> Result<AlertRule, ApiError> {
    let body =
        Body::parse(ctx.req, &["name", "actionMatch", "conditions", "filters", "actions", "frequency", "muted"])?;
    let mut rule = base;
    if let Some(name) = body.optional_str("name")? {
        name.trim().clone_into(&mut rule.name);
    }
    let field = |key: &str| -> Result<Option<Value>, ApiError> { Ok(body.get(key).cloned()) };
    if let Some(m) = field("actionMatch")? {
        rule.action_match =
            serde_json::from_value(m).map_err(|_| ApiError::new(400, "actionMatch must be any or all."))?;
    }
    if let Some(c) = field("conditions")? {
        rule.conditions = serde_json::from_value(c).map_err(|e| ApiError::new(400, format!("conditions: {e}")))?;
    }
    if let Some(f) = field("filters")? {
        rule.filters = serde_json::from_value(f).map_err(|e| ApiError::new(400, format!("filters: {e}")))?;
    }
    if let Some(a) = field("actions")? {
        let a = keep_write_only(a, &rule.actions);
        rule.actions = serde_json::from_value(a).map_err(|e| ApiError::new(400, format!("actions: {e}")))?;
    }
    if let Some(f) = body.optional_u64("frequency")? {
        rule.frequency_minutes = u32::try_from(f).unwrap_or(u32::MAX);
    }
    if let Some(m) = body.optional_bool("muted")? {
        rule.muted = m;
    }
    if let Some(problem) = rule.problem() {
        return Err(ApiError::new(400, problem));
    }
    Ok(rule)
}

/// `GET /api/0/projects/{org}/{project}/rules/`
pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let rules = deps.rules.rules(ctx.project()?.id).await?;
    crate::paged(ctx, rules.iter().map(rule_json).collect())
}

/// `POST /api/0/projects/{org}/{project}/rules/`
pub async fn create(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    if deps.rules.rules(project.id).await?.len() >= MAX_RULES {
        return Err(ApiError::new(400, format!("A project may have at most {MAX_RULES} alert rules.")));
    }
    let base = AlertRule {
        name: String::new(),
        conditions: Vec::new(),
        actions: Vec::new(),
        ..default_rule(project.id, new_public_key(), now_secs())
    };
    let rule = parse(ctx, base)?;
    check_webhooks(deps, &rule).await?;
    deps.rules.put_rule(&rule).await?;
    rule_audit(deps, ctx, "rule.add", &rule).await;
    Ok(http::json(201, &rule_json(&rule)))
}

/// `GET /api/0/projects/{org}/{project}/rules/{rule_id}/`
pub async fn detail(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    Ok(http::json(200, &rule_json(&route_rule(deps, ctx).await?)))
}

/// `PUT /api/0/projects/{org}/{project}/rules/{rule_id}/`: any part of the rule; `{"muted": true}`
/// mutes it.
pub async fn update(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let current = route_rule(deps, ctx).await?;
    let current_actions = current.actions.clone();
    let rule = parse(ctx, current)?;
    // Muting or renaming does not re-resolve webhooks that were checked when they were set.
    if rule.actions != current_actions {
        check_webhooks(deps, &rule).await?;
    }
    deps.rules.put_rule(&rule).await?;
    rule_audit(deps, ctx, "rule.edit", &rule).await;
    Ok(http::json(200, &rule_json(&rule)))
}

/// `DELETE /api/0/projects/{org}/{project}/rules/{rule_id}/`
pub async fn delete(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let rule = route_rule(deps, ctx).await?;
    deps.rules.delete_rule(&rule).await?;
    rule_audit(deps, ctx, "rule.remove", &rule).await;
    Ok(no_content())
}

/// An audit entry for a change of a rule: its name and what it does (secrets left out).
async fn rule_audit(deps: &Deps, ctx: &Ctx<'_>, event: &'static str, rule: &AlertRule) {
    let Ok(project) = ctx.project() else { return };
    let mut data = rule_json(rule);
    data["project"] = json!(project.slug);
    let change = crate::audit::Change::new(event).object(&rule.id).data(data);
    crate::audit::record(deps, ctx, &project.org, change).await;
}

/// `GET /api/0/issues/{issue_id}/notifications/`: who was notified about the issue, when, by
/// which rule; newest first.
pub async fn notifications(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let issue = ctx.issue()?;
    let records = deps.notifications.notifications(issue.project_id, issue.id, 100).await?;
    let body = records
        .iter()
        .map(|r| {
            json!({
                "ruleId": r.rule_id, "ruleName": r.rule_name, "channel": r.channel,
                "target": r.target, "dateSent": r.at.to_rfc3339(),
            })
        })
        .collect();
    crate::paged(ctx, body)
}
