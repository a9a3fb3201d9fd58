//! Native symbolication figures (`make bench`): SymCache build time and size for a large
//! debug file — by default this workspace's own `errata-api` debug build (DWARF included) —
//! and warm lookups per second on one core with the cached SymCache.
//!     cargo bench -p errata-symbolicator --bench symcache [-- /path/to/debug/file]

mod common;

use errata_symbolicator::native::{build_symcache, lookup};
use std::time::Instant;
use symbolic_debuginfo::Object;

fn main() {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let path = std::env::args().nth(1).filter(|a| !a.starts_with('-')).unwrap_or(format!("{target}/debug/errata-api"));
    let data =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (build it first: cargo build -p errata-api)"));
    let object = Object::parse(&data).expect("an object file");
    let debug_id = object.debug_id().to_string();
    let mut addresses: Vec<u64> = object.symbol_map().iter().map(|s| s.address - object.load_address() + 2).collect();
    addresses.sort_unstable();
    drop(object);

    let t0 = Instant::now();
    let cache = build_symcache(&data, &debug_id).expect("a SymCache");
    let build = t0.elapsed();
    println!("debug file        {path} ({:.1} MB)", data.len() as f64 / 1e6);
    println!("SymCache build    {:.2} s, {:.1} MB", build.as_secs_f64(), cache.len() as f64 / 1e6);

    println!("peak memory       {:.0} MB resident (the process so far: inputs and cache)", common::peak_rss_mb());
    // Frames as a crash has them: symbols' addresses, many times over.
    let frames = addresses.len().max(1) * (200_000 / addresses.len().max(1)).max(1);
    let t0 = Instant::now();
    let mut found = 0usize;
    for i in 0..frames {
        found += lookup(&cache, addresses[i % addresses.len()]).expect("lookup").len();
    }
    let elapsed = t0.elapsed().as_secs_f64();
    println!(
        "warm lookups      {:.0} frames/s on one core ({frames} frames, {found} source locations)",
        frames as f64 / elapsed
    );
}
