//! KATA text → tree (kata.md §2–6): lines, key lines, Cerb's indentation
//! stack algorithm, text blocks and sibling checks. References (§7) are
//! resolved afterwards by [`crate::refs`].

use std::collections::HashSet;

use katabox_value::convert::{Number, parse_numeric};

use crate::MAX_DEPTH;
use crate::error::KataError;
use crate::tree::{Node, NodeValue, is_php_ws, split_csv};

/// Annotations that turn a key-only line into a text block (§5.2).
const TEXT_BLOCK_ANNOTATIONS: [&str; 12] = [
    "base64", "bit", "bool", "csv", "date", "float", "int", "json", "list", "raw", "text", "trim",
];

/// A key line split into its parts.
struct KeyLine<'a> {
    /// The key without annotations (a leading `&` kept).
    id: &'a str,
    /// The annotation text after `@`, if any.
    annotations: Option<&'a str>,
    /// Everything after the colon.
    rest: &'a str,
}

/// A parsed entry before the tree is assembled.
struct RawEntry<'t> {
    key: String,
    line: usize,
    value: RawValue,
    sibling: SiblingName<'t>,
}

enum RawValue {
    Text(String),
    Map(usize),
}

/// The sibling-name identity Cerb's loose `in_array` gives: numeric names
/// compare as numbers (`10` and `1e1` collide), others as exact strings.
#[derive(Hash, PartialEq, Eq, Clone, Copy)]
enum SiblingName<'t> {
    Int(i64),
    Float(u64),
    Text(&'t str),
}

impl<'t> SiblingName<'t> {
    fn of(name: &'t str) -> SiblingName<'t> {
        match parse_numeric(name.as_bytes()) {
            Some(Number::Int(i)) => SiblingName::Int(i),
            Some(Number::Float(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => {
                SiblingName::Int(f as i64)
            }
            Some(Number::Float(f)) => SiblingName::Float(f.to_bits()),
            None => SiblingName::Text(name),
        }
    }
}

/// Containers with more children than this index their names in a set.
const LINEAR_SCAN_MAX: usize = 8;

/// One map under construction.
#[derive(Default)]
struct Container<'t> {
    entries: Vec<RawEntry<'t>>,
    /// Sibling names, built once the map outgrows a linear scan.
    index: Option<HashSet<SiblingName<'t>>>,
    depth: usize,
}

/// Maps under construction, addressed by index (the "containers" of §4).
struct Arena<'t> {
    containers: Vec<Container<'t>>,
}

impl<'t> Arena<'t> {
    fn new_container(&mut self, depth: usize) -> usize {
        self.containers.push(Container {
            depth,
            ..Container::default()
        });
        self.containers.len() - 1
    }

    /// Adds `key` (whose name is `name`) to container `c`, failing on a
    /// duplicate sibling.
    fn add(
        &mut self,
        c: usize,
        name: &'t str,
        key: String,
        line: usize,
        value: RawValue,
    ) -> Result<(), KataError> {
        let sibling = SiblingName::of(name);
        let container = &mut self.containers[c];
        let duplicate = match &mut container.index {
            Some(index) => !index.insert(sibling),
            None => {
                let dup = container.entries.iter().any(|e| e.sibling == sibling);
                if !dup && container.entries.len() >= LINEAR_SCAN_MAX {
                    let mut index: HashSet<SiblingName<'t>> =
                        container.entries.iter().map(|e| e.sibling).collect();
                    index.insert(sibling);
                    container.index = Some(index);
                }
                dup
            }
        };
        if duplicate {
            return Err(KataError::DuplicateSibling { key, line });
        }
        container.entries.push(RawEntry {
            key,
            line,
            value,
            sibling,
        });
        Ok(())
    }

    /// Moves container `c` out as nodes.
    fn take(&mut self, c: usize) -> Vec<Node> {
        let entries = std::mem::take(&mut self.containers[c].entries);
        self.containers[c].index = None;
        entries
            .into_iter()
            .map(|e| Node {
                key: e.key,
                line: e.line,
                value: match e.value {
                    RawValue::Text(t) => NodeValue::Text(t),
                    RawValue::Map(m) => NodeValue::Map(self.take(m)),
                },
            })
            .collect()
    }
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.' | b'*')
}

/// PCRE's `\s`.
fn is_pcre_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Matches `&?[keychar]+(@[A-Za-z0-9,]+)?:` at the start of `s`.
fn match_key_line(s: &str) -> Option<KeyLine<'_>> {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'&'));
    let start = i;
    while i < b.len() && is_key_char(b[i]) {
        i += 1;
    }
    if i == start {
        return None;
    }
    let id = &s[..i];
    let mut annotations = None;
    if b.get(i) == Some(&b'@') {
        let a_start = i + 1;
        let mut j = a_start;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b',') {
            j += 1;
        }
        if j == a_start {
            return None;
        }
        annotations = Some(&s[a_start..j]);
        i = j;
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    Some(KeyLine {
        id,
        annotations,
        rest: &s[i + 1..],
    })
}

