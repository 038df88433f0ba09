//! The page shell (head, navigation, logout) and small rendering helpers.
//! maud escapes every interpolated value; nothing here emits raw HTML
//! from data.

use super::csrf::Csrf;
use maud::{DOCTYPE, Markup, html};

const NAV: [(&str, &str); 6] = [
    ("/console", "Dashboard"),
    ("/console/listeners", "Listeners"),
    ("/console/automations", "Automations"),
    ("/console/runs", "Runs"),
    ("/console/packages", "Packages"),
    ("/console/timers", "Timers"),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · katabox" }
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// A page without navigation (the login).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare { main { (body) } }
        }
    }
}

/// A console page: navigation (`active` is the current section's path),
/// the logout form, then `body`.
pub fn page(title: &str, active: &str, csrf: &Csrf, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header {
                    span.brand { "katabox" }
                    nav {
                        @for (href, label) in NAV {
                            @if href == active {
                                a.active href=(href) aria-current="page" { (label) }
                            } @else {
                                a href=(href) { (label) }
                            }
                        }
                    }
                    form.logout method="post" action="/console/logout" {
                        (csrf.field())
                        button type="submit" { "Log out" }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A Unix time in ms as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn time_of(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| at_ms.to_string())
}

/// A Unix time in seconds as [`time_of`] does (0: never).
pub fn time_of_secs(at: i64) -> String {
    if at == 0 {
        "never".into()
    } else {
        time_of(at.saturating_mul(1000))
    }
}

/// Microseconds as `850 µs`, `12.3 ms` or `1.20 s`.
pub fn duration_of(us: u64) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.1} ms", us as f64 / 1000.0),
        _ => format!("{:.2} s", us as f64 / 1_000_000.0),
    }
}

/// A JSON value pretty-printed (strings as themselves).
pub fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// An exit as a small badge (`return`, `await`, `exit`, `error`).
pub fn exit_badge(exit: &str) -> Markup {
    let class = match exit {
        "error" => "badge bad",
        "return" => "badge ok",
        _ => "badge",
    };
    let text = if exit.is_empty() { "none" } else { exit };
    html! { span class=(class) { (text) } }
}

/// A notice above a page's content (`ok` or `error`).
pub fn notice(ok: bool, text: &str) -> Markup {
    html! {
        @if ok { p.notice role="status" { (text) } }
        @else { p.error role="alert" { (text) } }
    }
}

/// Percent-encodes a path segment.
pub fn segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
