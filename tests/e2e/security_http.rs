//! HTTP abuse against a real `katabox serve` on loopback: malformed and
//! random requests, oversized bodies, slowloris, 10,000 unknown guids, many
//! connections — the server always answers or closes, and never dies.

use crate::support::attack::{self, Auto, Rng, WEBHOOK, guid, raw, status_of, vm_rss_kb};
use crate::support::server::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const ECHO: &str = "start:\n  return:\n    status_code: 200\n    headers:\n      Content-Type: text/plain\n    body@text: {{ request_method }} {{ request_path }} {{ request_params|json_encode }} {{ request_body|length }}\n";

fn echo_server(extra: &[&str]) -> (Server, String) {
    let g = guid("echo");
    let pkg = attack::package(
        "Echo",
        &[Auto {
            name: "sec.echo",
            script: ECHO,
            policy: "",
            trigger: WEBHOOK,
        }],
        &[(&g, "sec.echo")],
    );
    (attack::serve_with(&pkg, extra), g)
}

/// A good request answers 200 with the echo.
fn assert_good(srv: &mut Server, g: &str) {
    assert!(srv.alive(), "the server died");
    let r = attack::hook(srv, g, b"hello").expect("good request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(
        String::from_utf8_lossy(&r.body).starts_with("POST "),
        "body {:?}",
        r.body
    );
}

