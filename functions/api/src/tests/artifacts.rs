//! Source-map artifact bundles as `sentry-cli sourcemaps upload` sends them: assemble (missing
//! chunks), chunk upload, assemble again for one or more projects, list, delete; bundles that
//! no event could use, foreign projects and malformed requests are refused.

use super::difs::{multipart, sha1, with_body};
use super::*;
use symbolic_debuginfo::sourcebundle::{SourceBundleWriter, SourceFileInfo, SourceFileType};

const DEBUG_ID: &str = "c941d872-b8b0-4d6c-9c5e-7d7c1f0a2b3c";

/// A bundle as sentry-cli builds it: a minified script with a debug id and its source map.
fn bundle(debug_id: Option<&str>, release: Option<&str>) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = SourceBundleWriter::start(&mut out).unwrap();
    if let Some(release) = release {
        writer.set_attribute("release", release);
    }
    let mut script = SourceFileInfo::new();
    script.set_ty(SourceFileType::MinifiedSource);
    script.set_url("~/dist/app.js".into());
    script.add_header("sourcemap".into(), "app.js.map".into());
    let mut map = SourceFileInfo::new();
    map.set_ty(SourceFileType::SourceMap);
    map.set_url("~/dist/app.js.map".into());
    if let Some(id) = debug_id {
        script.add_header("debug-id".into(), id.into());
        map.add_header("debug-id".into(), id.into());
    }
    writer.add_file("_/_/app.js", &b"function a(){}\n"[..], script).unwrap();
    writer.add_file("_/_/app.js.map", &br#"{"version":3,"sources":[],"names":[],"mappings":""}"#[..], map).unwrap();
    writer.finish().unwrap();
    out.into_inner()
}

async fn assemble(w: &World, org: &str, token: &str, body: Value) -> (i64, Value) {
    let path = format!("/api/0/organizations/{org}/artifactbundle/assemble/");
    let (status, body, _) =
        send(w, with_body(Method::POST, &path, "", token, "application/json", body.to_string().into_bytes())).await;
    (status, body)
}

async fn stored(w: &World) -> Vec<errata_domain::difs::ArtifactBundle> {
    let project = w.deps.directory.project_by_slug("acme", "web").await.unwrap().unwrap();
    w.deps.directory.artifact_bundles(project.id).await.unwrap()
}

async fn upload_chunk(w: &World, data: &[u8]) {
    let (ct, body) = multipart(&[("file", &sha1(data), data.to_vec())]);
    let (status, err, _) =
        send(w, with_body(Method::POST, "/api/0/organizations/acme/chunk-upload/", "", TOKEN, &ct, body)).await;
    assert_eq!(status, 200, "{err}");
}

#[tokio::test]
async fn sentry_cli_sourcemaps_upload_flow() {
    let w = world().await;
    let (_, options, _) = call(&w, "/api/0/organizations/acme/chunk-upload/", "", Some(TOKEN)).await;
    assert!(options["accept"].as_array().unwrap().contains(&json!("artifact_bundles")));

    let data = bundle(Some(&DEBUG_ID.to_uppercase()), None);
    let checksum = sha1(&data);
    let request = json!({ "checksum": checksum, "chunks": [checksum], "projects": ["web"], "version": "web@1.0" });
    let (status, answer) = assemble(&w, "acme", TOKEN, request.clone()).await;
    assert_eq!(
        (status, answer["state"].clone(), answer["missingChunks"].clone()),
        (200, json!("not_found"), json!([checksum]))
    );
    upload_chunk(&w, &data).await;
    // Another organization cannot assemble acme's chunks by naming them.
    let (_, foreign) =
        assemble(&w, "other", OTHER_TOKEN, json!({ "checksum": checksum, "chunks": [checksum], "projects": ["web"] }))
            .await;
    assert_eq!(foreign["state"], "not_found");
    let (status, answer) = assemble(&w, "acme", TOKEN, request.clone()).await;
    assert_eq!((status, answer["state"].clone()), (200, json!("ok")), "{answer}");
    let (_, again) = assemble(&w, "acme", TOKEN, request).await;
    assert_eq!(again["state"], "ok");

    let stored = stored(&w).await;
    assert_eq!(stored.len(), 1, "assembled once");
    assert_eq!(stored[0].debug_ids, vec![DEBUG_ID.to_owned()], "normalized to lower case");
    assert_eq!((stored[0].release.as_deref(), stored[0].file_count), (Some("web@1.0"), 2));
    assert_eq!(w.deps.debug_files.get(&stored[0].key).await.unwrap().as_deref(), Some(&data[..]));

    let (status, list, _) = call(&w, "/api/0/projects/acme/web/files/artifact-bundles/", "", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["bundleId"], checksum.as_str());
    assert_eq!(list[0]["associations"], json!([{ "release": "web@1.0", "dist": null }]));
    assert_eq!((list[0]["fileCount"].clone(), list[0]["debugIds"].clone()), (json!(2), json!([DEBUG_ID])));
    let (_, found, _) =
        call(&w, "/api/0/projects/acme/web/files/artifact-bundles/", "query=c941d872", Some(TOKEN)).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, none, _) = call(&w, "/api/0/projects/acme/web/files/artifact-bundles/", "query=zzz", Some(TOKEN)).await;
    assert_eq!(none, json!([]));
    let (_, theirs, _) = call(&w, "/api/0/projects/other/web/files/artifact-bundles/", "", Some(OTHER_TOKEN)).await;
    assert_eq!(theirs, json!([]), "nothing of acme's in other's project");

    let delete = |query: String| {
        with_body(
            Method::DELETE,
            "/api/0/projects/acme/web/files/artifact-bundles/",
            &query,
            TOKEN,
            "application/json",
            vec![],
        )
    };
    let (status, _, _) = send(&w, delete("bundleId=0000000000000000000000000000000000000000".into())).await;
    assert_eq!(status, 404);
    let (status, _, _) = send(&w, delete(format!("bundleId={checksum}"))).await;
    assert_eq!(status, 204);
    assert!(self::stored(&w).await.is_empty());
    assert!(w.deps.debug_files.get(&stored[0].key).await.unwrap().is_none(), "its bytes went with it");
}

