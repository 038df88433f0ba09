//! Which addresses `http.request` may reach (SSRF protection).
//!
//! By default every non-public address is refused: loopback, private,
//! link-local (cloud metadata at 169.254.169.254), CGNAT, multicast,
//! unspecified, broadcast, documentation, benchmarking, reserved, unique
//! local and site-local IPv6, and IPv6 forms that embed an IPv4 address
//! (mapped, translated, compatible, NAT64, 6to4) are judged by that address.
//! Host text is parsed the way `inet_aton` and URL parsers do, so
//! `2130706433`, `0x7f000001`, `0177.0.0.1` and `127.1` are all 127.0.0.1.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Operator exceptions to the address check.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    /// Host names (lower-case, exact) that may be reached whatever they resolve to.
    pub allow_hosts: Vec<String>,
    /// Networks that may be reached even though they are not public.
    pub allow_networks: Vec<IpNet>,
}

impl AddressPolicy {
    /// Whether `host` (a name, as written in the URL) is explicitly allowed.
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allow_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host))
    }

    /// Whether a resolved address may be connected to.
    pub fn ip_allowed(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allow_networks.iter().any(|n| n.contains(&ip))
    }
}

fn v4_public(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || o[0] == 0 // "this network"
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240) // reserved, broadcast
}

/// The IPv4 address an IPv6 address stands for, if it embeds one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    // IPv4-translated ::ffff:0:a.b.c.d (::ffff:0:0/96, RFC 2765 SIIT).
    if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
        return Some(tail);
    }
    // IPv4-compatible ::a.b.c.d (deprecated), NAT64 64:ff9b::/96 and 64:ff9b:1::/48.
    if s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1) {
        return Some(tail);
    }
    if s[0] == 0x64 && s[1] == 0xff9b {
        return Some(tail);
    }
    // 6to4 2002:AABB:CCDD::/16.
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

fn v6_public(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return v4_public(v4);
    }
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site local fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard 100::/64
        || (s[0] == 0x2001 && s[1] < 0x0200)) // IETF protocol assignments 2001::/23
}

/// Whether an address is public (reachable by default).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_public(v4),
        IpAddr::V6(v6) => v6_public(v6),
    }
}

fn parse_part(p: &str) -> Option<u64> {
    if p.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (h, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .filter(|n| *n <= u32::MAX as u64)
}

/// Parses IPv4 text the way `inet_aton` does: 1–4 parts, each decimal,
/// octal (leading 0) or hex (0x); the last part fills the remaining bytes.
pub fn parse_ipv4_loose(text: &str) -> Option<Ipv4Addr> {
    let text = text.strip_suffix('.').unwrap_or(text);
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let nums: Vec<u64> = parts.iter().map(|p| parse_part(p)).collect::<Option<_>>()?;
    let (last, head) = nums.split_last()?;
    if head.iter().any(|n| *n > 255) {
        return None;
    }
    let rest_bytes = 4 - head.len() as u32;
    if *last >= 1u64 << (8 * rest_bytes) {
        return None;
    }
    let mut n: u64 = 0;
    for (i, h) in head.iter().enumerate() {
        n |= h << (8 * (3 - i));
    }
    n |= last;
    Some(Ipv4Addr::from(n as u32))
}

/// The IP address a URL host spells, if it is an address rather than a
/// name: `[v6]`, dotted or loose IPv4.
pub fn host_ip(host: &str) -> Option<IpAddr> {
    let h = host.trim();
    if let Some(inner) = h.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if let Ok(v6) = h.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(v6));
    }
    parse_ipv4_loose(h).map(IpAddr::V4)
}

/// Checks a URL host before connecting: an address literal must be
/// allowed; `localhost` names are refused unless allowed by name. Names are
/// checked again after DNS resolution by the resolver.
pub fn check_host(policy: &AddressPolicy, host: &str) -> Result<(), String> {
    if policy.host_allowed(host) {
        return Ok(());
    }
    if let Some(ip) = host_ip(host) {
        return if policy.ip_allowed(ip) {
            Ok(())
        } else {
            Err(blocked(host))
        };
    }
    let lower = host.trim_end_matches('.').to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Err(blocked(host));
    }
    Ok(())
}

/// The command error for a refused address.
pub fn blocked(host: &str) -> String {
    format!("The address of `{host}` {BLOCKED_MARK}")
}

/// The end of [`blocked`]'s message (how a refused address is recognised
/// in a connection error).
pub const BLOCKED_MARK: &str = "is not allowed (private or reserved network)";
