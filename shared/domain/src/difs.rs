//! Debug information files (DIFs): what an upload with `sentry-cli debug-files upload` becomes
//! once its chunks are assembled — one record per object in the file (a universal Mach-O holds
//! several), found again by debug id when stack traces are symbolicated — and the source-map
//! artifact bundles of `sentry-cli sourcemaps upload`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugFile {
    /// Unique within the project: the file's SHA-1, plus `:<n>` for the n-th object of a
    /// multi-object file.
    pub id: String,
    pub project_id: u64,
    /// The object's debug id (`<uuid>` or `<uuid>-<age>`), lower case.
    pub debug_id: String,
    pub code_id: Option<String>,
    /// The name it was uploaded under (a path).
    pub object_name: String,
    /// `x86_64`, `arm64`…
    pub cpu_name: String,
    /// `elf`, `macho`, `pe`, `pdb`, `breakpad`, `sourcebundle`, `wasm`, `portablepdb`.
    pub file_format: String,
    /// `executable`, `library`, `debug` (separate debug info), `sources`…
    pub object_kind: String,
    /// What the object holds: `symtab`, `debug`, `unwind`, `sources`.
    pub features: Vec<String>,
    /// SHA-1 of the whole uploaded file.
    pub sha1: String,
    pub size: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Where the file is, in the debug-files bucket.
    pub key: String,
}

/// A source-map artifact bundle, as `sentry-cli sourcemaps upload` sends it: a zip of minified
/// sources and their source maps with a `manifest.json`, found again by the debug ids its files
/// carry (`sentry-cli sourcemaps inject`) or by release, dist and URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactBundle {
    /// The bundle's SHA-1.
    pub id: String,
    pub project_id: u64,
    pub release: Option<String>,
    pub dist: Option<String>,
    /// Debug ids of the bundle's files (lower case, deduplicated).
    pub debug_ids: Vec<String>,
    pub file_count: u32,
    pub size: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Where the bundle is, in the debug-files bucket.
    pub key: String,
}

impl ArtifactBundle {
    /// Whether the bundle may hold the files of an event of `release` and `dist` (a bundle
    /// uploaded without a dist serves every dist of its release).
    pub fn serves_release(&self, release: &str, dist: Option<&str>) -> bool {
        self.release.as_deref() == Some(release) && (self.dist.is_none() || self.dist.as_deref() == dist)
    }
}

/// The URLs a bundle may list a frame's file under, most specific first: the URL as sent, and
/// its path below the host as `~/path` (how `sentry-cli` names files by default), without
/// query or fragment.
pub fn url_candidates(abs_path: &str) -> Vec<String> {
    let mut out = vec![abs_path.to_owned()];
    let bare = abs_path.split(['?', '#']).next().unwrap_or(abs_path);
    if bare != abs_path {
        out.push(bare.to_owned());
    }
    let path = match bare.split_once("://") {
        // `app:///dist/a.js`, `https://host/dist/a.js`: the path below the host.
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]),
        // A file path, as Node reports it: `/srv/app/dist/a.js`.
        None => bare.starts_with('/').then_some(bare),
    };
    if let Some(path) = path {
        out.push(format!("~{path}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_bundle_urls_with_and_without_host() {
        assert_eq!(
            url_candidates("https://cdn.example.com/static/app.min.js?v=3"),
            [
                "https://cdn.example.com/static/app.min.js?v=3",
                "https://cdn.example.com/static/app.min.js",
                "~/static/app.min.js"
            ]
        );
        assert_eq!(url_candidates("app:///dist/a.js"), ["app:///dist/a.js", "~/dist/a.js"]);
        assert_eq!(url_candidates("/srv/app/a.js"), ["/srv/app/a.js", "~/srv/app/a.js"]);
        assert_eq!(url_candidates("native"), ["native"]);
    }

    #[test]
    fn release_bundles_serve_their_dists() {
        let mut b = ArtifactBundle {
            id: "x".into(),
            project_id: 1,
            release: Some("1.0".into()),
            dist: None,
            debug_ids: vec![],
            file_count: 0,
            size: 0,
            created_at: 0,
            key: String::new(),
        };
        assert!(b.serves_release("1.0", Some("ios")));
        assert!(!b.serves_release("2.0", None));
        b.dist = Some("ios".into());
        assert!(
            b.serves_release("1.0", Some("ios"))
                && !b.serves_release("1.0", Some("web"))
                && !b.serves_release("1.0", None)
        );
    }
}
