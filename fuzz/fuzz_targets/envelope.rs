//! Envelope parsing: never panics; whatever parses re-serializes to an equal envelope.
#![no_main]

use errata_protocol::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::parse(data) {
        let again = Envelope::parse(&envelope.to_bytes()).expect("a serialized envelope parses");
        assert_eq!(again.header, envelope.header);
        assert_eq!(again.items.len(), envelope.items.len());
        for (a, b) in again.items.iter().zip(&envelope.items) {
            assert_eq!(a.payload, b.payload);
        }
        let _ = envelope.event_id();
    }
});
