//! Which hosts and URLs are safe to send requests or secrets to: loopback hosts, where plain
//! `http` is acceptable, and hosts that may lie inside the client's own network.

use std::net::Ipv6Addr;

use url::{Host, Url};

/// Whether `url` is one to fetch or send secrets to: `https` with a host, or `http` on a loopback host
/// (local development).
pub(crate) fn is_https_or_loopback(url: &Url) -> bool {
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(host)) => is_loopback(&host),
        _ => false,
    }
}

/// Whether `host` is a loopback host, on which plain `http` is acceptable (RFC 8252 section 7.3).
pub(crate) fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => *ip == Ipv6Addr::LOCALHOST,
    }
}

/// Whether `host` may name a machine inside the client's own network rather than on the internet:
/// loopback, private (RFC 1918, RFC 4193), link-local (where cloud metadata services answer),
/// shared (RFC 6598), unspecified, multicast and broadcast addresses, IPv4 addresses written as
/// IPv6, `localhost` and its subdomains, names under `.internal` and `.local`, and names without a
/// dot, which resolvers complete with the local search domains. A public name that resolves to such
/// an address cannot be told from the URL: refusing it is the resolver's part.
pub(crate) fn is_internal(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            !name.contains('.')
                || name == "localhost"
                || [".localhost", ".internal", ".local"]
                    .iter()
                    .any(|suffix| name.ends_with(suffix))
        }
        Host::Ipv4(ip) => is_internal_ipv4(*ip),
        Host::Ipv6(ip) => {
            let [first, second, ..] = ip.segments();
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                // fc00::/7, unique local; fe80::/10, link-local; fec0::/10, the old site-local.
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
                || first & 0xffc0 == 0xfec0
                // ::ffff:a.b.c.d and ::a.b.c.d carry an IPv4 address; 64:ff9b::/96 translates one.
                || ip.to_ipv4().is_some_and(is_internal_ipv4)
                || (first == 0x64 && second == 0xff9b)
        }
    }
}

fn is_internal_ipv4(ip: std::net::Ipv4Addr) -> bool {
    let [first, second, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        // 0.0.0.0/8 reaches this host on some systems; 100.64.0.0/10 is carrier-grade NAT.
        || first == 0
        || (first == 100 && second & 0xc0 == 64)
}
