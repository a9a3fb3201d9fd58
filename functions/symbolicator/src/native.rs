//! Native symbolication: a SymCache per debug file (built once, then cached), frames looked up
//! by their address relative to the image that holds them, inlined frames expanded (innermost
//! first, as `symbolic` returns them), names demangled (C++, Rust, Swift).

use symbolic_common::{Language, Name, NameMangling};
use symbolic_debuginfo::Archive;
use symbolic_demangle::{Demangle, DemangleOptions};
use symbolic_symcache::{SymCache, SymCacheConverter};

/// The SymCache of the object with `debug_id` in a debug file.
pub fn build_symcache(file: &[u8], debug_id: &str) -> Result<Vec<u8>, String> {
    let archive = Archive::parse(file).map_err(|e| format!("unreadable debug file: {e}"))?;
    for object in archive.objects() {
        let object = object.map_err(|e| format!("unreadable object: {e}"))?;
        if !object.debug_id().to_string().eq_ignore_ascii_case(debug_id) {
            continue;
        }
        let mut converter = SymCacheConverter::new();
        converter.process_object(&object).map_err(|e| format!("cannot index {debug_id}: {e}"))?;
        let mut out = Vec::new();
        converter.serialize(&mut std::io::Cursor::new(&mut out)).map_err(|e| e.to_string())?;
        return Ok(out);
    }
    Err(format!("no object with debug id {debug_id} in the file"))
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
mod tests {
    use super::*;
    use symbolic_debuginfo::Object;

    /// A C program compiled here with debug info, and the address of its `divide` function
    /// as its own symbol table says.
    fn compiled() -> (Vec<u8>, String, u64) {
        let dir = std::env::temp_dir().join(format!("errata-native-{}", std::process::id()));
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
        let (data, debug_id, address) = compiled();
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
