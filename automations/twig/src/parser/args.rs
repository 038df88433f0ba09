//! Named-argument mapping at parse time (scripting.md §10), with Twig's errors.

use crate::ast::Expr;
use crate::error::TwigError;

/// PHP-style camelCase to snake_case (`ignoreCase` → `ignore_case`).
pub fn normalize_name(name: &str) -> String {
    let b: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = b[i - 1];
            let next_lower = b.get(i + 1).is_some_and(char::is_ascii_lowercase);
            // `([a-z\d])([A-Z])` and `([A-Z]+)([A-Z][a-z])`.
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Maps `(name, expr)` arguments to parameter slots.
pub fn map(
    args: Vec<(Option<String>, Expr)>,
    params: &[&str],
    required: usize,
    variadic: bool,
    call_type: &str,
    call_name: &str,
    line: usize,
) -> Result<Vec<Option<Expr>>, TwigError> {
    let mut named = false;
    let mut positional: Vec<Expr> = Vec::new();
    let mut by_name: Vec<(String, Expr)> = Vec::new();
    for (n, e) in args {
        match n {
            Some(n) => {
                named = true;
                let n = normalize_name(&n);
                if let Some(slot) = by_name.iter_mut().find(|(k, _)| *k == n) {
                    slot.1 = e;
                } else {
                    by_name.push((n, e));
                }
            }
            None if named => {
                return Err(TwigError::syntax(
                    format!(
                        "Positional arguments cannot be used after named arguments for {call_type} \"{call_name}\"."
                    ),
                    line,
                ));
            }
            None => positional.push(e),
        }
    }
    if !named {
        return Ok(positional.into_iter().map(Some).collect());
    }
    let mut out: Vec<Option<Expr>> = Vec::new();
    let mut pending = 0usize;
    let mut pos_iter = positional.into_iter();
    let mut pos_count = 0usize;
    let total_positional = pos_iter.len();
    for (idx, p) in params.iter().enumerate() {
        if let Some(i) = by_name.iter().position(|(k, _)| k == p) {
            if pos_count < total_positional {
                return Err(TwigError::syntax(
                    format!("Argument \"{p}\" is defined twice for {call_type} \"{call_name}\"."),
                    line,
                ));
            }
            out.extend((0..pending).map(|_| None));
            pending = 0;
            out.push(Some(by_name.remove(i).1));
        } else if let Some(e) = pos_iter.next() {
            pos_count += 1;
            out.extend((0..pending).map(|_| None));
            pending = 0;
            out.push(Some(e));
        } else if idx < required {
            return Err(TwigError::syntax(
                format!("Value for argument \"{p}\" is required for {call_type} \"{call_name}\"."),
                line,
            ));
        } else {
            pending += 1;
        }
    }
    let extra: Vec<Expr> = pos_iter.collect();
    if variadic {
        out.extend(extra.into_iter().map(Some));
    } else if !extra.is_empty() && by_name.is_empty() {
        let names: Vec<String> = (params.len()..params.len() + extra.len())
            .map(|i| i.to_string())
            .collect();
        return Err(unknown(&names, call_type, call_name, params, line));
    }
    if !by_name.is_empty() {
        let names: Vec<String> = by_name.into_iter().map(|(k, _)| k).collect();
        return Err(unknown(&names, call_type, call_name, params, line));
    }
    Ok(out)
}

fn unknown(
    names: &[String],
    call_type: &str,
    call_name: &str,
    params: &[&str],
    line: usize,
) -> TwigError {
    TwigError::syntax(
        format!(
            "Unknown argument{} \"{}\" for {call_type} \"{call_name}({})\".",
            if names.len() > 1 { "s" } else { "" },
            names.join("\", \""),
            params.join(", ")
        ),
        line,
    )
}

#[cfg(test)]
mod tests {
    use super::normalize_name;

    #[test]
    fn camel_case_becomes_snake_case() {
        assert_eq!(normalize_name("ignoreCase"), "ignore_case");
        assert_eq!(normalize_name("preserve_keys"), "preserve_keys");
        assert_eq!(normalize_name("HTMLParser"), "html_parser");
    }
}
