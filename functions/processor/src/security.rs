//! Security reports (CSP, Expect-CT, HPKP) as events, titled and grouped the way Sentry does:
//! one issue per directive and blocked host.

use errata_protocol::Item;
use serde_json::{json, Value};

/// The events of one `security` item (a Reporting API body may hold several reports).
pub fn to_events(item: &Item) -> Result<Vec<Value>, String> {
    let body: Value = serde_json::from_slice(&item.payload).map_err(|e| format!("security report is not JSON: {e}"))?;
    let reports: Vec<Value> = match body {
        Value::Array(list) => list,
        other => vec![other],
    };
    let mut events = Vec::new();
    for report in reports {
        let mut event = report_event(&report).ok_or("unrecognized security report")?;
        for key in ["release", "environment"] {
            if let Some(Value::String(v)) = item.header.other.get(key) {
                event[key] = json!(v);
            }
        }
        events.push(event);
    }
    Ok(events)
}

fn report_event(report: &Value) -> Option<Value> {
    // Reporting API: {"type": "csp-violation", "body": {...camelCase...}}
    if report.get("type").and_then(Value::as_str) == Some("csp-violation") {
        let b = report.get("body")?;
        let field = |camel: &str| b.get(camel).and_then(Value::as_str).unwrap_or_default().to_owned();
        return Some(csp_event(
            &field("documentURL"),
            &field("blockedURL"),
            b.get("effectiveDirective").or_else(|| b.get("violatedDirective")).and_then(Value::as_str).unwrap_or(""),
            b,
        ));
    }
    if let Some(r) = report.get("csp-report") {
        let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let directive =
            r.get("effective-directive").or_else(|| r.get("violated-directive")).and_then(Value::as_str).unwrap_or("");
        return Some(csp_event(&field("document-uri"), &field("blocked-uri"), directive, r));
    }
    if let Some(r) = report.get("expect-ct-report") {
        let host = r.get("hostname").and_then(Value::as_str).unwrap_or_default();
        return Some(simple_event("expect-ct", format!("Expect-CT failed for '{host}'"), host, r));
    }
    if report.get("known-pins").is_some() || report.get("noted-hostname").is_some() {
        let host = report.get("hostname").and_then(Value::as_str).unwrap_or_default();
        return Some(simple_event("hpkp", format!("Public key pinning validation failed for '{host}'"), host, report));
    }
    None
}

fn csp_event(document: &str, blocked: &str, directive: &str, raw: &Value) -> Value {
    // The first word of a directive names the resource kind: `script-src-elem` → script.
    let kind = directive.split_whitespace().next().unwrap_or("").trim_end_matches("-elem").trim_end_matches("-attr");
    let kind = kind.strip_suffix("-src").unwrap_or(kind);
    let blocked_host = host_of(blocked);
    let title = match blocked_host.as_str() {
        "" | "self" => format!("Blocked '{kind}' from 'self'"),
        "inline" | "eval" => format!("Blocked unsafe {blocked_host} '{kind}'"),
        host => format!("Blocked '{kind}' from '{host}'"),
    };
    let mut event = simple_event("csp", title, document, raw);
    event["fingerprint"] = json!(["csp", directive, blocked_host]);
    event["tags"] = json!({ "effective-directive": directive, "blocked-uri": blocked });
    event
}

fn simple_event(kind: &str, message: String, culprit: &str, raw: &Value) -> Value {
    json!({
        "message": message,
        "level": "error",
        "logger": kind,
        "platform": "javascript",
        "culprit": culprit,
        kind: raw,
    })
}

/// The host of a URL, or the CSP keyword (`inline`, `eval`, `self`, `data`) blocked.
fn host_of(uri: &str) -> String {
    if let Some(rest) = uri.split_once("://").map(|(_, r)| r) {
        return rest.split(['/', '?', '#']).next().unwrap_or_default().to_owned();
    }
    uri.trim_end_matches(':').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use errata_protocol::ItemHeader;

    fn item(json: &str) -> Item {
        Item { header: ItemHeader { ty: "security".into(), ..Default::default() }, payload: json.as_bytes().to_vec() }
    }

    #[test]
    fn csp_reports_in_both_formats() {
        let legacy = to_events(&item(r#"{"csp-report":{"document-uri":"https://a.test/p","blocked-uri":"https://evil.test/x.js","effective-directive":"script-src-elem"}}"#)).unwrap();
        assert_eq!(legacy[0]["message"], "Blocked 'script' from 'evil.test'");
        assert_eq!(legacy[0]["culprit"], "https://a.test/p");
        let api = to_events(&item(r#"[{"type":"csp-violation","body":{"documentURL":"https://a.test/","blockedURL":"inline","effectiveDirective":"style-src-attr"}}]"#)).unwrap();
        assert_eq!(api[0]["message"], "Blocked unsafe inline 'style'");
        assert_eq!(api[0]["fingerprint"][1], "style-src-attr");
    }

    #[test]
    fn expect_ct_hpkp_and_garbage() {
        let ct = to_events(&item(r#"{"expect-ct-report":{"hostname":"a.test","port":443}}"#)).unwrap();
        assert_eq!(ct[0]["message"], "Expect-CT failed for 'a.test'");
        let hpkp = to_events(&item(r#"{"hostname":"b.test","noted-hostname":"b.test","known-pins":[]}"#)).unwrap();
        assert!(hpkp[0]["message"].as_str().unwrap().contains("b.test"));
        assert!(to_events(&item(r#"{"something":"else"}"#)).is_err());
        assert!(to_events(&item("nope")).is_err());
    }
}
