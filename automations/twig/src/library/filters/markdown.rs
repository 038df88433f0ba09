//! `markdown_to_html(is_untrusted=true)`: Markdown to HTML in the style of
//! Parsedown with line breaks enabled (single newlines become `<br />`);
//! untrusted input has its raw HTML escaped and unsafe link schemes
//! neutralised.

use crate::callable::{Args, CallError, Env};
use crate::library::util::{self, charge_for, to_str};
use katabox_value::Value;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

/// Schemes Parsedown's safe mode keeps.
const SAFE_SCHEMES: &[&str] = &[
    "http://",
    "https://",
    "ftp://",
    "ftps://",
    "mailto:",
    "tel:",
    "data:image/png;base64,",
    "data:image/gif;base64,",
    "data:image/jpeg;base64,",
    "irc:",
    "ircs:",
    "git:",
    "ssh:",
    "news:",
    "steam:",
];

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.to_ascii_lowercase();
    let has_scheme = url.find(':').is_some_and(|p| {
        url[..p]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !url[..p].is_empty()
    });
    if !has_scheme || SAFE_SCHEMES.iter().any(|s| lower.starts_with(s)) {
        return url;
    }
    CowStr::from(url.replacen(':', "%3A", 1))
}

/// Renders Markdown.
pub fn render(text: &str, untrusted: bool) -> String {
    let parser =
        Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|ev| {
            match ev {
                Event::SoftBreak => Event::HardBreak,
                Event::Html(h) | Event::InlineHtml(h) if untrusted => Event::Text(h),
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) if untrusted => Event::Start(Tag::Link {
                    link_type,
                    dest_url: safe_url(dest_url),
                    title,
                    id,
                }),
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) if untrusted => Event::Start(Tag::Image {
                    link_type,
                    dest_url: safe_url(dest_url),
                    title,
                    id,
                }),
                other => other,
            }
        });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    out.trim_end_matches('\n').to_string()
}

/// `markdown_to_html(is_untrusted=true)`.
pub fn markdown_to_html(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let s = to_str(&util::unmark(v))?;
    charge_for(env, s.len().saturating_mul(4))?;
    let untrusted = util::bool_arg(args, 0, true);
    let out = render(&s.to_string_lossy(), untrusted);
    util::check_str_len(env, out.len(), "markdown_to_html")?;
    Ok(Value::str(out))
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn basics() {
        assert_eq!(
            render("This is **bold**", true),
            "<p>This is <strong>bold</strong></p>"
        );
        assert_eq!(render("a\nb", true), "<p>a<br />\nb</p>");
        assert_eq!(render("<b>x</b>", true), "<p>&lt;b&gt;x&lt;/b&gt;</p>");
        assert_eq!(
            render("[x](javascript:alert(1))", true),
            "<p><a href=\"javascript%3Aalert(1)\">x</a></p>"
        );
        assert_eq!(
            render("[x](https://cerb.ai/)", true),
            "<p><a href=\"https://cerb.ai/\">x</a></p>"
        );
    }
}
