//! Debug file uploads as sentry-cli makes them: options, assemble (missing chunks), chunk
//! upload (plain and gzipped, checked against their names), assemble again, list, delete; and
//! chunks stay with their organization.

use super::*;
use std::io::Write;

/// A Breakpad symbol file: the smallest object format `symbolic` reads with a debug id.
const SYM: &str =
    "MODULE Linux x86_64 B6A9F2A3C8D94F1E8D2C7B0A4E5F6A7B0 app\nFILE 0 /src/app.c\nFUNC 1000 20 0 main\n1000 10 5 0\n";
const DEBUG_ID: &str = "b6a9f2a3-c8d9-4f1e-8d2c-7b0a4e5f6a7b";

pub(super) fn sha1(data: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(data))
}

pub(super) fn with_body(
    method: Method,
    path: &str,
    query: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Request {
    let mut req = get(path, query, Some(token));
    req.request_context.http.method = method;
    req.headers.insert("content-type", HeaderValue::from_str(content_type).unwrap());
    req.body = Some(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, body));
    req.is_base64_encoded = true;
    req
}

pub(super) fn multipart(parts: &[(&str, &str, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "errataboundary";
    let mut body = Vec::new();
    for (field, file, data) in parts {
        write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").unwrap();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{boundary}--\r\n").unwrap();
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

async fn assemble(w: &World, org: &str, token: &str, files: Value) -> (i64, Value) {
    let path = format!("/api/0/projects/{org}/web/files/difs/assemble/");
    let (status, body, _) =
        send(w, with_body(Method::POST, &path, "", token, "application/json", files.to_string().into_bytes())).await;
    (status, body)
}

#[tokio::test]
async fn sentry_cli_upload_flow_assembles_lists_and_deletes() {
    let w = world().await;
    let (status, options, _) = call(&w, "/api/0/organizations/acme/chunk-upload/", "", Some(TOKEN)).await;
    assert_eq!(status, 200, "{options}");
    assert_eq!(options["url"], "http://api.test/base/api/0/organizations/acme/chunk-upload/");
    assert_eq!((options["hashAlgorithm"].clone(), options["chunkSize"].clone()), (json!("sha1"), json!(1 << 20)));

    // Two chunks: the file is cut in the middle.
    let (a, b) = SYM.as_bytes().split_at(40);
    let (ca, cb, file) = (sha1(a), sha1(b), sha1(SYM.as_bytes()));
    let request = json!({ &file: { "name": "app.sym", "chunks": [&ca, &cb] } });
    let (status, answer) = assemble(&w, "acme", TOKEN, request.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer[&file]["state"], "not_found");
    assert_eq!(answer[&file]["missingChunks"], json!([&ca, &cb]));

    // A chunk whose content is not its name is refused, and nothing of that request is kept.
    let (ct, body) = multipart(&[("file", &ca, a.to_vec()), ("file", &ca, b.to_vec())]);
    let (status, err, _) =
        send(&w, with_body(Method::POST, "/api/0/organizations/acme/chunk-upload/", "", TOKEN, &ct, body)).await;
    assert_eq!(status, 400, "{err}");
    assert!(err["detail"].as_str().unwrap().contains("does not match its checksum"));
    let (_, answer) = assemble(&w, "acme", TOKEN, request.clone()).await;
    assert_eq!(answer[&file]["missingChunks"], json!([&ca, &cb]));

    // One plain and one gzipped chunk.
    let (ct, body) = multipart(&[("file", &ca, a.to_vec()), ("file_gzip", &cb, gzip(b))]);
    let (status, _, _) =
        send(&w, with_body(Method::POST, "/api/0/organizations/acme/chunk-upload/", "", TOKEN, &ct, body)).await;
    assert_eq!(status, 200);

    // Another organization cannot assemble acme's chunks by naming them.
    let (_, foreign) = assemble(&w, "other", OTHER_TOKEN, request.clone()).await;
    assert_eq!(foreign[&file]["state"], "not_found");

    let (status, answer) = assemble(&w, "acme", TOKEN, request.clone()).await;
    assert_eq!(status, 200);
    let dif = &answer[&file]["dif"];
    assert_eq!(answer[&file]["state"], "ok", "{answer}");
    assert_eq!(
        (dif["debugId"].clone(), dif["cpuName"].clone(), dif["symbolType"].clone()),
        (json!(DEBUG_ID), json!("x86_64"), json!("breakpad"))
    );
    assert_eq!(dif["objectName"], "app.sym");
    // Asking again is answered from the index.
    let (_, again) = assemble(&w, "acme", TOKEN, request).await;
    assert_eq!(again[&file]["dif"]["id"], dif["id"]);

    let (status, list, _) = call(&w, "/api/0/projects/acme/web/files/dsyms/", "", Some(TOKEN)).await;
    assert_eq!((status, list.as_array().unwrap().len()), (200, 1), "{list}");
    let (_, found, _) = call(&w, "/api/0/projects/acme/web/files/dsyms/", "query=b6a9f2a3", Some(TOKEN)).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, none, _) = call(&w, "/api/0/projects/acme/web/files/dsyms/", "query=nothing", Some(TOKEN)).await;
    assert_eq!(none, json!([]));
    let (_, theirs, _) = call(&w, "/api/0/projects/other/web/files/dsyms/", "", Some(OTHER_TOKEN)).await;
    assert_eq!(theirs, json!([]), "nothing of acme's in other's project");

    let id = dif["id"].as_str().unwrap();
    let req = with_body(
        Method::DELETE,
        "/api/0/projects/acme/web/files/dsyms/",
        &format!("id={id}"),
        TOKEN,
        "application/json",
        b"{}".to_vec(),
    );
    let (status, _, _) = send(&w, req).await;
    assert_eq!(status, 204);
    let (_, list, _) = call(&w, "/api/0/projects/acme/web/files/dsyms/", "", Some(TOKEN)).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn what_is_not_a_debug_file_or_not_a_request_is_refused() {
    let w = world().await;
    let junk = b"this is not an object file".to_vec();
    let c = sha1(&junk);
    let (ct, body) = multipart(&[("file", &c, junk)]);
    let (status, _, _) =
        send(&w, with_body(Method::POST, "/api/0/organizations/acme/chunk-upload/", "", TOKEN, &ct, body)).await;
    assert_eq!(status, 200);
    let (_, answer) = assemble(&w, "acme", TOKEN, json!({ &c: { "name": "junk.bin", "chunks": [&c] } })).await;
    assert_eq!(answer[&c]["state"], "error");
    assert!(answer[&c]["detail"].as_str().unwrap().contains("junk.bin"), "{answer}");

    for bad in [
        json!([]),
        json!({ "xyz": { "name": "a", "chunks": [] } }),
        json!({ &c: { "chunks": [&c] } }),
        json!({ &c: { "name": "a", "chunks": ["nope"] } }),
    ] {
        let (status, body) = assemble(&w, "acme", TOKEN, bad.clone()).await;
        assert_eq!(status, 400, "{bad} → {body}");
    }
    let (ct, body) = multipart(&[("other", &c, b"x".to_vec())]);
    let (status, _, _) =
        send(&w, with_body(Method::POST, "/api/0/organizations/acme/chunk-upload/", "", TOKEN, &ct, body)).await;
    assert_eq!(status, 400);
    // A gzip bomb stops at one chunk and a byte.
    let bomb = gzip(&vec![0u8; 3 << 20]);
    let (ct, body) = multipart(&[("file_gzip", &sha1(&vec![0u8; 3 << 20]), bomb)]);
    let (status, err, _) =
        send(&w, with_body(Method::POST, "/api/0/organizations/acme/chunk-upload/", "", TOKEN, &ct, body)).await;
    assert_eq!(status, 400, "{err}");
}

/// A project keeps at most `MAX_DEBUG_FILES` debug files: one more is an error that says so
/// (the symbolicator reads them all for each native event, so the list is bounded, not cut).
#[tokio::test]
async fn a_project_full_of_debug_files_says_so() {
    let w = world().await;
    for i in 0..crate::difs::MAX_DEBUG_FILES {
        let file = errata_domain::difs::DebugFile {
            id: format!("f{i}"),
            project_id: 1,
            debug_id: format!("{i:08x}-0000-0000-0000-000000000000"),
            code_id: None,
            object_name: "x".into(),
            cpu_name: "x86_64".into(),
            file_format: "breakpad".into(),
            object_kind: "debug".into(),
            features: vec![],
            sha1: format!("f{i}"),
            size: 1,
            created_at: 0,
            key: format!("difs/1/f{i}"),
        };
        w.deps.directory.put_debug_file(&file).await.unwrap();
    }
    let file = sha1(SYM.as_bytes());
    let (ct, body) = multipart(&[("file", &file, SYM.as_bytes().to_vec())]);
    let upload = with_body(Method::POST, "/api/0/organizations/acme/chunk-upload/", "", TOKEN, &ct, body);
    assert_eq!(send(&w, upload).await.0, 200);
    let (status, answer) =
        assemble(&w, "acme", TOKEN, json!({ &file: { "name": "app.sym", "chunks": [&file] } })).await;
    assert_eq!(status, 200);
    assert_eq!(answer[&file]["state"], "error", "{answer}");
    assert!(answer[&file]["detail"].as_str().unwrap().contains("at most 10000 are kept"), "{answer}");
}
