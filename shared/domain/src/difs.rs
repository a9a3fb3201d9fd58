//! Debug information files (DIFs): what an upload with `sentry-cli debug-files upload` becomes
//! once its chunks are assembled — one record per object in the file (a universal Mach-O holds
//! several), found again by debug id when stack traces are symbolicated.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugFile {
    /// Unique within the project: the file's SHA-1, plus `:<n>` for the n-th object of a
    /// multi-object file.
    pub id: String,
    pub project_id: u64,
    /// The object's debug id (`<uuid>` or `<uuid>-<age>`), lower case.
    pub debug_id: String,
    pub code_id: Option<String>,
    /// The name it was uploaded under (a path).
    pub object_name: String,
    /// `x86_64`, `arm64`…
    pub cpu_name: String,
    /// `elf`, `macho`, `pe`, `pdb`, `breakpad`, `sourcebundle`, `wasm`, `portablepdb`.
    pub file_format: String,
    /// `executable`, `library`, `debug` (separate debug info), `sources`…
    pub object_kind: String,
    /// What the object holds: `symtab`, `debug`, `unwind`, `sources`.
    pub features: Vec<String>,
    /// SHA-1 of the whole uploaded file.
    pub sha1: String,
    pub size: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Where the file is, in the debug-files bucket.
    pub key: String,
}
