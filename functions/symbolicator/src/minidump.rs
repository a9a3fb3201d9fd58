//! Minidumps: the crash dump a native crash reporter (Breakpad, Crashpad, `sentry-minidump`)
//! uploads is stack-walked with rust-minidump — with the call frame information (CFI) of the
//! modules whose debug files were uploaded, frame pointers and stack scanning elsewhere — into
//! the crashing exception, every thread's stack and the list of loaded modules. The frames then
//! go through native symbolication like any other.

use async_trait::async_trait;
use minidump::{Minidump, Module};
use minidump_unwind::{FileError, FileKind, LocateSymbolsResult, SymbolError, SymbolFile, SymbolSupplier, Symbolizer};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use symbolic_cfi::AsciiCfiWriter;

/// A module (executable or shared library) loaded in the crashed process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpModule {
    pub code_file: String,
    /// As `symbolic` prints it, lower case: what debug files are indexed by.
    pub debug_id: Option<String>,
    pub code_id: Option<String>,
    pub base: u64,
    pub size: u64,
}

/// The modules a minidump lists.
pub fn modules(dump: &[u8]) -> Result<Vec<DumpModule>, String> {
    let dump = Minidump::read(dump).map_err(|e| format!("not a minidump: {e}"))?;
    let list = dump.get_stream::<minidump::MinidumpModuleList>().map_err(|e| format!("no module list: {e}"))?;
    Ok(list.iter().map(module_of).collect())
}

fn module_of(m: &minidump::MinidumpModule) -> DumpModule {
    DumpModule {
        code_file: m.code_file().into_owned(),
        debug_id: m.debug_identifier().filter(|id| !id.is_nil()).map(|id| id.to_string().to_ascii_lowercase()),
        code_id: m.code_identifier().map(|c| c.to_string()),
        base: m.base_address(),
        size: m.size(),
    }
}

/// What the stack walker needs of a debug file, in Breakpad's text format: a `MODULE` line,
/// `PUBLIC` records for the symbol table (which tell stack scanning where functions are) and
/// `STACK CFI` records. Kept beside the file's SymCache.
pub fn build_cfi(file: &[u8], debug_id: &str) -> Result<Vec<u8>, String> {
    crate::native::with_object(file, debug_id, |object| {
        let mut out =
            format!("MODULE Linux {} {} module\n", object.arch().name(), object.debug_id().breakpad()).into_bytes();
        let load = object.load_address();
        for symbol in object.symbol_map().iter() {
            if let Some(name) = symbol.name() {
                let name: String = name.chars().filter(|c| !c.is_control()).collect();
                out.extend(format!("PUBLIC {:x} 0 {name}\n", symbol.address.saturating_sub(load)).into_bytes());
            }
        }
        let mut writer = AsciiCfiWriter::new(out);
        writer.process(object).map_err(|e| format!("cannot read call frame information: {e}"))?;
        Ok(writer.into_inner())
    })
}

/// Serves the stack walker the CFI built from uploaded debug files, by module code file.
struct UploadedCfi(HashMap<String, Vec<u8>>);

#[async_trait]
impl SymbolSupplier for UploadedCfi {
    async fn locate_symbols(&self, module: &(dyn Module + Sync)) -> Result<LocateSymbolsResult, SymbolError> {
        let text = self.0.get(&*module.code_file()).ok_or(SymbolError::NotFound)?;
        Ok(LocateSymbolsResult { symbols: SymbolFile::from_bytes(text)?, extra_debug_info: None })
    }

    async fn locate_file(&self, _module: &(dyn Module + Sync), _kind: FileKind) -> Result<PathBuf, FileError> {
        Err(FileError::NotFound)
    }
}

