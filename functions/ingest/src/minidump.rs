//! `/minidump/`: the multipart upload crash reporters (Breakpad, Crashpad, Electron, the native
//! SDK) send. The `upload_file_minidump` file becomes a minidump attachment, `sentry` (JSON) and
//! `sentry[a][b]` fields build the event, other files become attachments and other plain fields
//! go to the event's `extra`. The result is an ordinary envelope for the processor.

use crate::limits::{MAX_ATTACHMENTS_BYTES, MAX_EVENT_BYTES};
use errata_protocol::{decode_body, Envelope, EnvelopeHeader, Item, ItemHeader};
use serde_json::{json, Map, Value};

pub const MINIDUMP_FIELD: &str = "upload_file_minidump";

/// Builds the envelope of a minidump upload; the error is a 400 (or 413) message.
pub async fn to_envelope(content_type: Option<&str>, body: Vec<u8>) -> Result<Envelope, (u16, String)> {
    let content_type = content_type.ok_or((400, "a minidump upload must be multipart/form-data".to_owned()))?;
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| (400, "a minidump upload must be multipart/form-data with a boundary".to_owned()))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(body)) });
    let mut form = multer::Multipart::new(stream, boundary);

    let mut event = Map::new();
    let mut extra = Map::new();
    let mut minidump = None;
    let mut attachments = Vec::new();
    let bad = |e: multer::Error| (400, format!("invalid multipart body: {e}"));
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let data = field.bytes().await.map_err(bad)?.to_vec();
        if name == MINIDUMP_FIELD {
            minidump = Some((filename.unwrap_or_else(|| "minidump.dmp".into()), data));
        } else if let Some(filename) = filename {
            attachments.push((filename, data));
        } else if name == "sentry" {
            match serde_json::from_slice::<Value>(&data) {
                Ok(Value::Object(map)) => event.extend(map),
                _ => return Err((400, "the sentry field must be a JSON object".into())),
            }
        } else if let Some(path) = name.strip_prefix("sentry") {
            let value = String::from_utf8_lossy(&data).into_owned();
            set_path(&mut event, &bracket_path(path), Value::String(value));
        } else {
            extra.insert(name, Value::String(String::from_utf8_lossy(&data).into_owned()));
        }
    }

    let (filename, dump) = minidump.ok_or((400, format!("missing the {MINIDUMP_FIELD} file")))?;
    // Some reporters gzip the dump inside the form.
    let dump = if dump.starts_with(&[0x1f, 0x8b]) {
        decode_body(Some("gzip"), dump, MAX_ATTACHMENTS_BYTES).map_err(|e| (400, format!("minidump: {e}")))?
    } else {
        dump
    };
    if !(dump.starts_with(b"MDMP") || dump.starts_with(b"PMDM")) {
        return Err((400, "the uploaded file is not a minidump (no MDMP signature)".into()));
    }
    if !extra.is_empty() {
        let target = event.entry("extra").or_insert_with(|| json!({}));
        if let Value::Object(map) = target {
            map.extend(extra);
        }
    }
    let event_json = serde_json::to_vec(&Value::Object(event)).unwrap_or_default();
    if event_json.len() > MAX_EVENT_BYTES {
        return Err((413, format!("the event fields are {} bytes; the limit is {MAX_EVENT_BYTES}", event_json.len())));
    }
    let mut items = vec![Item { header: ItemHeader { ty: "event".into(), ..Default::default() }, payload: event_json }];
    items.push(attachment(filename, dump, "event.minidump"));
    for (filename, data) in attachments {
        items.push(attachment(filename, data, "event.attachment"));
    }
    Ok(Envelope { header: EnvelopeHeader::default(), items })
}

fn attachment(filename: String, payload: Vec<u8>, attachment_type: &str) -> Item {
    let mut header = ItemHeader { ty: "attachment".into(), filename: Some(filename), ..Default::default() };
    header.other.insert("attachment_type".into(), json!(attachment_type));
    Item { header, payload }
}

/// `[tags][os]` → `["tags", "os"]`.
fn bracket_path(path: &str) -> Vec<String> {
    path.split('[').filter_map(|p| p.strip_suffix(']')).filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

fn set_path(map: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut current = map;
    for key in parents {
        let entry = current.entry(key.clone()).or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        let Value::Object(next) = entry else { return };
        current = next;
    }
    current.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn form(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, filename, data) in parts {
            out.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
            if let Some(f) = filename {
                out.extend(format!("; filename=\"{f}\"\r\nContent-Type: application/octet-stream").as_bytes());
            }
            out.extend(b"\r\n\r\n");
            out.extend(*data);
            out.extend(b"\r\n");
        }
        out.extend(format!("--{boundary}--\r\n").as_bytes());
        out
    }

    #[tokio::test]
    async fn builds_event_and_attachments() {
        let body = form(
            "XyZ",
            &[
                ("sentry", None, br#"{"release":"app@1.0","tags":{"a":"1"}}"#),
                ("sentry[tags][os]", None, b"linux"),
                ("sentry[user][id]", None, b"42"),
                ("prod", None, b"Electron"),
                (MINIDUMP_FIELD, Some("crash.dmp"), b"MDMP\x93\xa7\x00\x00rest"),
                ("log", Some("app.log"), b"line 1\n"),
            ],
        );
        let env = to_envelope(Some("multipart/form-data; boundary=XyZ"), body).await.unwrap();
        let event: Value = serde_json::from_slice(&env.items[0].payload).unwrap();
        assert_eq!(event["release"], "app@1.0");
        assert_eq!(event["tags"], json!({"a": "1", "os": "linux"}));
        assert_eq!(event["user"]["id"], "42");
        assert_eq!(event["extra"]["prod"], "Electron");
        assert_eq!(env.items[1].header.other["attachment_type"], "event.minidump");
        assert_eq!(env.items[1].header.filename.as_deref(), Some("crash.dmp"));
        assert_eq!(env.items[2].header.other["attachment_type"], "event.attachment");
        assert_eq!(env.items[2].payload, b"line 1\n");
    }

    #[tokio::test]
    async fn refuses_what_is_not_a_minidump_upload() {
        let not_dump = form("b", &[(MINIDUMP_FIELD, Some("x.dmp"), b"ELF...")]);
        assert!(to_envelope(Some("multipart/form-data; boundary=b"), not_dump).await.unwrap_err().1.contains("MDMP"));
        let missing = form("b", &[("sentry", None, b"{}")]);
        assert!(to_envelope(Some("multipart/form-data; boundary=b"), missing).await.unwrap_err().1.contains("missing"));
        assert_eq!(to_envelope(Some("application/json"), b"{}".to_vec()).await.unwrap_err().0, 400);
        assert_eq!(to_envelope(Some("multipart/form-data; boundary=b"), b"garbage".to_vec()).await.unwrap_err().0, 400);
        let bad_json = form("b", &[("sentry", None, b"[1]"), (MINIDUMP_FIELD, Some("x"), b"MDMP")]);
        assert!(to_envelope(Some("multipart/form-data; boundary=b"), bad_json)
            .await
            .unwrap_err()
            .1
            .contains("JSON object"));
    }
}
