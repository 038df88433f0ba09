//! A lenient HTML parser (enough for `html_to_text`, scripting.md §7.2.3)
//! and the HTML → text walk. Like libxml2's HTML parser it wraps leading
//! character data in an implied `<p>` and ignores declared charsets.

/// A parsed HTML node.
#[derive(Debug, Clone)]
pub enum Node {
    /// An element with lower-case name, attributes and children.
    Element {
        name: String,
        attrs: Vec<(String, String)>,
        children: Vec<Node>,
    },
    /// Character data (entities decoded).
    Text(String),
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];
const BLOCK: &[&str] = &[
    "address",
    "blockquote",
    "div",
    "dl",
    "fieldset",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "ol",
    "p",
    "pre",
    "table",
    "ul",
    "li",
    "tr",
    "td",
    "th",
    "thead",
    "tbody",
];
/// Most nesting kept; deeper elements are flattened into their parent.
const MAX_DEPTH: usize = 256;

struct Open {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

struct Builder {
    stack: Vec<Open>,
}

impl Builder {
    fn top(&mut self) -> &mut Open {
        let n = self.stack.len() - 1;
        &mut self.stack[n]
    }

    fn close_top(&mut self) {
        if self.stack.len() > 1
            && let Some(o) = self.stack.pop()
        {
            self.top().children.push(Node::Element {
                name: o.name,
                attrs: o.attrs,
                children: o.children,
            });
        }
    }

    fn close_until(&mut self, name: &str, stop_at: &[&str]) -> bool {
        let Some(pos) = self
            .stack
            .iter()
            .rposition(|o| o.name == name || stop_at.contains(&o.name.as_str()))
        else {
            return false;
        };
        if pos == 0 || self.stack[pos].name != name {
            return false;
        }
        while self.stack.len() > pos {
            self.close_top();
        }
        true
    }

    fn open(&mut self, name: String, attrs: Vec<(String, String)>) {
        if BLOCK.contains(&name.as_str()) {
            self.close_until("p", &["div", "li", "td", "th", "blockquote", "body"]);
        }
        if name == "li" {
            self.close_until("li", &["ul", "ol"]);
        }
        if self.stack.len() > MAX_DEPTH {
            return;
        }
        if VOID.contains(&name.as_str()) {
            self.top().children.push(Node::Element {
                name,
                attrs,
                children: Vec::new(),
            });
        } else {
            self.stack.push(Open {
                name,
                attrs,
                children: Vec::new(),
            });
        }
    }
}

fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = s[vs..]
                    .bytes()
                    .position(|c| c == q)
                    .map_or(b.len(), |p| vs + p);
                value = s[vs..ve].to_string();
                i = (ve + 1).min(b.len());
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = s[vs..i].to_string();
            }
        }
        out.push((name, html_escape::decode_html_entities(&value).into_owned()));
    }
    out
}

/// Parses HTML leniently into the children of an implied root.
pub fn parse(html: &str) -> Vec<Node> {
    let mut b = Builder {
        stack: vec![Open {
            name: "#root".into(),
            attrs: Vec::new(),
            children: Vec::new(),
        }],
    };
    let mut seen_element = false;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(&mut b, rest, &mut seen_element);
            break;
        };
        if lt > 0 {
            push_text(&mut b, &rest[..lt], &mut seen_element);
            rest = &rest[lt..];
            continue;
        }
        if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.find("-->").map_or("", |p| &r[p + 3..]);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            rest = rest.find('>').map_or("", |p| &rest[p + 1..]);
            continue;
        }
        let next = rest.as_bytes().get(1).copied().unwrap_or(b' ');
        if !(next.is_ascii_alphabetic() || next == b'/') {
            push_text(&mut b, "<", &mut seen_element);
            rest = &rest[1..];
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[1..end];
        rest = if end < rest.len() {
            &rest[end + 1..]
        } else {
            ""
        };
        if let Some(close) = tag.strip_prefix('/') {
            let name = close.trim().to_ascii_lowercase();
            if name == "p" && !b.stack.iter().any(|o| o.name == "p") {
                continue;
            }
            b.close_until(&name, &[]);
            continue;
        }
        let name_end = tag
            .find(|c: char| c.is_ascii_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = tag[..name_end].to_ascii_lowercase();
        let attrs = parse_attrs(&tag[name_end..]);
        seen_element = true;
        if name == "script" || name == "style" {
            let p = find_close_tag(rest, &name).unwrap_or(rest.len());
            let body = &rest[..p];
            rest = &rest[p..];
            rest = rest.find('>').map_or("", |q| &rest[q + 1..]);
            b.top().children.push(Node::Element {
                name,
                attrs,
                children: vec![Node::Text(body.to_string())],
            });
            continue;
        }
        b.open(name, attrs);
    }
    while b.stack.len() > 1 {
        b.close_top();
    }
    b.stack.pop().map(|o| o.children).unwrap_or_default()
}

