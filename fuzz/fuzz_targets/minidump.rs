//! The symbolicator's readers of uploaded native files on arbitrary bytes: the first byte
//! picks what the rest is.
//! - even: a minidump (an SDK's crash upload), listed and stack-walked into an event with no
//!   debug files, so the walker falls back to frame pointers and scanning over whatever the
//!   dump claims its stacks and registers are;
//! - odd: a debug file, read by `symbolic` and turned into Breakpad CFI for the walker.
//!
//! Reading may fail, with a reason; it never panics, and a walked dump leaves an exception.
#![no_main]

use errata_symbolicator::minidump::{apply, build_cfi, modules};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::sync::OnceLock;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("runtime"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    if selector & 1 == 0 {
        let listed = modules(body);
        let mut event = serde_json::json!({ "platform": "native" });
        let walked = runtime().block_on(apply(body, HashMap::new(), &mut event));
        if walked.is_ok() {
            assert!(event.get("exception").is_some(), "a walked dump becomes the event's exception: {event}");
            if let Ok(listed) = listed {
                let images = event["debug_meta"]["images"].as_array().map_or(0, Vec::len);
                assert_eq!(images, listed.len(), "every listed module is an image of the event");
            }
        }
    } else {
        let _ = build_cfi(body, "00000000-0000-0000-0000-000000000000");
    }
});
