//! Errata's records in the JSON shapes of Sentry's API (camelCase keys, string ids).

use errata_domain::filters::InboundFilters;
use errata_domain::status::shown_substatus;
use errata_domain::{Feedback, Invite, Issue, Member, Org, Project, ProjectKey, Timestamp};
use serde_json::{json, Map, Value};

/// Sentry's "group" serialization, as the issue list and issue detail return it.
pub fn issue_json(issue: &Issue, project: &Project, web_url: &str) -> Value {
    let id = issue.id.to_string();
    let permalink = if web_url.is_empty() {
        Value::Null
    } else {
        json!(format!("{}/organizations/{}/issues/{}/", web_url.trim_end_matches('/'), project.org, id))
    };
    json!({
        "id": id,
        "shortId": short_id(issue, project),
        "title": issue.title,
        "culprit": issue.culprit,
        "permalink": permalink,
        "logger": null,
        "level": issue.level,
        "status": issue.status.as_str(),
        "statusDetails": status_details(issue),
        "substatus": shown_substatus(issue, Timestamp::now()).as_str(),
        "isPublic": false,
        "platform": issue.platform,
        "project": { "id": project.id.to_string(), "name": project.name, "slug": project.slug, "platform": project.platform },
        "type": issue.ty,
        "issueType": "error",
        "issueCategory": "error",
        "metadata": issue.metadata,
        "numComments": 0,
        "assignedTo": issue.assignee.as_ref().map(|a| json!({ "type": "user", "id": a, "name": a, "email": a })),
        "isBookmarked": false,
        "isSubscribed": false,
        "hasSeen": false,
        "annotations": [],
        "count": issue.times_seen.to_string(),
        "userCount": issue.users_seen,
        "firstRelease": issue.first_release.as_ref().map(|v| json!({ "version": v, "shortVersion": v })),
        "lastRelease": issue.last_release.as_ref().map(|v| json!({ "version": v, "shortVersion": v })),
        "firstSeen": issue.first_seen.to_rfc3339(),
        "lastSeen": issue.last_seen.to_rfc3339(),
        "stats": {},
    })
}

fn date(unix_secs: i64) -> Value {
    match Timestamp::from_unix_millis(unix_secs.saturating_mul(1000)) {
        Some(t) if unix_secs > 0 => json!(t.to_rfc3339()),
        _ => Value::Null,
    }
}

pub fn org_json(org: &Org) -> Value {
    json!({ "id": org.slug, "slug": org.slug, "name": org.name, "status": { "id": "active", "name": "active" } })
}

pub fn member_json(m: &Member, name: Option<&str>) -> Value {
    json!({
        "id": m.email,
        "email": m.email,
        "name": name.unwrap_or(&m.email),
        "role": m.role.as_str(),
        "orgRole": m.role.as_str(),
        "roleName": role_name(m.role),
        "pending": false,
        "expired": false,
        "inviteStatus": "approved",
        "user": { "id": m.email, "email": m.email, "name": name.unwrap_or(&m.email) },
    })
}

pub fn invite_json(i: &Invite, now_secs: i64) -> Value {
    json!({
        "id": i.email,
        "email": i.email,
        "name": i.email,
        "role": i.role.as_str(),
        "orgRole": i.role.as_str(),
        "roleName": role_name(i.role),
        "pending": true,
        "expired": i.expires_at <= now_secs,
        "inviteStatus": "approved",
        "inviterName": i.invited_by,
        "dateCreated": date(i.created_at),
        "user": null,
    })
}

fn role_name(role: errata_domain::Role) -> &'static str {
    match role {
        errata_domain::Role::Member => "Member",
        errata_domain::Role::Admin => "Admin",
        errata_domain::Role::Owner => "Owner",
    }
}

/// Sentry's short project serialization (lists).
pub fn project_json(p: &Project) -> Value {
    json!({
        "id": p.id.to_string(),
        "slug": p.slug,
        "name": p.name,
        "platform": p.platform,
        "organization": { "slug": p.org },
        "status": "active",
        "isMember": true,
        "hasAccess": true,
    })
}

