//! `/security/`: CSP, Expect-CT and HPKP reports browsers send on their own (the key is in
//! the query string). Ingest checks it is JSON and queues it as a `security` item; the
//! processor turns it into an event.

use errata_protocol::{Envelope, EnvelopeHeader, Item, ItemHeader};
use serde_json::Value;

/// The envelope of one report body; `release`/`environment` come from `sentry_release` and
/// `sentry_environment` query parameters, as Sentry's report-uri allows.
pub fn to_envelope(body: Vec<u8>, query: &str) -> Result<Envelope, String> {
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(_) | Value::Array(_)) => {}
        _ => return Err("a security report must be a JSON object or array".into()),
    }
    let mut header =
        ItemHeader { ty: "security".into(), content_type: Some("application/json".into()), ..Default::default() };
    for pair in query.split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            let key = match k {
                "sentry_release" => "release",
                "sentry_environment" => "environment",
                _ => continue,
            };
            header.other.insert(key.into(), Value::String(errata_protocol::auth::percent_decode(v)));
        }
    }
    Ok(Envelope { header: EnvelopeHeader::default(), items: vec![Item { header, payload: body }] })
}
