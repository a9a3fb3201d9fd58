//! The issue search syntax (`is:unresolved level:error !release:1.* "free text" age:-24h …`) on
//! arbitrary text: parsing never panics, and what parses prints and parses again the same.
#![no_main]

use errata_domain::search::Query;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(query) = Query::parse(text) {
        let shown = format!("{query:?}");
        assert!(!shown.is_empty());
        let again = Query::parse(text).expect("parsing is deterministic");
        assert_eq!(format!("{again:?}"), shown);
    }
});