#[tokio::test]
async fn useless_bundles_and_bad_requests_are_refused() {
    let w = world().await;
    // Neither debug ids nor a release: no event could ever use it.
    let data = bundle(None, None);
    upload_chunk(&w, &data).await;
    let c = sha1(&data);
    let (status, answer) =
        assemble(&w, "acme", TOKEN, json!({ "checksum": c, "chunks": [c], "projects": ["web"] })).await;
    assert_eq!((status, answer["state"].clone()), (200, json!("error")));
    assert!(answer["detail"].as_str().unwrap().contains("sourcemaps inject"), "{answer}");
    // A release named in the bundle's manifest is enough.
    let data = bundle(None, Some("web@2"));
    upload_chunk(&w, &data).await;
    let c2 = sha1(&data);
    let (_, answer) = assemble(&w, "acme", TOKEN, json!({ "checksum": c2, "chunks": [c2], "projects": ["web"] })).await;
    assert_eq!(answer["state"], "ok", "{answer}");
    assert_eq!(stored(&w).await[0].release.as_deref(), Some("web@2"));

    // Not a zip at all.
    let junk = b"not a bundle".to_vec();
    upload_chunk(&w, &junk).await;
    let j = sha1(&junk);
    let (_, answer) = assemble(&w, "acme", TOKEN, json!({ "checksum": j, "chunks": [j], "projects": ["web"] })).await;
    assert_eq!(answer["state"], "error");
    assert!(answer["detail"].as_str().unwrap().starts_with("Not an artifact bundle"), "{answer}");

    // A bomb: 60 KB of zip whose manifest inflates to 17 MB (found by the `uploads` fuzz
    // target: symbolic's reader inflated it whole). Refused before anything reads it whole,
    // as a debug file too.
    let bomb = {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("manifest.json", deflated).unwrap();
        std::io::Write::write_all(&mut zip, &vec![b' '; 17 * 1024 * 1024]).unwrap();
        zip.finish().unwrap();
        out.into_inner()
    };
    assert!(bomb.len() < 100_000);
    upload_chunk(&w, &bomb).await;
    let b = sha1(&bomb);
    let (_, answer) = assemble(&w, "acme", TOKEN, json!({ "checksum": b, "chunks": [b], "projects": ["web"] })).await;
    assert_eq!(answer["state"], "error");
    assert!(answer["detail"].as_str().unwrap().contains("\"manifest.json\" in the zip is larger than"), "{answer}");
    let (status, answer, _) = send(
        &w,
        with_body(
            Method::POST,
            "/api/0/projects/acme/web/files/difs/assemble/",
            "",
            TOKEN,
            "application/json",
            json!({ b.clone(): { "name": "bomb.zip", "chunks": [b] } }).to_string().into_bytes(),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer[&b]["state"], "error", "{answer}");
    assert!(answer[&b]["detail"].as_str().unwrap().contains("larger than"), "{answer}");

    for (body, needle) in [
        (json!({ "chunks": [c], "projects": ["web"] }), "checksum"),
        (json!({ "checksum": c, "projects": ["web"] }), "chunks"),
        (json!({ "checksum": c, "chunks": [c] }), "projects"),
        (json!({ "checksum": c, "chunks": [c], "projects": [] }), "projects"),
        (json!({ "checksum": c, "chunks": [c], "projects": ["nope"] }), "no project \"nope\""),
        (json!({ "checksum": c, "chunks": [c], "projects": ["web"], "version": "a\nb" }), "version"),
        (json!({ "checksum": c, "chunks": [c], "projects": ["web"], "dist": 7 }), "dist"),
    ] {
        let (status, err) = assemble(&w, "acme", TOKEN, body.clone()).await;
        assert_eq!(status, 400, "{body} → {err}");
        assert!(err["detail"].as_str().unwrap().contains(needle), "{body} → {err}");
    }
    // Another organization's project cannot be named.
    let (status, _) =
        assemble(&w, "acme", TOKEN, json!({ "checksum": c, "chunks": [c], "projects": ["web", "mobile"] })).await;
    assert_eq!(status, 400);
}
