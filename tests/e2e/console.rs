//! The operator console in a real browser: Debian's Chromium, driven over
//! WebDriver by its chromedriver (both apt packages; `.ci/run` installs
//! them), against the real `katabox serve` on loopback. The newcomer's
//! path from docs/console.md: log in, import the seed package, create the
//! listener, send it a webhook and watch the run arrive in the live tail,
//! open it (its hostile body shown as text), edit the automation, replay
//! the run against the current version and read the diff. Each page's
//! screenshot goes to `target/console-screenshots/`.
//!
//! The WebDriver client is the few commands below over the suite's own
//! HTTP/1.1 client (no crate). Without Chromium the test fails, naming
//! the packages to install.

use crate::support::attack;
use crate::support::http;
use crate::support::server::{Server, TOKEN, free_addr};
use serde_json::{Value as J, json};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const SEED_PACKAGE: &str = include_str!("../../host/tests/seed_package.json");
const SEED_EVENT_KATA: &str = "automation/example:\n    uri: cerb:automation:example.webhook.respond\n    disabled@bool: no\n";
const XSS: &str = "<script>alert(1)</script>";
const EDITED: &str = "start:\n  return:\n    status_code: 202\n    headers:\n      Content-Type: text/plain\n    body: edited in the console\n";

/// A chromedriver process and one browser session, ended when dropped.
struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: the console's browser test needs Debian's Chromium \
         (apt-get install -y chromium chromium-driver; .ci/run installs {package})"
    );
}

impl Browser {
    fn start() -> Browser {
        require(CHROMIUM, "chromium");
        require(CHROMEDRIVER, "chromium-driver");
        let addr = free_addr();
        use std::os::unix::process::CommandExt;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={}", addr.port()))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,1000".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut b = Browser {
            driver,
            addr,
            session: String::new(),
            _profile: profile,
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let v = b.call("POST", "/session", Some(&caps));
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        // Finding an element waits for it (a click's navigation may still
        // be loading the next page).
        let s = b.s("/timeouts");
        b.call("POST", &s, Some(&json!({"implicit": 10_000})));
        b
    }

    /// One WebDriver command; panics with the driver's error.
    fn call(&self, method: &str, path: &str, body: Option<&J>) -> J {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn try_call(&self, method: &str, path: &str, body: Option<&J>) -> Result<J, String> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let (status, body) = wire(self.addr, method, path, &bytes)?;
        let v: J = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        if status >= 300 {
            return Err(format!("{status} {}", v["value"]));
        }
        Ok(v.get("value").cloned().unwrap_or(v))
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(&json!({"url": url})));
    }

