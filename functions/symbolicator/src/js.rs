//! JavaScript symbolication: a minified script and its source map, found in an uploaded
//! artifact bundle by the script's debug id (what `sentry-cli sourcemaps inject` writes and the
//! SDK reports in `debug_meta`) or by release, dist and URL; turned once into a SourceMapCache
//! (symbolic's compact index, which also knows each position's enclosing function from the
//! original source's scopes); frames looked up by line and column.

use errata_domain::symbols::Resolved;
use serde_json::Value;
use std::str::FromStr;
use symbolic_common::DebugId;
use symbolic_debuginfo::sourcebundle::{SourceBundle, SourceFileType};
use symbolic_sourcemapcache::{ScopeLookupResult, SourceMapCache, SourceMapCacheWriter, SourcePosition};

/// Lines of source context on each side of a frame's line.
const CONTEXT_LINES: u32 = 5;
/// Longest context line kept; minified or generated lines are cut.
const MAX_CONTEXT_LINE: usize = 200;

/// How a script's source map was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    DebugId,
    Release,
}

impl Found {
    pub fn as_str(self) -> &'static str {
        match self {
            Found::DebugId => "debug-id",
            Found::Release => "release",
        }
    }
}

/// A script's minified source and source map, as read from a bundle.
pub struct Script {
    pub source: String,
    pub sourcemap: String,
    /// The source map's URL in the bundle (or the debug id it was found by).
    pub sourcemap_url: String,
}

/// The script with `debug_id` in an artifact bundle, if the bundle holds it and its map.
pub fn by_debug_id(bundle: &[u8], debug_id: &str) -> Result<Option<Script>, String> {
    let id = DebugId::from_str(debug_id).map_err(|_| format!("{debug_id:?} is not a debug id"))?;
    let bundle = SourceBundle::parse(bundle).map_err(|e| format!("unreadable bundle: {e}"))?;
    let session = bundle.debug_session().map_err(|e| format!("unreadable bundle: {e}"))?;
    let get = |ty| session.source_by_debug_id(id, ty).ok().flatten().and_then(|d| d.into_contents());
    let (Some(source), Some(sourcemap)) = (get(SourceFileType::MinifiedSource), get(SourceFileType::SourceMap)) else {
        return Ok(None);
    };
    Ok(Some(Script {
        source: source.into_owned(),
        sourcemap: sourcemap.into_owned(),
        sourcemap_url: debug_id.to_owned(),
    }))
}

/// The script at one of `urls` in an artifact bundle, with the source map it references
/// (`sourcemap` header or `sourceMappingURL` comment, relative to the script's URL).
pub fn by_url(bundle: &[u8], urls: &[String]) -> Result<Option<Script>, String> {
    let bundle = SourceBundle::parse(bundle).map_err(|e| format!("unreadable bundle: {e}"))?;
    let session = bundle.debug_session().map_err(|e| format!("unreadable bundle: {e}"))?;
    for url in urls {
        let Some(script) = session.source_by_url(url).ok().flatten() else { continue };
        let Some(reference) = script.source_mapping_url().map(str::to_owned) else { continue };
        let map_url = join_url(url, &reference);
        let Some(map) = session.source_by_url(&map_url).ok().flatten() else { continue };
        let (Some(source), Some(sourcemap)) = (script.contents(), map.contents()) else { continue };
        return Ok(Some(Script { source: source.to_owned(), sourcemap: sourcemap.to_owned(), sourcemap_url: map_url }));
    }
    Ok(None)
}

