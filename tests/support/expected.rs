//! tests/conformance/expected-failures.txt: one case per line, its path
//! relative to tests/conformance/, then a short reason. `#` starts a comment.

use std::collections::BTreeMap;
use std::path::Path;

/// Case label → reason.
pub fn load(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e.to_string()),
    };
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (case, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(format!("line {}: `{case}` needs a reason", n + 1));
        }
        out.insert(case.to_string(), reason.to_string());
    }
    Ok(out)
}