/// Walks the dump's stacks (with `cfi`, Breakpad text by module code file) and writes what it
/// finds into the event: the crash as its exception (reason, address, the crashing thread's
/// frames), every thread, the modules as `debug_meta.images`, and the OS and CPU.
pub async fn apply(dump: &[u8], cfi: HashMap<String, Vec<u8>>, event: &mut Value) -> Result<(), String> {
    let dump = Minidump::read(dump).map_err(|e| format!("not a minidump: {e}"))?;
    let provider = Symbolizer::new(UploadedCfi(cfi));
    let state = minidump_processor::process_minidump(&dump, &provider)
        .await
        .map_err(|e| format!("unreadable minidump: {e}"))?;

    let frames_of = |stack: &minidump_unwind::CallStack| -> Value {
        // Sentry lists frames outermost first; the walker innermost first.
        let frames: Vec<Value> = stack
            .frames
            .iter()
            .rev()
            .map(|f| {
                let mut frame = json!({
                    "instruction_addr": format!("{:#x}", f.instruction),
                    "trust": trust(f.trust),
                });
                if let Some(m) = &f.module {
                    frame["package"] = m.code_file().into_owned().into();
                }
                frame
            })
            .collect();
        json!({ "frames": frames })
    };
    let crashed = state.requesting_thread;
    let threads: Vec<Value> = state
        .threads
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut thread = json!({ "id": t.thread_id, "crashed": Some(i) == crashed, "current": Some(i) == crashed });
            if let Some(name) = &t.thread_name {
                thread["name"] = name.clone().into();
            }
            if Some(i) != crashed {
                thread["stacktrace"] = frames_of(t);
            }
            thread
        })
        .collect();
    let (reason, address) = match &state.exception_info {
        Some(info) => (info.reason.to_string(), Some(format!("{:#x}", info.address.0))),
        None => ("Crash".to_owned(), None),
    };
    let mut exception = json!({
        "type": reason.split_whitespace().next().unwrap_or("Crash"),
        "value": match &address {
            Some(a) => format!("Fatal Error: {reason} at {a}"),
            None => format!("Fatal Error: {reason}"),
        },
        "mechanism": {"type": "minidump", "handled": false, "synthetic": true, "data": {"minidump": "processed"}},
    });
    if let Some(stack) = crashed.and_then(|i| state.threads.get(i)) {
        exception["stacktrace"] = frames_of(stack);
        exception["thread_id"] = stack.thread_id.into();
    }
    event["exception"] = json!({ "values": [exception] });
    event["threads"] = json!({ "values": threads });
    let images: Vec<Value> = state
        .modules
        .iter()
        .map(module_of)
        .map(|m| {
            json!({
                "type": "elf",
                "code_file": m.code_file,
                "debug_id": m.debug_id,
                "code_id": m.code_id,
                "image_addr": format!("{:#x}", m.base),
                "image_size": m.size,
            })
        })
        .collect();
    event["debug_meta"] = json!({ "images": images });
    event["level"] = "fatal".into();
    event["platform"] = "native".into();
    let contexts = event.get("contexts").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
    event["contexts"] = contexts;
    if event["contexts"].get("os").is_none() {
        event["contexts"]["os"] =
            json!({ "name": state.system_info.os.long_name(), "version": state.system_info.os_version });
    }
    if event["contexts"].get("device").is_none() {
        event["contexts"]["device"] = json!({ "arch": state.system_info.cpu.to_string() });
    }
    Ok(())
}

/// How the walker found a frame, in Sentry's words.
fn trust(t: minidump_unwind::FrameTrust) -> &'static str {
    use minidump_unwind::FrameTrust::*;
    match t {
        Context => "context",
        PreWalked => "prewalked",
        CallFrameInfo => "cfi",
        CfiScan => "cfi-scan",
        FramePointer => "fp",
        Scan => "scan",
        None => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_files_become_breakpad_cfi_with_public_symbols() {
        let (data, debug_id, address) = crate::native::tests::compiled_fixture();
        let text = String::from_utf8(build_cfi(&data, &debug_id).unwrap()).unwrap();
        assert!(text.starts_with("MODULE Linux x86_64 "), "{text}");
        assert!(text.contains(&format!("PUBLIC {address:x} 0 divide\n")), "{text}");
        assert!(text.contains("STACK CFI INIT "), "the object's .eh_frame, as CFI records");
        // The stack walker reads it.
        assert!(SymbolFile::from_bytes(text.as_bytes()).is_ok());
        assert!(build_cfi(&data, "00000000-0000-0000-0000-000000000001").is_err());
        assert!(modules(b"MDMP but not really").is_err());
    }

    /// `fuzz/synth_minidump.py`'s dump (also the minidump fuzz target's seed): a SIGSEGV in
    /// `/usr/bin/crashy`, with two return addresses into it on the stack.
    const DUMP: &[u8] = include_bytes!("../../../tests/fixtures/minidump/linux-amd64.dmp");

    #[tokio::test]
    async fn a_dump_without_debug_files_walks_by_frame_pointers() {
        let listed = modules(DUMP).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].code_file, "/usr/bin/crashy");
        assert_eq!(listed[0].base, 0x5555_5555_4000);
        // The debug id is the build id's first 16 bytes as a GUID (age 0).
        assert_eq!(listed[0].debug_id.as_deref(), Some("04030201-0605-0807-090a-0b0c0d0e0f10"));

        let mut event = serde_json::json!({ "contexts": { "os": { "name": "Linux", "version": "6.1" } } });
        apply(DUMP, HashMap::new(), &mut event).await.unwrap();
        let exception = &event["exception"]["values"][0];
        assert_eq!(exception["type"], "SIGSEGV", "{event}");
        assert!(exception["value"].as_str().unwrap().ends_with("at 0xdead"), "{exception}");
        let frames = exception["stacktrace"]["frames"].as_array().unwrap();
        let addresses: Vec<&str> = frames.iter().map(|f| f["instruction_addr"].as_str().unwrap()).collect();
        // Outermost first: the callers (their return addresses less one, inside the call),
        // the first by the frame pointer, the outer one by scanning the stack; then the crash.
        assert_eq!(addresses, ["0x555555556fff", "0x555555555fff", "0x555555555234"], "{frames:?}");
        let trust: Vec<&str> = frames.iter().map(|f| f["trust"].as_str().unwrap()).collect();
        assert_eq!(trust, ["scan", "fp", "context"]);
        assert_eq!(frames.last().unwrap()["package"], "/usr/bin/crashy");
        assert_eq!(event["debug_meta"]["images"][0]["image_addr"], "0x555555554000");
        assert_eq!(event["contexts"]["os"]["version"], "6.1", "the SDK's context is kept");
        assert_eq!(event["level"], "fatal");
    }
}