#[test]
fn malformed_requests_get_an_http_error_or_a_close() {
    let (mut srv, g) = echo_server(&["--header-timeout", "2", "--body-timeout", "2"]);
    let long = "a".repeat(200_000);
    let many_headers: String = (0..5000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let cases: Vec<Vec<u8>> = vec![
        b"\r\n\r\n".to_vec(),
        b"GARBAGE\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"GET /\r\n\r\n".to_vec(),
        b"GET  /webhooks/x  HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
        b"G\x00T / HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
        b"GET /webhooks/\x00\xff HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
        b"GET /webhooks/%zz%%%00/../..%2f.. HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
        b"GET http://evil.example/webhooks/x HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
        b"GET * HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
        b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: h\r\nNoColonHere\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: h\r\nX: \x01\x7f\xff\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nHost: h\r\n folded: continuation\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\nHost: h\n\n".to_vec(),
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!").into_bytes(),
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n").into_bytes(),
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n").into_bytes(),
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").into_bytes(),
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n").into_bytes(),
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx\r\n").into_bytes(),
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n").into_bytes(),
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=\r\nContent-Length: 4\r\n\r\n--\r\n").into_bytes(),
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 30\r\n\r\n--b\r\nContent-Disposition: form\r\n").into_bytes(),
        format!("GET /webhooks/{g}?{long} HTTP/1.1\r\nHost: h\r\n\r\n").into_bytes(),
        format!("GET /webhooks/{g} HTTP/1.1\r\nHost: h\r\nX-Long: {long}\r\n\r\n").into_bytes(),
        format!("GET /webhooks/{g} HTTP/1.1\r\nHost: h\r\n{many_headers}\r\n").into_bytes(),
        format!("GET /webhooks/{g}?a[b][c][d][e][f][g][h][i][j][k][l][m][n][o][p][q][r][s][t][u][v][w][x][y][z]=1&{} HTTP/1.1\r\nHost: h\r\n\r\n", "a[]=1&".repeat(5000)).into_bytes(),
        format!("GET /webhooks/{g}?{}=1 HTTP/1.1\r\nHost: h\r\n\r\n", "[".repeat(20_000)).into_bytes(),
    ];
    let mut answered = 0;
    for (i, req) in cases.iter().enumerate() {
        let (answer, closed) = raw(srv.addr, req, Duration::from_secs(8));
        match status_of(&answer) {
            Some(s) => {
                answered += 1;
                assert!((200..600).contains(&s), "case {i}: status {s}");
                assert_ne!(
                    s,
                    500,
                    "case {i}: an internal error for {:?}",
                    String::from_utf8_lossy(&req[..req.len().min(80)])
                );
            }
            None => assert!(
                closed && answer.is_empty(),
                "case {i}: garbage answer {:?}",
                String::from_utf8_lossy(&answer)
            ),
        }
        assert_good(&mut srv, &g);
    }
    assert!(
        answered >= cases.len() / 2,
        "only {answered} of {} got an HTTP answer",
        cases.len()
    );
}

/// Arbitrary methods, paths, queries, headers and bodies: always an HTTP
/// answer (or a clean close for what is not HTTP), never a crash.
#[test]
fn random_requests_always_get_an_answer() {
    let (mut srv, g) = echo_server(&[]);
    let n: u64 = std::env::var("KATABOX_ATTACK_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let methods = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FOO", "get",
        "M-SEARCH",
    ];
    let alphabet = b"abcXYZ019/._-~%[]=&?#+;:@!$'()*,\\ \"<>^`{|}\x7f\xc3\xa9\xf0\x9f\x98\x80";
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    for i in 0..n {
        // Mostly the methods webhooks take, so most requests reach the mapping.
        let method = match rng.below(10) {
            0..=3 => "POST",
            4..=6 => "GET",
            _ => methods[rng.below(methods.len() as u64) as usize],
        };
        let mut path = if rng.below(5) == 0 {
            format!("/webhooks/{}", guid(&i.to_string()))
        } else {
            format!("/webhooks/{g}/")
        };
        for _ in 0..rng.below(40) {
            let b = alphabet[rng.below(alphabet.len() as u64) as usize];
            match b {
                b' ' | b'#' | b'\x7f' | b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|'
                | b'}' => path.push_str(&format!("%{b:02X}")),
                b if b >= 0x80 => path.push_str(&format!("%{b:02X}")),
                b => path.push(b as char),
            }
        }
        let mut headers = vec![];
        for _ in 0..rng.below(6) {
            let name: String = (0..1 + rng.below(12))
                .map(|_| (b'a' + rng.below(26) as u8) as char)
                .collect();
            let len = rng.below(60) as usize;
            let value: String = rng
                .bytes(len)
                .iter()
                .map(|b| (b' ' + b % 94) as char)
                .collect();
            headers.push((name, value));
        }
        let ct = [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "text/plain",
            "\u{e9}",
        ];
        headers.push((
            "Content-Type".into(),
            ct[rng.below(ct.len() as u64) as usize].into(),
        ));
        let len = rng.below(3000) as usize;
        let body = rng.bytes(len);
        let body = if method == "GET" && rng.below(2) == 0 {
            Vec::new()
        } else {
            body
        };
        let r = srv.request(method, &path, &headers, &body);
        let status = match r {
            Ok(r) => r.status,
            Err(e) => panic!("request {i} ({method} {path}) got no HTTP answer: {e}"),
        };
        assert_ne!(status, 500, "request {i}: {method} {path}");
        *statuses.entry(status).or_default() += 1;
        if i % 250 == 0 {
            assert_good(&mut srv, &g);
        }
    }
    assert_good(&mut srv, &g);
    eprintln!("random requests: {n}, statuses: {statuses:?}");
}

#[test]
fn oversized_bodies_get_413_and_the_server_keeps_serving() {
    let (mut srv, g) = echo_server(&["--body-limit", "65536"]);
    // Declared length over the limit.
    let big = vec![b'x'; 1 << 20];
    let r = attack::hook(&srv, &g, &big).expect("answer");
    assert_eq!(r.status, 413);
    // Chunked, no length, over the limit.
    let mut req = format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").into_bytes();
    for _ in 0..40 {
        req.extend_from_slice(b"1000\r\n");
        req.extend_from_slice(&[b'y'; 0x1000]);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let (answer, _) = raw(srv.addr, &req, Duration::from_secs(10));
    assert_eq!(
        status_of(&answer),
        Some(413),
        "{:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
    // A lying Content-Length that claims 1 GB then sends little: 413 at once.
    let req =
        format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nContent-Length: 1073741824\r\n\r\nabc");
    let (answer, _) = raw(srv.addr, req.as_bytes(), Duration::from_secs(10));
    assert_eq!(status_of(&answer), Some(413));
    // Just under the limit is fine.
    let r = attack::hook(&srv, &g, &vec![b'z'; 60_000]).expect("answer");
    assert_eq!(r.status, 200);
    assert_good(&mut srv, &g);
}

/// Slowloris: a client trickling its headers or its body is cut off within
/// the server's deadline, while good requests are served meanwhile.
#[test]
fn slow_headers_and_slow_bodies_are_cut_off() {
    let (mut srv, g) = echo_server(&["--header-timeout", "2", "--body-timeout", "2"]);
    let addr = srv.addr;
    let trickle = |prefix: Vec<u8>, drip: &'static [u8]| {
        std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).expect("connect");
            let _ = s.write_all(&prefix);
            let started = Instant::now();
            let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
            let mut buf = [0u8; 1024];
            loop {
                if s.write_all(drip).is_err() {
                    return (started.elapsed(), Vec::new());
                }
                match s.read(&mut buf) {
                    Ok(0) => return (started.elapsed(), Vec::new()),
                    Ok(n) => {
                        let got = buf[..n].to_vec();
                        return (started.elapsed(), got);
                    }
                    Err(_) if started.elapsed() < Duration::from_secs(15) => continue,
                    Err(_) => return (started.elapsed(), b"still open".to_vec()),
                }
            }
        })
    };
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(trickle(
            b"GET /webhooks/x HTTP/1.1\r\nHost: h\r\n".to_vec(),
            b"X: y\r\n",
        ));
        slow.push(trickle(
            format!("POST /webhooks/{g} HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n")
                .into_bytes(),
            b"z",
        ));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_good(&mut srv, &g);
    for h in slow {
        let (took, got) = h.join().expect("slow client");
        assert!(
            took < Duration::from_secs(8),
            "a slow client was held {took:?}"
        );
        if let Some(s) = status_of(&got) {
            assert!(s == 408 || s == 400, "slow client got {s}");
        }
        assert_ne!(got, b"still open".to_vec());
    }
    assert_good(&mut srv, &g);
}

