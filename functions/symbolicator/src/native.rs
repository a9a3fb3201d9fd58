//! Native symbolication: a SymCache per debug file (built once, then cached), frames looked up
//! by their address relative to the image that holds them, inlined frames expanded (innermost
//! first, as `symbolic` returns them), names demangled (C++, Rust, Swift).

use symbolic_common::{Language, Name, NameMangling};
use symbolic_debuginfo::{Archive, Object};
use symbolic_demangle::{Demangle, DemangleOptions};
use symbolic_symcache::{SymCache, SymCacheConverter};

/// Hands `work` the object with `debug_id` in a debug file (a universal Mach-O holds several).
pub fn with_object<T>(
    file: &[u8],
    debug_id: &str,
    work: impl FnOnce(&Object<'_>) -> Result<T, String>,
) -> Result<T, String> {
    let archive = Archive::parse(file).map_err(|e| format!("unreadable debug file: {e}"))?;
    for object in archive.objects() {
        let object = object.map_err(|e| format!("unreadable object: {e}"))?;
        if object.debug_id().to_string().eq_ignore_ascii_case(debug_id) {
            return work(&object);
        }
    }
    Err(format!("no object with debug id {debug_id} in the file"))
}

/// The SymCache of the object with `debug_id` in a debug file.
pub fn build_symcache(file: &[u8], debug_id: &str) -> Result<Vec<u8>, String> {
    with_object(file, debug_id, |object| {
        let mut converter = SymCacheConverter::new();
        converter.process_object(object).map_err(|e| format!("cannot index {debug_id}: {e}"))?;
        let mut out = Vec::new();
        converter.serialize(&mut std::io::Cursor::new(&mut out)).map_err(|e| e.to_string())?;
        Ok(out)
    })
}

/// One source location of an address: the function, its file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub function: String,
    pub raw_function: String,
    pub file: Option<String>,
    pub line: u32,
}

/// The locations of `relative_address` (the frame's address minus its image's), innermost
/// (inlined) first; empty when the address has no symbol.
pub fn lookup(symcache: &[u8], relative_address: u64) -> Result<Vec<Location>, String> {
    let cache = SymCache::parse(symcache).map_err(|e| format!("unreadable SymCache: {e}"))?;
    Ok(cache
        .lookup(relative_address)
        .map(|loc| {
            let function = loc.function();
            let raw = function.name().to_owned();
            Location {
                function: demangle(&raw, function.language()),
                raw_function: raw,
                file: loc.file().map(|f| f.full_path()).filter(|p| !p.is_empty()),
                line: loc.line(),
            }
        })
        .collect())
}

fn demangle(raw: &str, language: Language) -> String {
    let name = Name::new(raw, NameMangling::Unknown, language);
    name.try_demangle(DemangleOptions::name_only()).into_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use symbolic_debuginfo::Object;

    /// A C program compiled here with debug info, and the address of its `divide` function
    /// as its own symbol table says.
    pub(crate) fn compiled_fixture() -> (Vec<u8>, String, u64) {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("errata-native-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("divide.c");
        std::fs::write(&source, "static int divide(int a, int b) {\n  return a / b;\n}\nint main(int argc, char **argv) { return divide(argc, argc - 1); }\n").unwrap();
        let binary = dir.join("divide");
        let status = std::process::Command::new("cc")
            .args(["-g", "-O0", "-o"])
            .arg(&binary)
            .arg(&source)
            .status()
            .expect("a C compiler (cc) runs this test");
        assert!(status.success());
        let data = std::fs::read(&binary).unwrap();
        let (debug_id, address) = {
            let object = Object::parse(&data).unwrap();
            let symbols = object.symbol_map();
            let divide = symbols.iter().find(|s| s.name() == Some("divide")).expect("divide in the symbol table");
            (object.debug_id().to_string(), divide.address - object.load_address())
        };
        (data, debug_id, address)
    }

    #[test]
    fn looks_up_function_file_and_line_of_an_address() {
        let (data, debug_id, address) = compiled_fixture();
        let cache = build_symcache(&data, &debug_id).unwrap();
        // A few bytes into the function: its body, on line 1 or 2 of the file.
        let found = lookup(&cache, address + 4).unwrap();
        let outer = found.last().expect("a location");
        assert_eq!(outer.function, "divide");
        assert!(outer.file.as_deref().unwrap().ends_with("divide.c"), "{outer:?}");
        assert!((1..=2).contains(&outer.line), "{outer:?}");
        assert!(lookup(&cache, u64::MAX / 2).unwrap().is_empty(), "no symbol far away");
        assert!(build_symcache(&data, "00000000-0000-0000-0000-000000000001").is_err());
    }

    #[test]
    fn demangles_rust_and_cpp() {
        assert_eq!(demangle("_ZN4core9panicking5panic17h0123456789abcdefE", Language::Rust), "core::panicking::panic");
        assert_eq!(demangle("_ZN3foo3barEv", Language::Cpp), "foo::bar");
        assert_eq!(demangle("main", Language::C), "main");
    }
}

use errata_domain::symbols::{address, Resolved};
pub use errata_domain::symbols::{images, needs_symbols, Image};

/// What a native frame becomes: its (inlined) source frames, marked `symbolicated`; or kept
/// as sent, marked `unknown_image` (outside every image) or `missing` (no debug file, or no
/// symbol at its address). `symcache` gives the SymCache of a debug id, if there is one.
pub fn resolve<'c>(
    frame: &serde_json::Value,
    images: &[Image],
    symcache: &dyn Fn(&str) -> Option<&'c [u8]>,
) -> Resolved {
    let Some(addr) = frame.get("instruction_addr").and_then(address) else { return Resolved::Skip };
    let image =
        images.iter().find(|i| addr >= i.image_addr && (i.image_size == 0 || addr < i.image_addr + i.image_size));
    let Some(image) = image else { return Resolved::Mark("unknown_image") };
    let found =
        symcache(&image.debug_id).and_then(|cache| lookup(cache, addr - image.image_addr).ok()).unwrap_or_default();
    if found.is_empty() {
        return Resolved::Mark("missing");
    }
    // symbolic lists the innermost (inlined) location first; a stack trace ends with it.
    Resolved::Frames(
        found
            .iter()
            .rev()
            .map(|loc| {
                let mut f = frame.clone();
                f["function"] = loc.function.clone().into();
                f["raw_function"] = loc.raw_function.clone().into();
                if let Some(path) = &loc.file {
                    f["abs_path"] = path.clone().into();
                    f["filename"] = path.rsplit('/').next().unwrap_or(path).to_owned().into();
                }
                f["lineno"] = loc.line.into();
                f["symbolicator_status"] = "symbolicated".into();
                f
            })
            .collect(),
    )
}

