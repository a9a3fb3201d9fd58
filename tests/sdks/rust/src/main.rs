//! Sends what a Rust service sends with the `sentry` crate: an error, a message and a session.
//!     errata-sdk-rust-app DSN TAG

use std::fmt;

#[derive(Debug)]
struct RustCaptureError(String);

impl fmt::Display for RustCaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for RustCaptureError {}

fn load_config(tag: &str) -> Result<(), RustCaptureError> {
    Err(RustCaptureError(format!("config load failed for {tag}")))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dsn), Some(tag)) = (args.next(), args.next()) else {
        eprintln!("usage: errata-sdk-rust-app DSN TAG");
        std::process::exit(2);
    };
    let mut options = sentry::ClientOptions::default();
    options.release = Some(format!("rust-app@{tag}").into());
    options.environment = Some("e2e".into());
    options.auto_session_tracking = true;
    let guard = sentry::init((dsn, options));
    if let Err(e) = load_config(&tag) {
        let id = sentry::capture_error(&e);
        println!("{}", id.simple());
    }
    sentry::capture_message(&format!("rust message {tag}"), sentry::Level::Warning);
    sentry::end_session();
    guard.flush(Some(std::time::Duration::from_secs(10)));
}