#[test]
fn ten_thousand_unknown_guids_are_404_with_bounded_memory() {
    let (mut srv, g) = echo_server(&[]);
    let total: usize = std::env::var("KATABOX_ATTACK_GUIDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let threads = 4;
    let warm = |srv: &Server, from: usize, to: usize| {
        for i in from..to {
            let r = srv
                .request(
                    "POST",
                    &format!("/webhooks/{}/p?q={i}", guid(&format!("unknown{i}"))),
                    &[],
                    b"x",
                )
                .expect("answer");
            assert_eq!(r.status, 404, "unknown guid {i}");
        }
    };
    warm(&srv, 0, 500);
    let before = vm_rss_kb(srv.pid()).expect("VmRSS");
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let srv = &srv;
            s.spawn(move || {
                warm(
                    srv,
                    500 + t * (total - 500) / threads,
                    500 + (t + 1) * (total - 500) / threads,
                )
            });
        }
    });
    let after = vm_rss_kb(srv.pid()).expect("VmRSS");
    eprintln!(
        "unknown guids: {total} requests in {:?}, VmRSS {before} kB -> {after} kB",
        started.elapsed()
    );
    assert!(
        after < before + 64 * 1024,
        "VmRSS grew from {before} kB to {after} kB"
    );
    assert_good(&mut srv, &g);
}

#[test]
fn many_connections_do_not_crash_the_server() {
    let (mut srv, g) = echo_server(&["--max-connections", "200", "--header-timeout", "3"]);
    let mut held = Vec::new();
    for _ in 0..600 {
        match TcpStream::connect_timeout(&srv.addr, Duration::from_secs(2)) {
            Ok(mut s) => {
                let _ = s.write_all(b"GET /webhooks/");
                held.push(s);
            }
            Err(_) => break,
        }
    }
    assert!(held.len() >= 200, "only {} connections opened", held.len());
    assert!(
        srv.alive(),
        "the server died with {} connections",
        held.len()
    );
    drop(held);
    // Once they are gone (or timed out), good requests are served again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match attack::hook(&srv, &g, b"hi") {
            Ok(r) if r.status == 200 => break,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            other => panic!("not serving after the flood: {other:?}"),
        }
    }
    assert_good(&mut srv, &g);
}