/// The `type/name` check of §3.2.
fn validate_name(id: &str, line: usize) -> Result<(), KataError> {
    if let Some((kind, name)) = id.split_once('/')
        && !name.is_empty()
        && name != "0"
        && !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
    {
        return Err(KataError::BadName {
            kind: kind.to_owned(),
            name: name.to_owned(),
            line,
        });
    }
    Ok(())
}

/// Leading spaces, or the tab error when other whitespace follows them.
fn indentation(line: &str, error_line: usize) -> Result<usize, KataError> {
    let trimmed = line.trim_start_matches(' ');
    if trimmed.starts_with(is_php_ws) {
        return Err(KataError::Tabs { line: error_line });
    }
    Ok(line.len() - trimmed.len())
}

/// Reads the text block after the key at `lines[key_idx]` (indentation
/// `key_indent`). Returns the text and the index of the first line not
/// consumed.
fn read_text_block(
    lines: &[&str],
    key_idx: usize,
    key_indent: usize,
) -> Result<(String, usize), KataError> {
    let mut text: Vec<u8> = Vec::new();
    let mut block_indent = None;
    let mut j = key_idx + 1;
    while j < lines.len() {
        let line = lines[j];
        let n = indentation(line, key_idx + 1)?;
        let b = *block_indent.get_or_insert(n);
        if n <= key_indent {
            break;
        }
        let bytes = line.as_bytes();
        text.extend_from_slice(&bytes[b.min(bytes.len())..]);
        text.push(b'\n');
        j += 1;
    }
    text.pop();
    let text = match String::from_utf8(text) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Ok((text, j))
}

/// Parses KATA text into nodes (references not yet resolved).
pub(crate) fn parse_nodes(text: &str) -> Result<Vec<Node>, KataError> {
    let cleaned;
    let text = if text.contains('\r') {
        cleaned = text.replace('\r', "");
        cleaned.as_str()
    } else {
        text
    };
    let mut lines: Vec<&str> = Vec::with_capacity(text.bytes().filter(|b| *b == b'\n').count() + 1);
    lines.extend(text.split('\n'));
    let mut arena = Arena {
        containers: Vec::with_capacity(lines.len() / 4 + 1),
    };
    let root = arena.new_container(0);
    let mut stack: Vec<(usize, usize)> = vec![(0, root)];
    let mut cur = root;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let line_no = i + 1;
        if line.trim_matches(is_php_ws).is_empty() {
            i += 1;
            continue;
        }
        let indent = indentation(line, line_no)?;
        let trimmed = &line[indent..];
        let mut deeper = false;
        match stack.last() {
            Some(&(top, _)) if indent > top => deeper = true,
            _ => {
                while let Some(&(top_indent, container)) = stack.last() {
                    if top_indent < indent {
                        break;
                    }
                    cur = container;
                    if top_indent == indent {
                        break;
                    }
                    stack.pop();
                }
            }
        }
        let mut next = i + 1;
        if let Some(kl) = match_key_line(trimmed) {
            validate_name(kl.id, line_no)?;
            if kl.rest.chars().all(is_pcre_space) {
                let attrs = split_csv(kl.annotations.unwrap_or(""));
                let kept: Vec<&str> = attrs.iter().copied().filter(|a| *a != "text").collect();
                let key = if kept.is_empty() {
                    kl.id.to_owned()
                } else {
                    format!("{}@{}", kl.id, kept.join(","))
                };
                if attrs.iter().any(|a| TEXT_BLOCK_ANNOTATIONS.contains(a)) {
                    // Cerb checks for a duplicate before it reads the block.
                    arena.add(cur, kl.id, key, line_no, RawValue::Text(String::new()))?;
                    let (block, after) = read_text_block(&lines, i, indent)?;
                    if let Some(entry) = arena.containers[cur].entries.last_mut() {
                        entry.value = RawValue::Text(block);
                    }
                    next = after;
                    if deeper {
                        stack.push((indent, cur));
                    }
                } else {
                    let depth = arena.containers[cur].depth + 1;
                    if depth > MAX_DEPTH {
                        return Err(KataError::TooDeep { line: line_no });
                    }
                    let map = arena.new_container(depth);
                    arena.add(cur, kl.id, key, line_no, RawValue::Map(map))?;
                    if deeper {
                        stack.push((indent, cur));
                    }
                    cur = map;
                }
            } else {
                let value = kl.rest.trim_start_matches(is_pcre_space);
                let key = match kl.annotations {
                    Some(a) => format!("{}@{}", kl.id, a),
                    None => kl.id.to_owned(),
                };
                arena.add(cur, kl.id, key, line_no, RawValue::Text(value.to_owned()))?;
                if deeper {
                    stack.push((indent, cur));
                }
            }
        } else if trimmed.starts_with('#') {
            if deeper {
                stack.push((indent, cur));
            }
        } else {
            return Err(KataError::UnexpectedSyntax {
                line: line_no,
                text: trimmed.to_owned(),
            });
        }
        i = next;
    }
    Ok(arena.take(root))
}