/// The project detail: the list shape plus its settings, under Sentry's names where Sentry
/// has them and in full under `settings`.
pub fn project_detail_json(p: &Project) -> Value {
    let mut shape = project_json(p);
    let scrub = &p.settings.scrubbing;
    shape["dataScrubber"] = json!(scrub.enabled);
    shape["dataScrubberDefaults"] = json!(scrub.enabled);
    shape["scrubIPAddresses"] = json!(scrub.scrub_ip_addresses);
    shape["sensitiveFields"] = json!(scrub.sensitive_fields);
    shape["safeFields"] = json!(scrub.safe_fields);
    shape["fingerprintingRules"] = json!(p.settings.grouping.fingerprinting_rules);
    shape["settings"] = serde_json::to_value(&p.settings).unwrap_or(Value::Null);
    shape["quota"] = match p.quota {
        Some(q) => json!({ "count": q.count, "window": q.window_secs }),
        None => Value::Null,
    };
    shape
}

/// A DSN key, with its DSNs built on the public URL of ingest.
pub fn key_json(k: &ProjectKey, dsn_url: &str) -> Value {
    let base = dsn_url.trim_end_matches('/');
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    let dsn = format!("{scheme}://{}@{rest}/{}", k.public_key, k.project_id);
    let endpoint = |what: &str| format!("{base}/api/{}/{what}/?sentry_key={}", k.project_id, k.public_key);
    json!({
        "id": k.public_key,
        "name": k.label,
        "label": k.label,
        "public": k.public_key,
        "secret": null,
        "projectId": k.project_id,
        "isActive": k.enabled,
        "rateLimit": k.rate_limit.map(|l| json!({ "count": l.count, "window": l.window_secs })),
        "dsn": {
            "public": dsn,
            "secret": dsn,
            "security": endpoint("security"),
            "csp": endpoint("security"),
            "minidump": endpoint("minidump"),
            "store": endpoint("store"),
            "envelope": endpoint("envelope"),
        },
        "dateCreated": date(k.created_at),
    })
}

/// The inbound filters as Sentry's `filters/` route lists them.
pub fn filters_json(f: &InboundFilters) -> Value {
    json!([
        { "id": "browser-extensions", "active": f.browser_extensions, "name": "Errors caused by browser extensions" },
        { "id": "localhost", "active": f.localhost, "name": "Events coming from localhost" },
        { "id": "legacy-browsers", "active": f.legacy_browsers, "name": "Errors from legacy browsers" },
        { "id": "web-crawlers", "active": f.web_crawlers, "name": "Errors from web crawlers" },
        { "id": "error-messages", "active": !f.error_messages.is_empty(), "patterns": f.error_messages, "name": "Errors whose message matches a pattern" },
        { "id": "releases", "active": !f.releases.is_empty(), "patterns": f.releases, "name": "Errors from releases matching a pattern" },
    ])
}

/// Sentry's "user report" serialization of feedback.
pub fn user_report_json(f: &Feedback, issue: Option<&Issue>, project: &Project, web_url: &str) -> Value {
    json!({
        "id": f.id,
        "eventID": f.event_id.clone().unwrap_or_else(|| f.id.clone()),
        "name": f.name,
        "email": f.email,
        "comments": f.comments,
        "url": f.url,
        "dateCreated": f.timestamp.to_rfc3339(),
        "user": null,
        "event": { "id": f.event_id, "eventID": f.event_id },
        "issue": issue.map(|i| issue_json(i, project, web_url)),
    })
}

/// Sentry's `statusDetails`: the conditions of the current status.
fn status_details(issue: &Issue) -> Value {
    let d = &issue.status_details;
    let mut out = Map::new();
    if d.in_next_release {
        out.insert("inNextRelease".into(), json!(true));
    }
    if let Some(count) = d.ignore_count {
        out.insert("ignoreCount".into(), json!(count));
    }
    if let Some(until) = d.ignore_until.and_then(Timestamp::from_unix_millis) {
        out.insert("ignoreUntil".into(), json!(until.to_rfc3339()));
    }
    Value::Object(out)
}

/// `PROJECT-<base 36 id>`: readable and stable, since issue ids are derived, not counted.
fn short_id(issue: &Issue, project: &Project) -> String {
    let mut n = issue.id.0;
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
    }
    let suffix: String = digits.iter().rev().collect();
    format!("{}-{}", project.slug.to_uppercase(), suffix.to_uppercase())
}

