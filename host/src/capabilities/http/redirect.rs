//! Redirects, followed one hop at a time by `http.request` rather than by
//! the HTTP client, so that every hop is checked like the first request:
//! an `http(s)` URL, the address check (in `send`), and the automation's
//! policy asked again with the hop's URL as `inputs.url`. When a hop leaves
//! the origin (scheme, host or port), every credential header goes: the
//! account header the host injected (unless the account is bound to the
//! new host) and `Authorization`, `Cookie`, `Proxy-Authorization` set by
//! the script.

use reqwest::StatusCode;
use url::Url;

/// Headers that never follow a redirect to another origin.
const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// The header the host added for `authentication:`, and where it may go.
#[derive(Debug, Clone)]
pub struct Injected {
    /// Lower-case header name.
    pub name: String,
    /// The account (its `hosts` binding; none: the first origin only).
    pub account: katabox_verify::outbound::Account,
}

impl Injected {
    /// Whether the header may be sent to `host` after a redirect.
    fn may_follow_to(&self, host: &str) -> bool {
        !self.account.hosts().is_empty() && self.account.allows_host(host)
    }
}

/// The next request after a redirect answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Next {
    /// Where to.
    pub url: Url,
    /// The method (303, and 301/302 after a POST, become GET).
    pub method: String,
    /// Whether the body is sent again (307 and 308 only).
    pub keep_body: bool,
}

/// The hop a response asks for, `None` when it is not a redirect (or has no
/// `Location`, which Cerb's client returns as the response), or the error
/// text when the target is unusable.
pub fn next(
    status: StatusCode,
    location: Option<&[u8]>,
    current: &Url,
    method: &str,
) -> Option<Result<Next, String>> {
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = location?;
    let location = match std::str::from_utf8(location) {
        Ok(l) => l.trim(),
        Err(_) => return Some(Err("redirect with an invalid Location header".into())),
    };
    let url = match current.join(location) {
        Ok(u) => u,
        Err(e) => return Some(Err(format!("redirect to an invalid URL: {e}"))),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some(Err("redirect to a non-HTTP URL".into()));
    }
    let keep_body = matches!(status.as_u16(), 307 | 308);
    let method = match status.as_u16() {
        303 if method != "HEAD" => "GET".to_string(),
        301 | 302 if method == "POST" => "GET".to_string(),
        _ => method.to_string(),
    };
    Some(Ok(Next {
        url,
        method,
        keep_body,
    }))
}

/// Whether two URLs share scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Removes the credential headers before a hop to another origin.
pub fn strip_credentials(
    headers: &mut Vec<(String, String)>,
    injected: Option<&Injected>,
    new_host: &str,
) {
    let keep_injected = injected.is_some_and(|i| i.may_follow_to(new_host));
    headers.retain(|(k, _)| {
        let is_injected = injected.is_some_and(|i| k.eq_ignore_ascii_case(&i.name));
        if is_injected {
            return keep_injected;
        }
        !CREDENTIAL_HEADERS.iter().any(|c| k.eq_ignore_ascii_case(c))
    });
}

/// Drops the body's own headers when a hop turns the request into a GET.
pub fn drop_body_headers(headers: &mut Vec<(String, String)>) {
    headers.retain(|(k, _)| {
        !(k.eq_ignore_ascii_case("content-type") || k.eq_ignore_ascii_case("content-length"))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use katabox_verify::outbound::Account;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    fn hop(status: u16, location: &str, method: &str) -> Option<Result<Next, String>> {
        next(
            StatusCode::from_u16(status).expect("status"),
            Some(location.as_bytes()),
            &url("https://a.example/x/y?q=1"),
            method,
        )
    }

    #[test]
    fn redirect_statuses_pick_method_and_body_like_browsers() {
        let n = hop(302, "/z", "POST").expect("redirect").expect("ok");
        assert_eq!(n.url.as_str(), "https://a.example/z");
        assert_eq!((n.method.as_str(), n.keep_body), ("GET", false));
        let n = hop(307, "https://b.example/", "POST")
            .expect("redirect")
            .expect("ok");
        assert_eq!((n.method.as_str(), n.keep_body), ("POST", true));
        let n = hop(303, "z", "PUT").expect("redirect").expect("ok");
        assert_eq!(n.url.as_str(), "https://a.example/x/z");
        assert_eq!(n.method, "GET");
        let n = hop(301, "//c.example/p", "DELETE")
            .expect("redirect")
            .expect("ok");
        assert_eq!(
            (n.url.as_str(), n.method.as_str()),
            ("https://c.example/p", "DELETE")
        );
        assert!(hop(200, "/z", "GET").is_none());
        assert!(hop(304, "/z", "GET").is_none());
        assert!(
            next(StatusCode::FOUND, None, &url("https://a.example/"), "GET").is_none(),
            "no Location: the response itself"
        );
        assert!(hop(302, "file:///etc/passwd", "GET").expect("r").is_err());
        assert!(hop(302, "gopher://a.example/", "GET").expect("r").is_err());
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin(
            &url("https://A.example/x"),
            &url("https://a.example:443/y")
        ));
        assert!(!same_origin(
            &url("https://a.example/"),
            &url("http://a.example/")
        ));
        assert!(!same_origin(
            &url("http://a.example:8080/"),
            &url("http://a.example/")
        ));
        assert!(!same_origin(
            &url("http://a.example/"),
            &url("http://b.example/")
        ));
    }

    fn headers() -> Vec<(String, String)> {
        [
            ("authorization", "Bearer s"),
            ("cookie", "c=1"),
            ("x-api-key", "pk"),
            ("accept", "*/*"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn injected(hosts: &[&str]) -> Injected {
        Injected {
            name: "x-api-key".into(),
            account: Account::Header {
                header: "X-Api-Key".into(),
                secret: "s".into(),
                hosts: hosts.iter().map(|h| h.to_string()).collect(),
            },
        }
    }

    #[test]
    fn a_hop_to_another_origin_drops_every_credential() {
        let mut h = headers();
        strip_credentials(&mut h, Some(&injected(&[])), "evil.example");
        let names: Vec<&str> = h.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["accept"]);
    }

    #[test]
    fn a_bound_account_follows_only_to_its_hosts() {
        let mut h = headers();
        strip_credentials(
            &mut h,
            Some(&injected(&["*.partner.example"])),
            "eu.partner.example",
        );
        assert!(h.iter().any(|(k, _)| k == "x-api-key"));
        assert!(!h.iter().any(|(k, _)| k == "authorization"));
        let mut h = headers();
        strip_credentials(
            &mut h,
            Some(&injected(&["*.partner.example"])),
            "evil.example",
        );
        assert!(!h.iter().any(|(k, _)| k == "x-api-key"));
    }
}
