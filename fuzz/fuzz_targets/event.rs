//! Event processing on arbitrary JSON: normalization, inbound filters (all on), scrubbing,
//! the typed view, grouping and the summary never panic, and the hash is always well formed.
#![no_main]

use errata_domain::filters::InboundFilters;
use errata_domain::scrub::{scrub_event, ScrubSettings};
use errata_domain::{EventSummary, Grouping};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

fuzz_target!(|data: &[u8]| {
    let Ok(mut event) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if !event.is_object() {
        return;
    }
    errata_domain::normalize::normalize_event(&mut event);
    let filters = InboundFilters {
        localhost: true,
        legacy_browsers: true,
        error_messages: vec!["*a?c*".into()],
        releases: vec!["*-dev".into()],
        ..Default::default()
    };
    let _ = filters.check(&event);
    let settings =
        ScrubSettings { scrub_ip_addresses: true, sensitive_fields: vec!["iban".into()], ..Default::default() };
    scrub_event(&mut event, &settings);
    if let Ok(view) = errata_protocol::Event::deserialize(&event) {
        let grouping = Grouping::of(&view);
        assert_eq!(grouping.hash.len(), 32);
        assert!(grouping.hash.bytes().all(|b| b.is_ascii_hexdigit()));
        let _ = EventSummary::of(&view);
    }
    let _ = serde_json::to_vec(&event).expect("a normalized event serializes");
});
