//! XML elements (PHP's SimpleXMLElement as Cerb's `xml_*` functions use
//! it): parsing with `roxmltree`, a small XPath subset, serialisation.

use crate::callable::{Args, CallError, Env};
use crate::library::util::{cerb_str, charge_for, opt, to_str};
use katabox_value::{Array, Object, PStr, Value};
use std::any::Any;
use std::sync::Arc;

/// A child of an element.
#[derive(Debug)]
pub enum XChild {
    /// A child element.
    Elem(Arc<XNode>),
    /// Character data.
    Text(String),
}

/// An element: name (as written, with any prefix), attributes, children.
#[derive(Debug)]
pub struct XNode {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// Namespace declarations written on this element (`xmlns`, `xmlns:p`).
    pub ns_decls: Vec<(String, String)>,
    pub children: Vec<XChild>,
}

impl XNode {
    fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    fn elements(&self) -> impl Iterator<Item = &Arc<XNode>> {
        self.children.iter().filter_map(|c| match c {
            XChild::Elem(e) => Some(e),
            XChild::Text(_) => None,
        })
    }

    /// Direct text content (SimpleXML's string cast).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|c| match c {
                XChild::Text(t) => Some(t.as_str()),
                XChild::Elem(_) => None,
            })
            .collect()
    }
}

/// An XML element value.
#[derive(Debug, Clone)]
pub struct XmlElement {
    /// The element.
    pub node: Arc<XNode>,
    /// True for the document element (serialised with an XML header).
    pub is_root: bool,
}

impl XmlElement {
    /// Wraps as a value.
    pub fn into_value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    /// The element in a value, if any.
    pub fn from_value(v: &Value) -> Option<&XmlElement> {
        match v {
            Value::Object(o) => o.as_any().downcast_ref::<XmlElement>(),
            _ => None,
        }
    }

    /// `element.name`: the first child element with that (local) name.
    pub fn child(&self, name: &str) -> Option<Value> {
        self.node
            .elements()
            .find(|e| e.name == name || e.local_name() == name)
            .map(|e| {
                XmlElement {
                    node: e.clone(),
                    is_root: false,
                }
                .into_value()
            })
    }

    /// Number of child elements (`length`).
    pub fn count(&self) -> usize {
        self.node.elements().count()
    }
}