/// Symbolicates every native frame of the event in place (see [`resolve`]); the frames as sent
/// are kept as `raw_stacktrace`.
pub fn symbolicate<'c>(event: &mut serde_json::Value, symcache: &dyn Fn(&str) -> Option<&'c [u8]>) {
    let images = images(event);
    errata_domain::symbols::rewrite_frames(event, &mut |frame| resolve(frame, &images, symcache));
}

#[cfg(test)]
mod event_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frames_become_source_frames_and_keep_their_raw_form() {
        let (data, debug_id, address) = tests::compiled_fixture();
        let cache = build_symcache(&data, &debug_id).unwrap();
        let base = 0x5555_0000_0000u64;
        let mut event = json!({
            "exception": {"values": [{"type": "SIGFPE", "stacktrace": {"frames": [
                {"instruction_addr": "0x10", "function": "outside"},
                {"instruction_addr": format!("{:#x}", base + address + 4)}
            ]}}]},
            "debug_meta": {"images": [{"type": "elf", "debug_id": debug_id.to_uppercase(), "image_addr": format!("{base:#x}"), "image_size": 1 << 20}]}
        });
        assert!(needs_symbols(&event));
        let asked = std::cell::RefCell::new(Vec::new());
        symbolicate(&mut event, &|id| {
            asked.borrow_mut().push(id.to_owned());
            Some(cache.as_slice())
        });
        assert_eq!(asked.into_inner(), vec![debug_id.to_ascii_lowercase()]);
        let frames = event.pointer("/exception/values/0/stacktrace/frames").unwrap().as_array().unwrap();
        assert_eq!(frames[0]["symbolicator_status"], "unknown_image");
        let last = frames.last().unwrap();
        assert_eq!(
            (last["function"].clone(), last["symbolicator_status"].clone()),
            (json!("divide"), json!("symbolicated"))
        );
        assert_eq!(last["filename"], "divide.c");
        assert!(event.pointer("/exception/values/0/raw_stacktrace/frames/1/instruction_addr").is_some());
        assert!(!needs_symbols(&event), "looked at once");

        // Without a debug file the frame stays as sent, marked missing.
        let mut other = json!({
            "exception": {"values": [{"stacktrace": {"frames": [{"instruction_addr": format!("{:#x}", base + 8)}]}}]},
            "debug_meta": {"images": [{"debug_id": debug_id, "image_addr": format!("{base:#x}"), "image_size": 4096}]}
        });
        symbolicate(&mut other, &|_| None);
        assert_eq!(other.pointer("/exception/values/0/stacktrace/frames/0/symbolicator_status").unwrap(), "missing");
        assert!(other.pointer("/exception/values/0/raw_stacktrace").is_none());
    }
}