/// `reference` resolved against `base` the way a browser resolves a relative URL's path.
fn join_url(base: &str, reference: &str) -> String {
    if reference.contains("://") || reference.starts_with('/') || reference.starts_with('~') {
        return reference.to_owned();
    }
    let dir = base.rfind('/').map_or("", |i| &base[..=i]);
    let mut parts: Vec<&str> = dir.trim_end_matches('/').split('/').collect();
    for segment in reference.split('/') {
        match segment {
            "." | "" => {}
            ".." if parts.len() > 1 => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The SourceMapCache of a minified source and its map.
pub fn build_cache(script: &Script) -> Result<Vec<u8>, String> {
    let writer = SourceMapCacheWriter::new(&script.source, &script.sourcemap)
        .map_err(|e| format!("unreadable source map: {e}"))?;
    let mut out = Vec::new();
    writer.serialize(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// What a script frame becomes with its script's SourceMapCache: the original file, line,
/// column and enclosing function, with source context, marked `symbolicated`; or kept as sent,
/// marked `missing` when the map has no mapping at its position.
pub fn resolve(frame: &Value, cache: &SourceMapCache<'_>, found: Found, sourcemap_url: &str) -> Resolved {
    let (Some(line), Some(column)) =
        (frame.get("lineno").and_then(Value::as_u64), frame.get("colno").and_then(Value::as_u64))
    else {
        return Resolved::Skip;
    };
    let position = SourcePosition::new(line.saturating_sub(1) as u32, column.saturating_sub(1) as u32);
    let Some(location) = cache.lookup(position) else { return Resolved::Mark("missing") };
    let mut f = frame.clone();
    if let Some(file) = location.file_name() {
        f["abs_path"] = file.into();
        let shown = display_name(file);
        if f.get("module").is_some() {
            // The SDK named the module after the minified file; name it after the original.
            f["module"] = shown.rsplit_once('.').map_or(shown.as_str(), |(stem, _)| stem).into();
        }
        f["filename"] = shown.into();
        f["in_app"] = (!file.contains("/node_modules/")).into();
    }
    f["lineno"] = (location.line() + 1).into();
    f["colno"] = (location.column() + 1).into();
    match location.scope() {
        ScopeLookupResult::NamedScope(name) => f["function"] = name.into(),
        ScopeLookupResult::AnonymousScope => f["function"] = "<anonymous>".into(),
        ScopeLookupResult::Unknown => {}
    }
    if let Some(file) = location.file() {
        let at = location.line();
        let line_of = |n: u32| {
            file.line(n as usize)
                .map(|l| l.trim_end_matches(['\n', '\r']).chars().take(MAX_CONTEXT_LINE).collect::<String>())
        };
        if let Some(context) = line_of(at) {
            f["context_line"] = context.into();
            f["pre_context"] = (at.saturating_sub(CONTEXT_LINES)..at).filter_map(line_of).collect::<Vec<_>>().into();
            f["post_context"] = (at + 1..=at + CONTEXT_LINES).map_while(line_of).collect::<Vec<_>>().into();
        } else {
            // The map did not embed this source; do not show the minified line as its context.
            for key in ["context_line", "pre_context", "post_context"] {
                if let Some(map) = f.as_object_mut() {
                    map.remove(key);
                }
            }
        }
    }
    let data = f.get("data").cloned().filter(Value::is_object).unwrap_or_else(|| serde_json::json!({}));
    f["data"] = data;
    f["data"]["sourcemap"] = sourcemap_url.into();
    f["data"]["resolved_with"] = found.as_str().into();
    f["symbolicator_status"] = "symbolicated".into();
    Resolved::Frames(vec![f])
}

/// A source file's name to show: the path below a `webpack://`-style scheme and without
/// leading `./` and `../`.
fn display_name(file: &str) -> String {
    let path = file.split_once("://").map_or(file, |(_, rest)| rest);
    let mut path = path.trim_start_matches('/');
    while let Some(rest) = path.strip_prefix("./").or_else(|| path.strip_prefix("../")) {
        path = rest;
    }
    path.to_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relative_map_references_resolve_against_the_script() {
        assert_eq!(join_url("~/dist/app.min.js", "app.min.js.map"), "~/dist/app.min.js.map");
        assert_eq!(join_url("~/dist/js/app.js", "../maps/app.js.map"), "~/dist/maps/app.js.map");
        assert_eq!(join_url("https://h/a/b.js", "./b.js.map"), "https://h/a/b.js.map");
        assert_eq!(join_url("~/a.js", "https://cdn/a.js.map"), "https://cdn/a.js.map");
    }

    #[test]
    fn source_file_names_are_shown_without_scheme_and_dots() {
        assert_eq!(display_name("webpack://app/./src/util.ts"), "app/./src/util.ts");
        assert_eq!(display_name("../src/util.ts"), "src/util.ts");
        assert_eq!(display_name("src/a.js"), "src/a.js");
    }

    /// A tiny minified script and a source map for it, written by hand in the v3 format: `throw`
    /// at column 14 of the minified line maps to line 3 of `src/app.js`, inside `explode`.
    pub(crate) fn fixture() -> Script {
        let source = "function a(){throw new Error(\"x\")}function b(){a()}b();\n".to_owned();
        // Segments (generated column, source, original line, original column[, name]), VLQ.
        let sourcemap = json!({
            "version": 3,
            "file": "app.min.js",
            "sources": ["src/app.js"],
            "sourcesContent": ["// app\nfunction explode() {\n  throw new Error(\"x\");\n}\nfunction run() {\n  explode();\n}\nrun();\n"],
            "names": ["explode", "run"],
            "mappings": "AACA,SAASA,IACP,qBAEF,SAASC,IACPD,IAEFC"
        })
        .to_string();
        Script { source, sourcemap, sourcemap_url: "~/app.min.js.map".into() }
    }

    #[test]
    fn frames_map_to_original_file_line_and_function() {
        let script = fixture();
        let bytes = build_cache(&script).unwrap();
        let cache = SourceMapCache::parse(&bytes).unwrap();
        // `throw` at column 14 (1-based) of the minified line: `explode`, line 3 of src/app.js.
        let frame =
            json!({"abs_path": "https://x/app.min.js", "lineno": 1, "colno": 14, "function": "a", "module": "app.min"});
        let Resolved::Frames(frames) = resolve(&frame, &cache, Found::DebugId, "~/app.min.js.map") else {
            panic!("resolved")
        };
        let f = &frames[0];
        assert_eq!(f["abs_path"], "src/app.js");
        assert_eq!(f["module"], "src/app");
        assert_eq!(f["lineno"], 3, "{f}");
        assert_eq!(f["function"], "explode", "{f}");
        assert_eq!(f["context_line"], "  throw new Error(\"x\");");
        assert_eq!(f["pre_context"], json!(["// app", "function explode() {"]));
        assert_eq!(f["post_context"][0], "}");
        assert_eq!(f["data"]["resolved_with"], "debug-id");
        let far = json!({"abs_path": "https://x/app.min.js", "lineno": 9, "colno": 1});
        assert_eq!(resolve(&far, &cache, Found::Release, ""), Resolved::Mark("missing"));
    }
}