/// Sentry's event serialization: the interfaces become `entries`, keys become camelCase.
pub fn event_json(event: &Value, issue: &Issue, project: &Project) -> Value {
    let id = event.get("event_id").and_then(Value::as_str).unwrap_or_default();
    let mut entries = Vec::new();
    if let Some(values) = event.pointer("/exception/values").and_then(Value::as_array) {
        let values: Vec<Value> = values.iter().map(exception_json).collect();
        let has_system_frames = values.iter().any(|v| {
            v.pointer("/stacktrace/frames")
                .and_then(Value::as_array)
                .is_some_and(|f| f.iter().any(|f| f["inApp"] == json!(false)))
        });
        entries
            .push(json!({ "type": "exception", "data": { "values": values, "hasSystemFrames": has_system_frames } }));
    }
    if let Some(message) = message_of(event) {
        entries.push(json!({ "type": "message", "data": { "formatted": message } }));
    }
    if let Some(crumbs) = event.get("breadcrumbs") {
        let values = crumbs.get("values").cloned().unwrap_or_else(|| crumbs.clone());
        entries.push(json!({ "type": "breadcrumbs", "data": { "values": values } }));
    }
    if let Some(request) = event.get("request") {
        entries.push(json!({ "type": "request", "data": request }));
    }
    let received = event.get("received").cloned().unwrap_or(Value::Null);
    json!({
        "id": id,
        "eventID": id,
        "groupID": issue.id.to_string(),
        "projectID": project.id.to_string(),
        "title": event.get("title").cloned().unwrap_or_else(|| json!(issue.title)),
        "culprit": event.get("culprit").cloned().unwrap_or_else(|| json!(issue.culprit)),
        "message": message_of(event).unwrap_or_default(),
        "platform": event.get("platform").cloned().unwrap_or(Value::Null),
        "type": issue.ty,
        "dateCreated": event.get("timestamp").cloned().unwrap_or(Value::Null),
        "dateReceived": received,
        "entries": entries,
        "tags": tags_of(event),
        "user": event.get("user").cloned().unwrap_or(Value::Null),
        "contexts": event.get("contexts").cloned().unwrap_or_else(|| json!({})),
        "context": event.get("extra").cloned().unwrap_or_else(|| json!({})),
        "_meta": event.get("_meta").cloned().unwrap_or_else(|| json!({})),
        "sdk": event.get("sdk").cloned().unwrap_or(Value::Null),
        "release": event.get("release").cloned().unwrap_or(Value::Null),
        "dist": event.get("dist").cloned().unwrap_or(Value::Null),
        "environment": event.get("environment").cloned().unwrap_or(Value::Null),
        "fingerprints": [issue.hash],
        "metadata": issue.metadata,
        "errors": errors_of(event),
    })
}

/// The event's processing errors (what normalization dropped, why symbolication gave up) in
/// Sentry's shape: `type`, a `message`, and the rest as `data`.
fn errors_of(event: &Value) -> Value {
    let list = event.get("errors").and_then(Value::as_array);
    Value::Array(
        list.into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(|e| {
                let ty = e.get("type").and_then(Value::as_str).unwrap_or("unknown_error");
                let message = match ty {
                    "invalid_data" => "Discarded invalid value",
                    "symbolication_timeout" => "Symbolication timed out; stored unsymbolicated",
                    "symbolication_failed" => "Symbolication failed; stored unsymbolicated",
                    "symbolication_skipped" => "Not symbolicated",
                    _ => "Processing error",
                };
                let data: serde_json::Map<String, Value> =
                    e.iter().filter(|(k, _)| k.as_str() != "type").map(|(k, v)| (k.clone(), v.clone())).collect();
                json!({ "type": ty, "message": message, "data": data })
            })
            .collect(),
    )
}

fn message_of(event: &Value) -> Option<String> {
    let from = |v: &Value| v.get("formatted").or_else(|| v.get("message")).and_then(Value::as_str).map(str::to_owned);
    event.get("logentry").and_then(from).or_else(|| match event.get("message") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => from(v),
        None => None,
    })
}

/// Tags as Sentry lists them, with the standard ones (level, environment, release…) added.
fn tags_of(event: &Value) -> Value {
    let pairs = errata_domain::tags::event_tags(event);
    Value::Array(pairs.into_iter().map(|(key, value)| json!({ "key": key, "value": value })).collect())
}