    fn current_url(&self) -> String {
        self.call("GET", &self.s("/url"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn try_find(&self, css: &str) -> Option<String> {
        let body = json!({"using": "css selector", "value": css});
        let v = self
            .try_call("POST", &self.s("/element"), Some(&body))
            .ok()?;
        v[ELEMENT].as_str().map(str::to_string)
    }

    fn find(&self, css: &str) -> String {
        if let Some(e) = self.try_find(css) {
            return e;
        }
        let body = json!({"using": "css selector", "value": css});
        let why = self.try_call("POST", &self.s("/element"), Some(&body));
        panic!(
            "no element {css} on {} ({why:?}):\n{}",
            self.current_url(),
            self.source()
        )
    }

    /// Waits up to `within` for `css`; how long it took.
    fn wait_for(&self, css: &str, within: Duration) -> Duration {
        let start = Instant::now();
        loop {
            if self.try_find(css).is_some() {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "{css} did not appear within {within:?} on {}",
                self.current_url()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.call("GET", &self.s(&format!("/element/{e}/text")), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.call(
            "POST",
            &self.s(&format!("/element/{e}/click")),
            Some(&json!({})),
        );
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call(
            "POST",
            &self.s(&format!("/element/{e}/clear")),
            Some(&json!({})),
        );
        self.call(
            "POST",
            &self.s(&format!("/element/{e}/value")),
            Some(&json!({"text": text})),
        );
    }

    fn source(&self) -> String {
        self.call("GET", &self.s("/source"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// No `alert()` ran.
    fn assert_no_alert(&self) {
        assert!(
            self.try_call("GET", &self.s("/alert/text"), None).is_err(),
            "a script ran: an alert is open on {}",
            self.current_url()
        );
    }

    fn screenshot(&self, name: &str) {
        use base64::Engine;
        let v = self.call("GET", &self.s("/screenshot"), None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("base64 screenshot");
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

/// One request to chromedriver, the answer read by its Content-Length
/// (chromedriver keeps connections open, so reading to the end would wait).
fn wire(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
    use std::io::{BufRead, BufReader, Read, Write};
    assert!(addr.ip().is_loopback(), "loopback only");
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(body).map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = None;
    loop {
        line.clear();
        r.read_line(&mut line).map_err(|e| e.to_string())?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut out = Vec::new();
    match length {
        Some(n) => {
            out.resize(n, 0);
            r.read_exact(&mut out).map_err(|e| e.to_string())?;
        }
        None => {
            r.read_to_end(&mut out).map_err(|e| e.to_string())?;
        }
    }
    Ok((status, out))
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.try_call("DELETE", &self.s(""), None);
        }
        // chromedriver leads its own process group: end the browser with it.
        // Not through `kill -KILL -PGID`: procps-ng 4.0.2 (Debian 12) turns
        // that into kill(-1, SIGKILL), every process of the user.
        let group = i32::try_from(self.driver.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(group) = group {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("console-screenshots")
}

#[test]
fn a_newcomer_does_the_seed_guide_in_the_console_in_chromium() {
    let srv = Server::start(attack::bin(), &[]).expect("start katabox serve");
    let base = format!("http://{}", srv.addr);
    let browser = Browser::start();

    // Without a session the console sends the browser to the login.
    browser.goto(&format!("{base}/console/runs"));
    assert!(browser.current_url().ends_with("/console/login"));
    browser.screenshot("login");
    browser.type_into("#token", "wrong-token");
    browser.click("button[type=submit]");
    assert!(browser.text("p.error").contains("not the admin token"));
    browser.type_into("#token", TOKEN);
    browser.click("button[type=submit]");
    browser.wait_for("#total-runs", Duration::from_secs(10));
    assert!(browser.current_url().ends_with("/console"));

    // Import the seed package.
    browser.click("a[href='/console/packages']");
    browser.type_into("#pkg", SEED_PACKAGE);
    browser.click("#import button[type=submit]");
    browser.wait_for("#imported", Duration::from_secs(10));
    assert!(
        browser
            .text("#imported")
            .contains("example.webhook.respond")
    );
    assert!(browser.text("#packages").contains("Webhooks Example"));
    browser.screenshot("packages");

    // Create the listener with the guide's event KATA; a broken one first.
    browser.goto(&format!("{base}/console/listeners"));
    browser.type_into("#l-name", "Seed guide");
    browser.type_into("#l-kata", "automation/example:\n  uri: x\n  uri: y\n");
    browser.click("form[action='/console/listeners'] button[type=submit]");
    let error = browser.text("p.error");
    assert!(error.contains("Invalid 'automations_kata'"), "{error}");
    assert!(error.contains("line 3"), "{error}");
    assert!(browser.text("pre.numbered span.bad").contains("3   uri: y"));
    browser.screenshot("listener-error");
    browser.type_into("#l-name", "Seed guide");
    browser.type_into("#l-kata", SEED_EVENT_KATA);
    browser.click("form[action='/console/listeners'] button[type=submit]");
    browser.wait_for("p.notice", Duration::from_secs(10));
    let url = browser.text("#listeners code.url");
    let path = url
        .strip_prefix(base.as_str())
        .unwrap_or_else(|| panic!("listener URL {url} is not on {base}"))
        .to_string();
    browser.screenshot("listeners");

    // The live tail shows the run within 2 seconds of the answer.
    browser.goto(&format!("{base}/console/runs"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.text("#tail-status") != "live" {
        assert!(Instant::now() < deadline, "the live tail did not connect");
        std::thread::sleep(Duration::from_millis(25));
    }
    let headers = vec![("Content-Type".to_string(), "text/html".to_string())];
    let answer = http::send(
        srv.addr,
        "POST",
        &format!("{path}?key=value"),
        &headers,
        XSS.as_bytes(),
    )
    .expect("webhook");
    assert_eq!(answer.status, 200);
    let seen = browser.wait_for("#tail tr[data-run]", Duration::from_secs(2));
    eprintln!("console: the run appeared in the live tail {seen:?} after the answer");
    browser.screenshot("runs");

    // Open it: the hostile body is text, and no script ran.
    browser.click("#tail tr[data-run] a");
    browser.wait_for("pre.body", Duration::from_secs(10));
    let run_url = browser.current_url();
    assert!(browser.text("pre.body").contains(XSS), "the body as text");
    assert!(!browser.source().contains(XSS), "never as markup");
    browser.assert_no_alert();
    browser.screenshot("run");

    // Edit the automation: version 2.
    browser.goto(&format!(
        "{base}/console/automations/example.webhook.respond"
    ));
    assert_eq!(browser.text("#current-version"), "1");
    browser.type_into("#a-script", EDITED);
    browser.click("#edit button[type=submit]");
    browser.wait_for("p.notice", Duration::from_secs(10));
    assert_eq!(browser.text("#current-version"), "2");
    assert!(browser.text("#versions").contains("1"));
    browser.screenshot("automation");

    // The Test panel runs the new version with an inputs dictionary.
    browser.type_into("#t-inputs", "{\"who\": \"newcomer\"}");
    browser.click("form[action$='/test#test-result'] button[type=submit]");
    browser.wait_for("#test-result", Duration::from_secs(20));
    assert_eq!(browser.text("#test-exit"), "return");
    assert!(
        browser
            .text("#test-return")
            .contains("edited in the console")
    );
    browser.screenshot("test-panel");

    // Replay the run against the current version and read the diff.
    browser.goto(&run_url);
    browser.click("button[value=current]");
    browser.wait_for("#diff-result", Duration::from_secs(20));
    assert_eq!(browser.text("#diff-result"), "The response changed.");
    let diff = browser.text("table.diff");
    assert!(diff.contains("202"), "{diff}");
    assert!(diff.contains("edited in the console"), "{diff}");
    browser.assert_no_alert();
    browser.screenshot("replay");

    // The other pages render (and are kept for the docs).
    browser.goto(&format!("{base}/console"));
    assert!(browser.text("#total-runs").parse::<u32>().expect("a count") >= 2);
    browser.screenshot("dashboard");
    browser.goto(&format!("{base}/console/timers"));
    browser.wait_for("#timers", Duration::from_secs(5));
    browser.screenshot("timers");

    // Logout ends the session.
    browser.click("form.logout button");
    browser.wait_for("#token", Duration::from_secs(5));
    browser.goto(&format!("{base}/console"));
    assert!(browser.current_url().ends_with("/console/login"));
}

/// `serve --no-console` leaves the console out; without it the login page
/// answers with the console's headers.
#[test]
fn serve_no_console_leaves_the_console_out() {
    let on = Server::start(attack::bin(), &[]).expect("start katabox serve");
    let r = on
        .request("GET", "/console/login", &[], b"")
        .expect("answer");
    assert_eq!(r.status, 200);
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let off = Server::start(attack::bin(), &["--no-console"]).expect("start katabox serve");
    for path in ["/console", "/console/login", "/console/assets/console.js"] {
        let r = off.request("GET", path, &[], b"").expect("answer");
        assert_eq!(r.status, 404, "{path}");
    }
}
