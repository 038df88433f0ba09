//! `vobject_parse`: vCard / iCalendar text into nested components.

use crate::callable::{Args, CallError, Env};
use crate::library::util::{cerb_str, charge_for};
use katabox_value::{Array, Key, Value};

/// A component being built.
struct Comp {
    name: String,
    body: Array,
    props: Array,
}

impl Comp {
    fn new(name: &str) -> Comp {
        Comp {
            name: name.to_ascii_uppercase(),
            body: Array::new(),
            props: Array::new(),
        }
    }

    fn finish(mut self) -> (String, Value) {
        let mut out = Array::new();
        out.insert("props", Value::array(self.props));
        for (k, v) in self.body.iter() {
            out.insert(k.clone(), v.clone());
        }
        self.body = Array::new();
        (self.name, Value::array(out))
    }
}

fn push_child(target: &mut Array, name: String, comp: Value) {
    let key = Key::from(name.as_str());
    let mut list = match target.get(&key) {
        Some(Value::Array(a)) => (**a).clone(),
        _ => Array::new(),
    };
    list.push(comp);
    target.insert(key, Value::array(list));
}

/// Splits `a;b="c;d":v` at the first `:` outside quotes.
fn split_line(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some((&line[..i], &line[i + 1..])),
            _ => {}
        }
    }
    None
}

fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses vCard/iCalendar text.
pub fn parse(text: &str) -> Array {
    let unfolded = text
        .replace("\r\n", "\n")
        .replace("\n ", "")
        .replace("\n\t", "");
    let mut root = Array::new();
    let mut stack: Vec<Comp> = Vec::new();
    for line in unfolded.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some((head, value)) = split_line(line) else {
            continue;
        };
        let mut parts = head.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_uppercase();
        if name == "BEGIN" {
            if stack.len() < 64 {
                stack.push(Comp::new(value.trim()));
            }
            continue;
        }
        if name == "END" {
            if let Some(c) = stack.pop() {
                let (n, v) = c.finish();
                match stack.last_mut() {
                    Some(parent) => push_child(&mut parent.body, n, v),
                    None => push_child(&mut root, n, v),
                }
            }
            continue;
        }
        let Some(cur) = stack.last_mut() else {
            continue;
        };
        let mut params = Array::new();
        for p in parts {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            params.insert(
                Key::from(k.trim().to_ascii_uppercase().as_str()),
                Value::str(v.trim_matches('"')),
            );
        }
        let mut prop = Array::new();
        prop.insert("params", Value::array(params));
        prop.insert("value", Value::str(unescape(value)));
        push_child(&mut cur.props, name, Value::array(prop));
    }
    while let Some(c) = stack.pop() {
        let (n, v) = c.finish();
        match stack.last_mut() {
            Some(parent) => push_child(&mut parent.body, n, v),
            None => push_child(&mut root, n, v),
        }
    }
    root
}

/// `vobject_parse(text)`.
pub fn vobject_parse(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(args.required(0)?) else {
        return Ok(Value::Bool(false));
    };
    charge_for(env, s.len())?;
    Ok(Value::array(parse(&s.to_string_lossy())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::je;

    #[test]
    fn vcard() {
        let v = Value::array(parse(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kina Halpue\r\nEMAIL;TYPE=work:kina@cerb.example\r\nNOTE:a\\, b\r\n  c\r\nEND:VCARD\r\n",
        ));
        assert_eq!(
            je(&v),
            r#"{"VCARD":[{"props":{"VERSION":[{"params":[],"value":"3.0"}],"FN":[{"params":[],"value":"Kina Halpue"}],"EMAIL":[{"params":{"TYPE":"work"},"value":"kina@cerb.example"}],"NOTE":[{"params":[],"value":"a, b c"}]}}]}"#
        );
    }

    #[test]
    fn nested_calendar() {
        let v = Value::array(parse(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR",
        ));
        assert_eq!(
            je(&v),
            r#"{"VCALENDAR":[{"props":[],"VEVENT":[{"props":{"SUMMARY":[{"params":[],"value":"x"}]}}]}]}"#
        );
    }
}