/// A stack trace in Sentry's shape, or null.
fn stacktrace_json(stacktrace: Option<&Value>) -> Value {
    let Some(stacktrace) = stacktrace else { return Value::Null };
    let frames: Vec<Value> = stacktrace
        .get("frames")
        .and_then(Value::as_array)
        .map(|f| f.iter().map(frame_json).collect())
        .unwrap_or_default();
    let has_system_frames = frames.iter().any(|f| f["inApp"] == json!(false));
    json!({ "frames": frames, "framesOmitted": null, "hasSystemFrames": has_system_frames })
}

fn exception_json(exc: &Value) -> Value {
    let stacktrace = stacktrace_json(exc.get("stacktrace"));
    json!({
        "type": exc.get("type").cloned().unwrap_or(Value::Null),
        "value": exc.get("value").cloned().unwrap_or(Value::Null),
        "module": exc.get("module").cloned().unwrap_or(Value::Null),
        "mechanism": exc.get("mechanism").cloned().unwrap_or(Value::Null),
        "threadId": exc.get("thread_id").cloned().unwrap_or(Value::Null),
        "stacktrace": stacktrace,
        // The frames as the SDK sent them, when symbolication replaced them.
        "rawStacktrace": stacktrace_json(exc.get("raw_stacktrace")),
    })
}

/// A frame with Sentry's API keys; source context becomes `[[lineno, line], …]`.
fn frame_json(frame: &Value) -> Value {
    let get = |k: &str| frame.get(k).cloned().unwrap_or(Value::Null);
    let mut context = Vec::new();
    if let Some(line) = frame.get("lineno").and_then(Value::as_i64) {
        let pre = frame.get("pre_context").and_then(Value::as_array).cloned().unwrap_or_default();
        let post = frame.get("post_context").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, l) in pre.iter().enumerate() {
            context.push(json!([line - (pre.len() - i) as i64, l]));
        }
        if let Some(l) = frame.get("context_line") {
            context.push(json!([line, l]));
        }
        for (i, l) in post.iter().enumerate() {
            context.push(json!([line + 1 + i as i64, l]));
        }
    }
    let mut out = Map::new();
    for (api, wire) in [
        ("filename", "filename"),
        ("absPath", "abs_path"),
        ("module", "module"),
        ("package", "package"),
        ("platform", "platform"),
        ("instructionAddr", "instruction_addr"),
        ("symbolAddr", "symbol_addr"),
        ("function", "function"),
        ("rawFunction", "raw_function"),
        ("symbol", "symbol"),
        ("lineNo", "lineno"),
        ("colNo", "colno"),
        ("vars", "vars"),
    ] {
        out.insert(api.to_owned(), get(wire));
    }
    out.insert("inApp".into(), json!(frame.get("in_app").and_then(Value::as_bool).unwrap_or(false)));
    // Frames the symbolicator looked at: `symbolicated`, or `missing` (no debug file)…
    if let Some(status) = frame.get("symbolicator_status").and_then(Value::as_str) {
        out.insert("symbolicatorStatus".into(), json!(status));
        out.insert("symbolicated".into(), json!(status == "symbolicated"));
    }
    // How a minidump's stack walker found the frame (`context`, `cfi`, `fp`, `scan`…), and
    // which source map resolved a script frame.
    for (api, wire) in [("trust", "trust"), ("data", "data")] {
        if let Some(v) = frame.get(wire).filter(|v| !v.is_null()) {
            out.insert(api.to_owned(), v.clone());
        }
    }
    out.insert("context".into(), Value::Array(context));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_get_api_keys_and_context() {
        let f = frame_json(&json!({"filename":"app.py","function":"f","lineno":10,"in_app":true,
            "pre_context":["a","b"],"context_line":"c","post_context":["d"],"vars":{"x":"1"}}));
        assert_eq!(f["lineNo"], 10);
        assert_eq!(f["inApp"], true);
        assert_eq!(f["context"], json!([[8, "a"], [9, "b"], [10, "c"], [11, "d"]]));
        assert_eq!(f["vars"]["x"], "1");
    }

    #[test]
    fn tags_in_both_forms_plus_standard_ones() {
        let t = tags_of(&json!({"tags":{"b":"2"},"level":"error","environment":"prod"}));
        assert_eq!(
            t,
            json!([{"key":"b","value":"2"},{"key":"environment","value":"prod"},{"key":"level","value":"error"}])
        );
        let t = tags_of(&json!({"tags":[["a",1]]}));
        assert_eq!(t, json!([{"key":"a","value":"1"}]));
    }
}
