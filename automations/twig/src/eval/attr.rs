//! Attribute access (`a.b`, `a[b]`, `a.b()`) with the sandbox's object
//! rules (scripting.md §3.4, §5.4).

use crate::ast::AttrKind;
use crate::callable::CallError;
use crate::objects::markup_text;
use katabox_value::{Key, Value};

/// Methods of PHP's DateTime, lower-cased (for getter resolution).
const DATETIME_METHODS: &[&str] = &[
    "__construct",
    "__wakeup",
    "__set_state",
    "createfromimmutable",
    "createfrominterface",
    "createfromformat",
    "getlasterrors",
    "format",
    "modify",
    "add",
    "sub",
    "gettimezone",
    "settimezone",
    "getoffset",
    "settime",
    "setdate",
    "setisodate",
    "settimestamp",
    "gettimestamp",
    "diff",
];

/// The array key for a lookup value (bools and floats become ints).
pub fn key_of(v: &Value) -> Option<Key> {
    match v {
        Value::Object(_) => markup_text(v).map(Key::from_pstr),
        other => Key::from_value(other),
    }
}

/// Looks up `key` in `obj`; `Ok(None)` means "not there" (prints as null).
pub fn get_attribute(obj: &Value, key: &Value, kind: AttrKind) -> Result<Option<Value>, CallError> {
    if kind != AttrKind::Method
        && let Value::Array(a) = obj
    {
        return Ok(key_of(key).and_then(|k| a.get(&k).cloned()));
    }
    if kind == AttrKind::Array {
        return Ok(None);
    }
    let Value::Object(o) = obj else {
        return Ok(None);
    };
    if markup_text(obj).is_some() {
        return Ok(None);
    }
    // XML elements allow any property: the first child element of that name.
    if let Some(x) = crate::library::xml::XmlElement::from_value(obj) {
        if kind == AttrKind::Method {
            return Ok(None);
        }
        let name = katabox_value::convert::to_pstr(key).unwrap_or_default();
        return Ok(x.child(&name.to_string_lossy()));
    }
    let name = katabox_value::convert::to_pstr(key)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let class = o.class_name().to_string();
    let lname = name.to_ascii_lowercase();
    if class == "DateTime" || class == "DateTimeImmutable" {
        let method = if kind == AttrKind::Method {
            DATETIME_METHODS
                .contains(&lname.as_str())
                .then(|| lname.clone())
        } else {
            ["", "get", "is", "has"]
                .iter()
                .map(|p| format!("{p}{lname}"))
                .find(|m| DATETIME_METHODS.contains(&m.as_str()))
        };
        return match method {
            Some(m) => Err(CallError::Twig(format!(
                "Calling \"{m}\" method on a \"{class}\" object is not allowed."
            ))),
            None => Ok(None),
        };
    }
    // Plain objects expose their properties through their JSON form.
    if kind == AttrKind::Any
        && let Value::Array(props) = o.to_json_value()
        && props.get_str(&name).is_some()
    {
        return Err(CallError::Twig(format!(
            "Calling \"{name}\" property on a \"{class}\" object is not allowed."
        )));
    }
    if kind == AttrKind::Method {
        return Err(CallError::Twig(format!(
            "Calling \"{lname}\" method on a \"{class}\" object is not allowed."
        )));
    }
    Ok(None)
}

/// `is defined` on an attribute: the key exists (even holding null).
pub fn attribute_defined(obj: &Value, key: &Value, kind: AttrKind) -> bool {
    match obj {
        Value::Array(a) if kind != AttrKind::Method => {
            key_of(key).is_some_and(|k| a.contains_key(&k))
        }
        _ => false,
    }
}
