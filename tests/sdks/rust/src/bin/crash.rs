//! A Rust program that crashes for real (SIGABRT) with the `sentry-minidump` integration: its
//! crash reporter process writes a minidump of the crashed process and sends it to the DSN.
//!     crash DSN TAG

/// Where the crash happens: its name and line are what symbolication must find.
#[inline(never)]
fn explode(tag: &str) {
    eprintln!("crashing ({tag})");
    std::process::abort();
}

#[inline(never)]
fn run(tag: &str) {
    explode(tag);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dsn), Some(tag)) = (args.next(), args.next()) else {
        eprintln!("usage: crash DSN TAG");
        std::process::exit(2);
    };
    let crashes = std::env::temp_dir().join(format!("errata-crashes-{tag}"));
    let mut options = sentry::ClientOptions::default();
    options.release = Some(format!("native-crash@{tag}").into());
    options.environment = Some("e2e".into());
    let options = options.add_integration(sentry_minidump::MinidumpIntegration::new().crashes_dir(crashes));
    let _guard = sentry::init((dsn, options));
    // Only the app process gets here; the crash reporter runs inside `init`.
    std::thread::sleep(std::time::Duration::from_millis(500));
    run(&tag);
}
