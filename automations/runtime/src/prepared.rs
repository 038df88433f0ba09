//! Scripts as parsed and built, cached by their text.
//!
//! A warm runtime instance (the host reuses them) runs the same few scripts
//! over and over; parsing the KATA and building the node tree is then done
//! once per script. The cache holds only what is derived from the script
//! text (never a run's data), keeps at most [`MAX_SCRIPTS`] scripts of at
//! most [`MAX_SCRIPT_BYTES`] each, and is emptied when full.

use crate::tree::{self, Tree};
use foldhash::{HashMap, HashMapExt};
use katabox_kata::{Node, NodeValue};
use std::sync::{Arc, LazyLock, Mutex};

/// Scripts kept.
pub const MAX_SCRIPTS: usize = 64;
/// Larger scripts are prepared every time, not kept.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;

/// A script ready to run, or the error that ends any run of it before the
/// first node (in the order a run reports them).
#[derive(Debug)]
pub enum Prepared {
    /// The script does not parse, or has no nodes.
    Failed(String),
    /// The `inputs:` declarations (validated per run) and the node tree
    /// (or the error building it, reported after the inputs).
    Ready {
        inputs: Option<Vec<Node>>,
        tree: Result<Tree, String>,
    },
}

type Cache = Mutex<HashMap<(usize, String), Arc<Prepared>>>;

static CACHE: LazyLock<Cache> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// `script` prepared with `max_depth`, from the cache when it was seen before.
pub fn prepare(script: &str, max_depth: usize) -> Arc<Prepared> {
    if script.len() > MAX_SCRIPT_BYTES {
        return Arc::new(prepare_uncached(script, max_depth));
    }
    let key = (max_depth, script.to_string());
    if let Ok(cache) = CACHE.lock()
        && let Some(p) = cache.get(&key)
    {
        return p.clone();
    }
    let prepared = Arc::new(prepare_uncached(script, max_depth));
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= MAX_SCRIPTS {
            cache.clear();
        }
        cache.insert(key, prepared.clone());
    }
    prepared
}

fn prepare_uncached(script: &str, max_depth: usize) -> Prepared {
    let parsed = match katabox_kata::parse(script) {
        Ok(t) => t,
        Err(e) => return Prepared::Failed(e.to_string()),
    };
    if parsed.nodes.is_empty() {
        return Prepared::Failed("No `start:` node was found".into());
    }
    let (decls, nodes): (Vec<Node>, Vec<Node>) =
        parsed.nodes.into_iter().partition(|n| n.name() == "inputs");
    let inputs = decls.into_iter().next().map(|d| match d.value {
        NodeValue::Map(children) => children,
        NodeValue::Text(_) => Vec::new(),
    });
    Prepared::Ready {
        inputs,
        tree: tree::build(nodes, max_depth),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_script_is_prepared_once() {
        let script = "start:\n  return:\n    a: prepared-once-test\n";
        let a = prepare(script, 64);
        let b = prepare(script, 64);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(matches!(&*a, Prepared::Ready { tree: Ok(_), .. }));
    }

    #[test]
    fn errors_are_kept_in_run_order() {
        assert!(
            matches!(&*prepare("", 64), Prepared::Failed(m) if m == "No `start:` node was found")
        );
        let p = prepare(
            "inputs:\n  text/x:\n    required@bool: yes\nstart:\n  return:\n",
            64,
        );
        match &*p {
            Prepared::Ready { inputs, tree } => {
                assert_eq!(inputs.as_ref().map(Vec::len), Some(1));
                assert!(tree.is_ok());
            }
            Prepared::Failed(m) => panic!("{m}"),
        }
    }

    #[test]
    fn oversized_scripts_are_not_kept() {
        let big = format!(
            "start:\n  return:\n    a: {}\n",
            "x".repeat(MAX_SCRIPT_BYTES)
        );
        let a = prepare(&big, 64);
        let b = prepare(&big, 64);
        assert!(!Arc::ptr_eq(&a, &b));
    }
}
