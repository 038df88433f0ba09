//! The SSRF address check itself (no connection is made).

use katabox::capabilities::http::address::{
    AddressPolicy, check_host, host_ip, is_public, parse_ipv4_loose,
};
use std::net::{IpAddr, Ipv4Addr};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

#[test]
fn non_public_addresses_are_refused() {
    for a in [
        "10.0.0.1",
        "192.168.1.1",
        "172.16.5.4",
        "169.254.169.254",
        "127.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.51.100.7",
        "203.0.113.9",
        "198.18.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fd00::1",
        "fe80::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:0:127.0.0.1",
        "::ffff:0:7f00:1",
        "::ffff:0:a9fe:a9fe",
        "::ffff:0:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
        "fd00:ec2::254",
    ] {
        assert!(!is_public(ip(a)), "{a} must be refused");
    }
}

#[test]
fn public_addresses_are_accepted() {
    for a in [
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "::ffff:0:8.8.8.8",
    ] {
        assert!(is_public(ip(a)), "{a} must be accepted");
    }
}

#[test]
fn loose_ipv4_spellings_are_canonicalised() {
    let lo = Some(Ipv4Addr::new(127, 0, 0, 1));
    assert_eq!(parse_ipv4_loose("2130706433"), lo);
    assert_eq!(parse_ipv4_loose("0x7f000001"), lo);
    assert_eq!(parse_ipv4_loose("0177.0.0.1"), lo);
    assert_eq!(parse_ipv4_loose("127.1"), lo);
    assert_eq!(parse_ipv4_loose("127.0.1"), lo);
    assert_eq!(parse_ipv4_loose("example.com"), None);
    assert_eq!(parse_ipv4_loose("256.0.0.1"), None);
    assert_eq!(host_ip("[::ffff:127.0.0.1]"), Some(ip("::ffff:127.0.0.1")));
}

#[test]
fn host_check_refuses_literals_and_localhost_unless_allowed() {
    let p = AddressPolicy::default();
    for h in [
        "127.0.0.1",
        "localhost",
        "LOCALHOST.",
        "a.localhost",
        "2130706433",
        "0x7f000001",
        "[::ffff:127.0.0.1]",
        "10.1.2.3",
    ] {
        assert!(check_host(&p, h).is_err(), "{h}");
    }
    assert!(check_host(&p, "api.example").is_ok());
    assert!(check_host(&p, "93.184.216.34").is_ok());
    let allowed = AddressPolicy {
        allow_hosts: vec!["localhost".into()],
        allow_networks: vec!["10.0.0.0/8".parse().expect("net")],
    };
    assert!(check_host(&allowed, "localhost").is_ok());
    assert!(check_host(&allowed, "10.1.2.3").is_ok());
    assert!(check_host(&allowed, "192.168.0.1").is_err());
}