/// Position of `</name` (ASCII case-insensitive) in `rest`.
fn find_close_tag(rest: &str, name: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&b[from..], b"</") {
        let at = from + p;
        let cand = b.get(at + 2..at + 2 + name.len())?;
        if cand.eq_ignore_ascii_case(name.as_bytes()) {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

fn push_text(b: &mut Builder, raw: &str, seen_element: &mut bool) {
    let text = html_escape::decode_html_entities(raw).into_owned();
    if !*seen_element && b.stack.len() == 1 {
        if text.trim().is_empty() {
            return;
        }
        // libxml2 wraps leading character data in an implied paragraph.
        *seen_element = true;
        b.open("p".into(), Vec::new());
    }
    b.top().children.push(Node::Text(text));
}

struct Walk {
    out: String,
    limit: usize,
}

impl Walk {
    fn push(&mut self, s: &str) {
        if self.out.len() <= self.limit {
            self.out.push_str(s);
        }
    }

    fn ensure_newline(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.push("\n");
        }
    }
}

fn collapse(s: &str, trim_start: bool, trim_end: bool) -> String {
    let s = s.replace('\u{a0}', "");
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !(trim_start && out.is_empty()) {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if space && !trim_end && !(trim_start && out.is_empty()) {
        out.push(' ');
    }
    out
}

fn text_of(nodes: &[Node]) -> String {
    let mut s = String::new();
    for n in nodes {
        match n {
            Node::Text(t) => s.push_str(t),
            Node::Element { children, .. } => s.push_str(&text_of(children)),
        }
    }
    s
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn absolute(url: &str) -> bool {
    url.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !rest.is_empty()
    })
}

fn walk(w: &mut Walk, nodes: &[Node], pre: bool, depth: usize) {
    let n = nodes.len();
    for (i, node) in nodes.iter().enumerate() {
        if w.out.len() > w.limit {
            return;
        }
        match node {
            Node::Text(t) if pre => w.push(t),
            Node::Text(t) => w.push(&collapse(t, i == 0, i + 1 == n)),
            Node::Element {
                name,
                attrs,
                children,
            } => element(w, name, attrs, children, pre, depth),
        }
    }
}

fn element(
    w: &mut Walk,
    name: &str,
    attrs: &[(String, String)],
    children: &[Node],
    pre: bool,
    depth: usize,
) {
    match name {
        "head" | "script" | "style" | "title" => {}
        "br" => w.push("\n"),
        "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr" => {
            w.ensure_newline();
            walk(w, children, pre, depth + 1);
            w.push("\n");
        }
        "pre" => {
            w.ensure_newline();
            walk(w, children, true, depth + 1);
            w.push("\n");
        }
        "ul" | "ol" => {
            w.ensure_newline();
            let mut k = 0;
            for c in children {
                if let Node::Element {
                    name: cn,
                    children: cc,
                    ..
                } = c
                    && cn == "li"
                {
                    // Rendered once with the next number; an empty item is dropped.
                    let marker = if name == "ol" {
                        format!("{}. ", k + 1)
                    } else {
                        "* ".to_string()
                    };
                    let mlen = marker.len();
                    let mut item = Walk {
                        out: marker,
                        limit: w.limit,
                    };
                    walk(&mut item, cc, pre, depth + 1);
                    if item.out[mlen..].trim().is_empty() {
                        continue;
                    }
                    k += 1;
                    w.push(&item.out);
                    w.push("\n");
                } else {
                    walk(w, std::slice::from_ref(c), pre, depth + 1);
                }
            }
            w.push("\n");
        }
        "blockquote" => {
            let mut sub = Walk {
                out: String::new(),
                limit: w.limit,
            };
            walk(&mut sub, children, pre, depth + 1);
            w.ensure_newline();
            for line in sub.out.trim_end_matches('\n').split('\n') {
                w.push("> ");
                w.push(line);
                w.push("\n");
            }
        }
        "a" => {
            let text = collapse(&text_of(children), true, true);
            match attr(attrs, "href") {
                Some(h) if h == text => w.push(h),
                Some(h) if absolute(h) => {
                    w.push(&text);
                    w.push(" <");
                    w.push(h);
                    w.push(">");
                }
                _ => w.push(&text),
            }
        }
        "img" => {
            if let Some(src) = attr(attrs, "src")
                && absolute(src)
            {
                let label = attr(attrs, "alt").filter(|a| !a.is_empty()).unwrap_or(src);
                w.push(&format!("[Image {label}]"));
            }
        }
        _ => walk(w, children, pre, depth + 1),
    }
}

/// Converts HTML to plain text, stopping after `limit` bytes.
pub fn to_text(html: &str, limit: usize) -> String {
    let nodes = parse(html);
    let mut w = Walk {
        out: String::new(),
        limit,
    };
    walk(&mut w, &nodes, false, 0);
    w.out
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn spec_example() {
        assert_eq!(
            to_text(
                "<p>Hello <b>world</b></p><ul><li>a</li><li>b</li></ul><a href=\"https://x.example/\">link</a><br>end",
                50_000
            ),
            "Hello world\n* a\n* b\n\nlink <https://x.example/>\nend"
        );
    }

    #[test]
    fn breaks_and_lists() {
        assert_eq!(to_text("1<br>2<br />3<div>4</div>", 1000), "1\n2\n3\n4\n");
        assert_eq!(
            to_text(
                "this<br><br><br>had<br>multiple<br><div>linefeeds</div><br>",
                1000
            ),
            "this\n\n\nhad\nmultiple\n\nlinefeeds\n\n"
        );
        assert_eq!(
            to_text("<ol><li>one</li><li>two</li></ol>", 1000),
            "1. one\n2. two\n\n"
        );
        assert_eq!(
            to_text(
                "<ol><li><ul><li>red</li><li>green</li></ul></li></ol>",
                1000
            ),
            "1. \n* red\n* green\n\n\n\n"
        );
        assert_eq!(
            to_text("this has &nbsp;non-breaking&nbsp; spaces", 1000),
            "this has non-breaking spaces\n"
        );
        assert_eq!(to_text("", 1000), "");
    }
}
