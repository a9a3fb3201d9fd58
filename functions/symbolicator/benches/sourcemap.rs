//! JavaScript symbolication figures (`make bench`): for a generated bundle with a source map of
//! about 5 MB (25,000 functions over 20 original files, sources embedded), the SourceMapCache's
//! build time and size — what the first event using the map pays, once — and warm lookups per
//! second on one core, each a frame mapped to file, line, column and enclosing function.
//!     cargo bench -p errata-symbolicator --bench sourcemap [-- FUNCTIONS]

mod common;

use errata_domain::symbols::Resolved;
use errata_symbolicator::js::{build_cache, resolve, Found, Script};
use std::fmt::Write;
use std::time::Instant;
use symbolic_sourcemapcache::SourceMapCache;

const FILES: usize = 20;

/// Base64 VLQ, as source maps encode numbers.
fn vlq(out: &mut String, n: i64) {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut v = if n < 0 { ((-n) << 1) | 1 } else { n << 1 } as u64;
    loop {
        let mut digit = (v & 31) as usize;
        v >>= 5;
        if v > 0 {
            digit |= 32;
        }
        out.push(B64[digit] as char);
        if v == 0 {
            break;
        }
    }
}

/// The minified bundle (one line), its source map, and the minified column of every `throw`.
fn generate(functions: usize) -> (Script, Vec<u32>) {
    let mut sources = vec![String::new(); FILES];
    let mut lines = [0i64; FILES];
    let mut minified = String::new();
    let mut mappings = String::new();
    let mut names = Vec::new();
    let mut throws = Vec::new();
    // Previous values of the segment fields (column, source, line, column, name).
    let (mut p_col, mut p_src, mut p_line, mut p_ocol, mut p_name) = (0i64, 0i64, 0i64, 0i64, 0i64);
    let mut segment = |mappings: &mut String, col: usize, src: usize, line: i64, ocol: i64, name: Option<usize>| {
        if !mappings.is_empty() {
            mappings.push(',');
        }
        vlq(mappings, col as i64 - p_col);
        vlq(mappings, src as i64 - p_src);
        vlq(mappings, line - p_line);
        vlq(mappings, ocol - p_ocol);
        (p_col, p_src, p_line, p_ocol) = (col as i64, src as i64, line, ocol);
        if let Some(n) = name {
            vlq(mappings, n as i64 - p_name);
            p_name = n as i64;
        }
    };
    for i in 0..functions {
        let file = i % FILES;
        let line = lines[file];
        let _ = write!(
            sources[file],
            "export function handler{i}(input) {{\n  const value = input.items[{k}];\n  if (!value) throw new Error(\"missing {i}\");\n  return value * {i};\n}}\n\n",
            k = i % 7
        );
        lines[file] += 6;
        names.push(format!("handler{i}"));
        let start = minified.len();
        segment(&mut mappings, start, file, line, 0, None);
        let name_at = start + "function ".len();
        segment(&mut mappings, name_at, file, line, 16, Some(i));
        let _ = write!(minified, "function f{i}(b){{");
        segment(&mut mappings, minified.len(), file, line + 1, 2, None);
        let _ = write!(minified, "const c=b.items[{}];", i % 7);
        segment(&mut mappings, minified.len(), file, line + 2, 2, None);
        minified.push_str("if(!c)");
        throws.push(minified.len() as u32);
        segment(&mut mappings, minified.len(), file, line + 2, 14, None);
        let _ = write!(minified, "throw new Error(\"missing {i}\");");
        segment(&mut mappings, minified.len(), file, line + 3, 2, None);
        let _ = write!(minified, "return c*{i}}}");
    }
    let map = serde_json::json!({
        "version": 3,
        "file": "bundle.min.js",
        "sources": (0..FILES).map(|f| format!("src/module{f}.js")).collect::<Vec<_>>(),
        "sourcesContent": sources,
        "names": names,
        "mappings": mappings,
    });
    (Script { source: minified, sourcemap: map.to_string(), sourcemap_url: "~/bundle.min.js.map".into() }, throws)
}

fn main() {
    let functions: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(25_000);
    let (script, throws) = generate(functions);
    println!(
        "source map        {:.1} MB ({functions} functions in {FILES} files), minified bundle {:.1} MB",
        script.sourcemap.len() as f64 / 1e6,
        script.source.len() as f64 / 1e6
    );
    let t0 = Instant::now();
    let bytes = build_cache(&script).expect("a SourceMapCache");
    println!("SourceMapCache    built in {:.2} s, {:.1} MB", t0.elapsed().as_secs_f64(), bytes.len() as f64 / 1e6);

    println!("peak memory       {:.0} MB resident (the process so far: inputs and cache)", common::peak_rss_mb());
    let t0 = Instant::now();
    let cache = SourceMapCache::parse(&bytes).expect("readable");
    let parse = t0.elapsed();
    let frames = 200_000;
    let t0 = Instant::now();
    let mut named = 0usize;
    for i in 0..frames {
        let column = throws[(i * 7919) % throws.len()] + 1;
        let frame = serde_json::json!({"abs_path": "https://cdn.example/bundle.min.js", "lineno": 1, "colno": column, "function": "f"});
        if let Resolved::Frames(out) = resolve(&frame, &cache, Found::DebugId, &script.sourcemap_url) {
            named += usize::from(out[0]["function"].as_str().is_some_and(|f| f.starts_with("handler")));
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    assert_eq!(named, frames, "every frame maps to its original function");
    println!(
        "warm lookups      {:.0} frames/s on one core ({:.1} µs each, with source context; cache opened in {:.1} µs)",
        frames as f64 / elapsed,
        elapsed * 1e6 / frames as f64,
        parse.as_secs_f64() * 1e6
    );
}