impl Object for XmlElement {
    fn class_name(&self) -> &str {
        "SimpleXMLElement"
    }
    fn to_pstr(&self) -> Result<PStr, String> {
        Ok(PStr::from(self.node.text()))
    }
    fn truthy(&self) -> bool {
        // PHP: an element without children or attributes is false.
        !(self.node.children.is_empty() && self.node.attrs.is_empty())
    }
    fn to_json_value(&self) -> Value {
        let mut a = Array::new();
        if !self.node.attrs.is_empty() {
            let mut attrs = Array::new();
            for (k, v) in &self.node.attrs {
                attrs.insert(k.as_str(), Value::str(v));
            }
            a.insert("@attributes", Value::array(attrs));
        }
        for e in self.node.elements() {
            let v = if e.elements().next().is_none() && e.attrs.is_empty() {
                Value::str(e.text())
            } else {
                XmlElement {
                    node: e.clone(),
                    is_root: false,
                }
                .to_json_value()
            };
            a.insert(e.local_name(), v);
        }
        Value::array(a)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn convert(n: roxmltree::Node<'_, '_>, depth: usize) -> XNode {
    let name = match n.tag_name().namespace().and_then(|ns| n.lookup_prefix(ns)) {
        Some(p) if !p.is_empty() => format!("{p}:{}", n.tag_name().name()),
        _ => n.tag_name().name().to_string(),
    };
    let attrs = n
        .attributes()
        .map(|a| (a.name().to_string(), a.value().to_string()))
        .collect();
    let parent_ns: Vec<(Option<&str>, &str)> = n
        .parent_element()
        .map(|p| p.namespaces().map(|ns| (ns.name(), ns.uri())).collect())
        .unwrap_or_default();
    let ns_decls = n
        .namespaces()
        .filter(|ns| ns.name() != Some("xml") && !parent_ns.contains(&(ns.name(), ns.uri())))
        .map(|ns| {
            (
                ns.name()
                    .map_or("xmlns".to_string(), |p| format!("xmlns:{p}")),
                ns.uri().to_string(),
            )
        })
        .collect();
    let mut children = Vec::new();
    for c in n.children() {
        if c.is_element() && depth < 256 {
            children.push(XChild::Elem(Arc::new(convert(c, depth + 1))));
        } else if c.is_text() {
            children.push(XChild::Text(c.text().unwrap_or("").to_string()));
        }
    }
    XNode {
        name,
        attrs,
        ns_decls,
        children,
    }
}

fn from_html(nodes: &[crate::library::html::Node]) -> Vec<XChild> {
    nodes
        .iter()
        .map(|n| match n {
            crate::library::html::Node::Text(t) => XChild::Text(t.clone()),
            crate::library::html::Node::Element {
                name,
                attrs,
                children,
            } => XChild::Elem(Arc::new(XNode {
                name: name.clone(),
                attrs: attrs.clone(),
                ns_decls: Vec::new(),
                children: from_html(children),
            })),
        })
        .collect()
}

/// Parses XML (or HTML) text into the document element.
pub fn decode(text: &str, html: bool) -> Option<XmlElement> {
    if html {
        let body = from_html(&crate::library::html::parse(text));
        let node = XNode {
            name: "html".into(),
            attrs: Vec::new(),
            ns_decls: Vec::new(),
            children: vec![XChild::Elem(Arc::new(XNode {
                name: "body".into(),
                attrs: Vec::new(),
                ns_decls: Vec::new(),
                children: body,
            }))],
        };
        return Some(XmlElement {
            node: Arc::new(node),
            is_root: true,
        });
    }
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 1_000_000,
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).ok()?;
    Some(XmlElement {
        node: Arc::new(convert(doc.root_element(), 0)),
        is_root: true,
    })
}

fn escape(s: &str, attr: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' if attr => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

fn serialize(n: &XNode, out: &mut String) {
    out.push('<');
    out.push_str(&n.name);
    for (k, v) in &n.ns_decls {
        out.push_str(&format!(" {k}=\"{}\"", escape(v, true)));
    }
    for (k, v) in &n.attrs {
        out.push_str(&format!(" {k}=\"{}\"", escape(v, true)));
    }
    if n.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for c in &n.children {
        match c {
            XChild::Text(t) => out.push_str(&escape(t, false)),
            XChild::Elem(e) => serialize(e, out),
        }
    }
    out.push_str(&format!("</{}>", n.name));
}

/// A step of the XPath subset.
struct Step {
    descendant: bool,
    name: String,
    index: Option<usize>,
    attr_eq: Option<(String, String)>,
}

fn parse_xpath(path: &str) -> Option<(bool, Vec<Step>)> {
    let mut rest = path.trim();
    let absolute = rest.starts_with('/');
    let mut steps = Vec::new();
    if let Some(r) = rest.strip_prefix(".//") {
        rest = r;
        steps.push(None);
    } else if let Some(r) = rest.strip_prefix("./") {
        rest = r;
    }
    let mut first = true;
    while !rest.is_empty() {
        let descendant = if let Some(r) = rest.strip_prefix("//") {
            rest = r;
            true
        } else if let Some(r) = rest.strip_prefix('/') {
            rest = r;
            false
        } else {
            !first || steps.first().is_some_and(Option::is_none)
        };
        first = false;
        let end = rest.find('/').unwrap_or(rest.len());
        let (mut seg, tail) = rest.split_at(end);
        rest = tail;
        let mut index = None;
        let mut attr_eq = None;
        while let Some(open) = seg.find('[') {
            let close = seg[open..].find(']')? + open;
            let pred = seg[open + 1..close].trim();
            if let Ok(n) = pred.parse::<usize>() {
                index = Some(n);
            } else if let Some(p) = pred.strip_prefix('@') {
                let (k, v) = p.split_once('=')?;
                let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
                attr_eq = Some((k.trim().to_string(), v.to_string()));
            } else {
                return None;
            }
            seg = if close + 1 < seg.len() {
                return None;
            } else {
                &seg[..open]
            };
        }
        let name = seg.rsplit(':').next().unwrap_or(seg).to_string();
        if name.is_empty() {
            return None;
        }
        steps.push(Some(Step {
            descendant,
            name,
            index,
            attr_eq,
        }));
    }
    Some((absolute, steps.into_iter().flatten().collect()))
}

fn matches_step(n: &XNode, s: &Step) -> bool {
    (s.name == "*" || n.local_name() == s.name)
        && s.attr_eq
            .as_ref()
            .is_none_or(|(k, v)| n.attrs.iter().any(|(ak, av)| ak == k && av == v))
}

fn descendants(n: &Arc<XNode>, out: &mut Vec<Arc<XNode>>, budget: &mut usize) {
    for e in n.elements() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        out.push(e.clone());
        descendants(e, out, budget);
    }
}

/// Evaluates the XPath subset from `ctx` (absolute paths from `root`).
fn xpath(root: &Arc<XNode>, ctx: &Arc<XNode>, path: &str) -> Option<Vec<Arc<XNode>>> {
    let (absolute, steps) = parse_xpath(path)?;
    // A virtual document node whose only child is the root element.
    let doc = Arc::new(XNode {
        name: String::new(),
        attrs: Vec::new(),
        ns_decls: Vec::new(),
        children: vec![XChild::Elem(root.clone())],
    });
    let mut current = vec![if absolute { doc } else { ctx.clone() }];
    // Node visits allowed for the whole query.
    let mut budget: usize = 1_000_000;
    for s in &steps {
        let mut next = Vec::new();
        for c in &current {
            let mut cands = Vec::new();
            if s.descendant {
                descendants(c, &mut cands, &mut budget);
            } else {
                let kids: Vec<Arc<XNode>> = c.elements().take(budget).cloned().collect();
                budget -= kids.len();
                cands.extend(kids);
            }
            let hits: Vec<Arc<XNode>> = cands.into_iter().filter(|n| matches_step(n, s)).collect();
            match s.index {
                Some(i) => next.extend(hits.into_iter().nth(i.wrapping_sub(1))),
                None => next.extend(hits),
            }
        }
        current = next;
    }
    Some(current)
}

fn elem_arg(args: &Args, i: usize) -> Result<Option<XmlElement>, CallError> {
    Ok(args.get(i).and_then(XmlElement::from_value).cloned())
}

/// `xml_decode(str, namespaces=[], mode=null)`.
pub fn xml_decode(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(args.required(0)?) else {
        return Ok(Value::Bool(false));
    };
    charge_for(env, s.len())?;
    let html = opt(args, 2)
        .map(to_str)
        .transpose()?
        .is_some_and(|m| m.as_bytes().eq_ignore_ascii_case(b"html"));
    Ok(decode(&s.to_string_lossy(), html).map_or(Value::Bool(false), XmlElement::into_value))
}

/// `xml_encode(xml)`.
pub fn xml_encode(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(x) = elem_arg(args, 0)? else {
        return Ok(Value::Bool(false));
    };
    let mut out = String::new();
    if x.is_root {
        out.push_str("<?xml version=\"1.0\"?>\n");
    }
    serialize(&x.node, &mut out);
    if x.is_root {
        out.push('\n');
    }
    Ok(Value::str(out))
}

/// `xml_tag(xml)`.
pub fn xml_tag(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    Ok(elem_arg(args, 0)?.map_or(Value::Bool(false), |x| Value::str(x.node.local_name())))
}

/// `xml_attrs(xml)`.
pub fn xml_attrs(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(x) = elem_arg(args, 0)? else {
        return Ok(Value::Bool(false));
    };
    let mut a = Array::new();
    for (k, v) in &x.node.attrs {
        a.insert(k.as_str(), Value::str(v));
    }
    Ok(Value::array(a))
}

/// `xml_attr(xml, attr, default=null)`.
pub fn xml_attr(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(x) = elem_arg(args, 0)? else {
        return Ok(Value::Bool(false));
    };
    let name = to_str(args.required(1)?)?;
    let name = name.to_string_lossy();
    Ok(x.node.attrs.iter().find(|(k, _)| *k == name).map_or_else(
        || args.get(2).cloned().unwrap_or(Value::Null),
        |(_, v)| Value::str(v),
    ))
}

/// `xml_xpath(xml, path, element=null)`.
pub fn xml_xpath(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(x) = elem_arg(args, 0)? else {
        return Ok(Value::Bool(false));
    };
    let path = to_str(args.required(1)?)?;
    env.charge(64)?;
    let root = x.node.clone();
    let Some(found) = xpath(&root, &x.node, &path.to_string_lossy()) else {
        return Ok(Value::Bool(false));
    };
    let values: Vec<Value> = found
        .into_iter()
        .map(|n| {
            XmlElement {
                node: n,
                is_root: false,
            }
            .into_value()
        })
        .collect();
    match opt(args, 2) {
        Some(i) => {
            let i = katabox_value::convert::to_int(i);
            Ok(usize::try_from(i)
                .ok()
                .and_then(|i| values.get(i).cloned())
                .unwrap_or_else(|| Value::list(values)))
        }
        None => Ok(Value::list(values)),
    }
}

/// `xml_xpath_ns(xml, prefix, ns)`: registers a prefix (the XPath subset
/// matches local names, so prefixes need no mapping) and returns `xml`.
pub fn xml_xpath_ns(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    Ok(elem_arg(args, 0)?.map_or(Value::Bool(false), XmlElement::into_value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, je};

    fn call(f: crate::callable::FunctionFn, args: Vec<Value>) -> Value {
        f(&mut TestEnv::default(), &a(args)).unwrap_or(Value::str("<error>"))
    }

    #[test]
    fn decode_xpath_and_encode() {
        let doc = call(
            xml_decode,
            vec![Value::str(
                "<?xml version = \"1.0\" encoding = \"UTF-8\"?>\n<Movies>\n  <Movie rating=\"R\"><Title runtime=\"142\">Shaw</Title></Movie>\n  <Movie rating=\"PG\"><Title>Up</Title></Movie>\n</Movies>",
            )],
        );
        assert_eq!(call(xml_tag, vec![doc.clone()]).to_string_lossy(), "Movies");
        let movies = call(xml_xpath, vec![doc.clone(), Value::str("//Movie")]);
        let list: Vec<Value> = movies
            .as_array()
            .map(|a| a.values().cloned().collect())
            .unwrap_or_default();
        assert_eq!(list.len(), 2);
        assert_eq!(
            je(&call(xml_attrs, vec![list[1].clone()])),
            r#"{"rating":"PG"}"#
        );
        let title = XmlElement::from_value(&list[0])
            .and_then(|m| m.child("Title"))
            .unwrap_or_default();
        assert_eq!(title.to_string_lossy(), "Shaw");
        assert_eq!(
            call(xml_attr, vec![title.clone(), Value::str("runtime")]).to_string_lossy(),
            "142"
        );
        assert_eq!(
            call(xml_attr, vec![title, Value::str("x"), Value::str("d")]).to_string_lossy(),
            "d"
        );
        assert_eq!(
            call(
                xml_xpath,
                vec![
                    doc.clone(),
                    Value::str("/Movies/Movie/Title"),
                    Value::Int(1)
                ]
            )
            .to_string_lossy(),
            "Up"
        );
        let enc = call(
            xml_encode,
            vec![call(
                xml_xpath,
                vec![doc, Value::str("//Title"), Value::Int(1)],
            )],
        );
        assert_eq!(enc.to_string_lossy(), "<Title>Up</Title>");
        assert_eq!(
            call(xml_decode, vec![Value::str("<a>")]).to_string_lossy(),
            ""
        );
        let root = call(
            xml_decode,
            vec![Value::str("<r xmlns=\"http://x/\"><c>1</c></r>")],
        );
        assert_eq!(
            call(xml_encode, vec![root]).to_string_lossy(),
            "<?xml version=\"1.0\"?>\n<r xmlns=\"http://x/\"><c>1</c></r>\n"
        );
    }
}
