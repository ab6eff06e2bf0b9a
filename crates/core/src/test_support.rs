//! Helpers shared by the unit tests: the read-only material in `../shared`.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A file under `shared/`: beside the repository (`../shared`, as CI lays it
/// out; this crate is `crates/core` in it), else `/work/shared`.
pub fn shared(rel: &str) -> PathBuf {
    let first = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    if first.exists() {
        first
    } else {
        Path::new("/work/shared").join(rel)
    }
}

/// A JSON file under `shared/`, parsed (keys in file order).
pub fn shared_json(rel: &str) -> Value {
    let path = shared(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The recording of the reference SDK.
pub fn recording() -> Value {
    shared_json("conformance/wx-server-sdk-4.0.2.json")
}

/// The recorded request case with this name.
pub fn request_case(name: &str) -> Value {
    recording()["requests"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no recorded request {name:?}"))
}
