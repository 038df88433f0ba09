//! Issue 20, item 3: redirects must not bypass the policy's URL rules nor
//! carry the host's injected account secrets (or the script's credentials)
//! to another host. Two recording listeners on different loopback
//! addresses play the allowed host and the other host; the real binary
//! follows (or refuses) the redirect.

use crate::support::attack::{self, Auto, WEBHOOK, guid};
use crate::support::server::Server;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A listener on `ip` that records each request's head (lower-cased) and
/// answers `reply(port)`.
fn recorder(
    ip: &str,
    reply: impl Fn() -> String + Send + 'static,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind((ip, 0)).expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut c) = stream else { continue };
            let mut buf = vec![0u8; 16 * 1024];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            if let Ok(mut v) = s.lock() {
                v.push(String::from_utf8_lossy(&got).to_ascii_lowercase());
            }
            let _ = c.write_all(reply().as_bytes());
        }
    });
    (port, seen)
}

fn ok() -> String {
    "HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nreached".into()
}

fn redirect_to(url: String) -> impl Fn() -> String + Send + 'static {
    move || {
        format!(
            "HTTP/1.1 302 Found\r\nlocation: {url}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    }
}

fn requests(seen: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    seen.lock().map(|v| v.clone()).unwrap_or_default()
}

/// The fetching script: GET the URL in the body (with the account when
/// `account` is set, and a script-set Authorization), answer the fetched
/// body, or 502 with the error.
fn script(account: bool) -> String {
    let auth = if account {
        "      authentication: cerb:connected_account:partner\n"
    } else {
        ""
    };
    format!(
        "start:\n  http.request:\n    output: resp\n    inputs:\n      url@key: request_body\n{auth}      headers:\n        Authorization: Bearer script-token\n        Cookie: session=script-cookie\n    on_error:\n      return:\n        status_code: 502\n        body@text: {{{{ resp.error }}}}\n  return:\n    status_code: 200\n    body@text: {{{{ resp.body }}}}\n"
    )
}

fn start(policy: &str, account: bool, accounts_toml: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("accounts.toml"), accounts_toml).expect("accounts");
    let secrets = dir.path().join("secrets.toml");
    std::fs::write(&secrets, "partner_key = \"pk-live-0123456789\"\n").expect("secrets");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600));
    }
    let script = script(account);
    let pkg = attack::package(
        "r2.redirect",
        &[Auto {
            name: "r2.redirect",
            script: &script,
            policy,
            trigger: WEBHOOK,
        }],
        &[(&guid("r2.redirect"), "r2.redirect")],
    );
    let srv = Server::start_on(
        attack::bin(),
        dir.path(),
        &["--allow-outbound", "127.0.0.0/8"],
    )
    .expect("serve");
    attack::import(&srv, &pkg);
    (srv, dir)
}

const ONLY_127_0_0_2: &str = "commands:\n  http.request:\n    allow/ours@bool: {{inputs.url starts with 'http://127.0.0.2:' ? 'yes'}}\n";
const ANY_URL: &str = "commands:\n  http.request:\n    allow: yes\n";
const PARTNER: &str =
    "[partner]\ntype = \"header\"\nheader = \"X-Api-Key\"\nsecret = \"partner_key\"\n";

fn fetch(srv: &Server, url: &str) -> (u16, String) {
    let r = attack::hook(srv, &guid("r2.redirect"), url.as_bytes()).expect("answer");
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

/// The policy allows only 127.0.0.2; a 302 from there to 127.0.0.3 used to
/// be followed because only the first URL was checked.
#[test]
fn a_redirect_to_a_url_the_policy_denies_is_not_followed() {
    let (other_port, other_seen) = recorder("127.0.0.3", ok);
    let (port, first_seen) = recorder(
        "127.0.0.2",
        redirect_to(format!("http://127.0.0.3:{other_port}/collect")),
    );
    let (srv, _dir) = start(ONLY_127_0_0_2, false, "");
    let (status, body) = fetch(&srv, &format!("http://127.0.0.2:{port}/start"));
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("The automation policy does not allow this command (http.request)")
            && body.contains("127.0.0.3"),
        "{body}"
    );
    assert_eq!(requests(&first_seen).len(), 1, "the allowed host is asked");
    assert!(
        requests(&other_seen).is_empty(),
        "the denied host was reached: {:?}",
        requests(&other_seen)
    );
    // A redirect that stays on the allowed host is still followed.
    let (same_port, _) = recorder("127.0.0.2", ok);
    let (hop_port, _) = recorder(
        "127.0.0.2",
        redirect_to(format!("http://127.0.0.2:{same_port}/next")),
    );
    assert_eq!(
        fetch(&srv, &format!("http://127.0.0.2:{hop_port}/")),
        (200, "reached".into())
    );
}

/// With a policy that allows any URL, a redirect to another host is
/// followed, but the injected `X-Api-Key` and the script's `Authorization`
/// and `Cookie` stay behind; the first host gets them all.
#[test]
fn credentials_do_not_follow_a_redirect_to_another_host() {
    let (other_port, other_seen) = recorder("127.0.0.3", ok);
    let (port, first_seen) = recorder(
        "127.0.0.2",
        redirect_to(format!("http://127.0.0.3:{other_port}/collect")),
    );
    let (srv, _dir) = start(ANY_URL, true, PARTNER);
    assert_eq!(
        fetch(&srv, &format!("http://127.0.0.2:{port}/")),
        (200, "reached".into())
    );
    let first = requests(&first_seen);
    assert_eq!(first.len(), 1);
    assert!(
        first[0].contains("x-api-key: pk-live-0123456789"),
        "{}",
        first[0]
    );
    assert!(first[0].contains("authorization: bearer script-token"));
    let other = requests(&other_seen);
    assert_eq!(other.len(), 1, "the redirect is followed");
    for secret in ["pk-live-0123456789", "x-api-key", "authorization", "cookie"] {
        assert!(!other[0].contains(secret), "{secret} leaked: {}", other[0]);
    }
}

/// An account bound to hosts (`hosts = [...]` in accounts.toml) refuses a
/// request to any other host, and its header follows a redirect only to a
/// host it is bound to.
#[test]
fn an_account_bound_to_hosts_is_sent_only_to_them() {
    let bound = format!("{PARTNER}hosts = [\"127.0.0.2\", \"127.0.0.4\"]\n");
    let (srv, _dir) = start(ANY_URL, true, &bound);
    let (elsewhere, elsewhere_seen) = recorder("127.0.0.3", ok);
    let (status, body) = fetch(&srv, &format!("http://127.0.0.3:{elsewhere}/"));
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("may not be used with the host 127.0.0.3"),
        "{body}"
    );
    assert!(requests(&elsewhere_seen).is_empty(), "nothing is sent");
    let (bound_port, bound_seen) = recorder("127.0.0.4", ok);
    let (port, _) = recorder(
        "127.0.0.2",
        redirect_to(format!("http://127.0.0.4:{bound_port}/")),
    );
    assert_eq!(
        fetch(&srv, &format!("http://127.0.0.2:{port}/")),
        (200, "reached".into())
    );
    let got = requests(&bound_seen);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains("x-api-key: pk-live-0123456789"),
        "{}",
        got[0]
    );
    assert!(
        !got[0].contains("script-token"),
        "the script's own credentials stay behind"
    );
}
