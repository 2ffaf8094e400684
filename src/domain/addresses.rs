//! Public addresses (SPEC §1.2): an instance's public IP must be globally
//! reachable per the IANA IPv4 and IPv6 Special-Purpose Address Registries.
//! The registries are data in one table, `REGISTRY`; an address is judged
//! by the most specific entry that holds it.
//!
//! Choices where the registries leave room, each marked on its entry:
//! - An entry the registry marks globally reachable (`True`: AS112, AMT,
//!   the PCP and TURN anycast addresses, ORCHIDv2, DETs) is public: the
//!   spec's "public" is the registry's "globally reachable". They are in
//!   the table so that the choice is visible, and so that a more specific
//!   reachable entry inside a blocked one (192.0.0.9/32 in 192.0.0.0/24)
//!   wins.
//! - An entry whose reachability the registry gives as N/A is not public
//!   (the deprecated 6to4 relay anycast 192.88.99.0/24, Teredo 2001::/32,
//!   the deprecated ORCHID 2001:10::/28), except 6to4 2002::/16, which is
//!   judged by the IPv4 address it embeds.
//! - IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`,
//!   deprecated) and NAT64 (`64:ff9b::a.b.c.d`) forms are judged by the IPv4
//!   address they embed: `::ffff:10.0.0.1` is private, `::ffff:47.96.10.21`
//!   public.
//! - Beyond the special-purpose registries: IPv4 multicast 224.0.0.0/4 (the
//!   multicast registry), IPv6 multicast ff00::/8 and site-local fec0::/10
//!   (deprecated by RFC 3879, still refused), and every IPv6 address outside
//!   global unicast 2000::/3 (the IPv6 Address Space registry reserves the
//!   rest), so `4000::1` is no more public than `::1`.
//!
//! The registries' more specific entries that are not reachable inside a
//! block that is not reachable either (192.0.0.0/29, 0.0.0.0/32, …) change
//! nothing and are left out.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

/// How an entry judges the addresses it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    /// Globally reachable: public.
    Global,
    /// Not globally reachable: refused as a public IP.
    Not,
    /// Judged by the IPv4 address embedded at this bit offset (IPv6 only).
    Embeds(u32),
}

use Reach::{Embeds, Global, Not};

/// The IANA IPv4 and IPv6 Special-Purpose Address Registries, with the
/// additions the module comment gives: each prefix, its name, where it is
/// defined, and how it judges the addresses it holds.
#[rustfmt::skip]
const REGISTRY: &[(&str, &str, &str, Reach)] = &[
    // IPv4 Special-Purpose Address Registry.
    ("0.0.0.0/8",          "\"this network\"",                "RFC 791",  Not),
    ("10.0.0.0/8",         "private-use",                     "RFC 1918", Not),
    ("100.64.0.0/10",      "shared address space",            "RFC 6598", Not),
    ("127.0.0.0/8",        "loopback",                        "RFC 1122", Not),
    ("169.254.0.0/16",     "link-local",                      "RFC 3927", Not),
    ("172.16.0.0/12",      "private-use",                     "RFC 1918", Not),
    ("192.0.0.0/24",       "IETF protocol assignments",       "RFC 6890", Not),
    ("192.0.0.9/32",       "PCP anycast",                     "RFC 7723", Global),
    ("192.0.0.10/32",      "TURN anycast",                    "RFC 8155", Global),
    ("192.0.2.0/24",       "documentation (TEST-NET-1)",      "RFC 5737", Not),
    ("192.31.196.0/24",    "AS112-v4",                        "RFC 7535", Global),
    ("192.52.193.0/24",    "AMT",                             "RFC 7450", Global),
    // Reachability N/A in the registry: deprecated, so not public.
    ("192.88.99.0/24",     "deprecated 6to4 relay anycast",   "RFC 7526", Not),
    ("192.168.0.0/16",     "private-use",                     "RFC 1918", Not),
    ("192.175.48.0/24",    "AS112 direct delegation",         "RFC 7534", Global),
    ("198.18.0.0/15",      "benchmarking",                    "RFC 2544", Not),
    ("198.51.100.0/24",    "documentation (TEST-NET-2)",      "RFC 5737", Not),
    ("203.0.113.0/24",     "documentation (TEST-NET-3)",      "RFC 5737", Not),
    ("240.0.0.0/4",        "reserved",                        "RFC 1112", Not),
    ("255.255.255.255/32", "limited broadcast",               "RFC 919",  Not),
    // IPv4 multicast (the IPv4 Multicast Address Space registry).
    ("224.0.0.0/4",        "multicast",                       "RFC 5771", Not),
    // IPv6 Special-Purpose Address Registry.
    ("::/128",             "unspecified",                     "RFC 4291", Not),
    ("::1/128",            "loopback",                        "RFC 4291", Not),
    ("::ffff:0:0/96",      "IPv4-mapped",                     "RFC 4291", Embeds(96)),
    // Deprecated and not in the registry: judged by its IPv4 address like
    // the mapped form, for which it is easily taken.
    ("::/96",              "IPv4-compatible",                 "RFC 4291", Embeds(96)),
    ("64:ff9b::/96",       "IPv4-IPv6 translation",           "RFC 6052", Embeds(96)),
    ("64:ff9b:1::/48",     "local-use IPv4/IPv6 translation", "RFC 8215", Not),
    ("100::/64",           "discard-only",                    "RFC 6666", Not),
    ("2001::/23",          "IETF protocol assignments",       "RFC 2928", Not),
    // Reachability N/A in the registry: a Teredo client's tunnel address.
    ("2001::/32",          "Teredo",                          "RFC 4380", Not),
    ("2001:1::1/128",      "PCP anycast",                     "RFC 7723", Global),
    ("2001:1::2/128",      "TURN anycast",                    "RFC 8155", Global),
    ("2001:1::3/128",      "DNS-SD SRP anycast",              "RFC 9665", Global),
    ("2001:2::/48",        "benchmarking",                    "RFC 5180", Not),
    ("2001:3::/32",        "AMT",                             "RFC 7450", Global),
    ("2001:4:112::/48",    "AS112-v6",                        "RFC 7535", Global),
    // Reachability N/A in the registry: deprecated.
    ("2001:10::/28",       "deprecated ORCHID",               "RFC 4843", Not),
    ("2001:20::/28",       "ORCHIDv2",                        "RFC 7343", Global),
    ("2001:30::/28",       "drone remote ID DETs",            "RFC 9374", Global),
    ("2001:db8::/32",      "documentation",                   "RFC 3849", Not),
    // Reachability N/A in the registry: judged by the IPv4 address it embeds.
    ("2002::/16",          "6to4",                            "RFC 3056", Embeds(16)),
    ("2620:4f:8000::/48",  "AS112 direct delegation",         "RFC 7534", Global),
    ("3fff::/20",          "documentation",                   "RFC 9637", Not),
    ("5f00::/16",          "segment routing SIDs",            "RFC 9602", Not),
    ("fc00::/7",           "unique-local",                    "RFC 4193", Not),
    ("fe80::/10",          "link-local",                      "RFC 4291", Not),
    // Beyond the registry: deprecated site-local, multicast, and what the
    // IPv6 Address Space registry keeps outside global unicast 2000::/3.
    ("fec0::/10",          "deprecated site-local",           "RFC 3879", Not),
    ("ff00::/8",           "multicast",                       "RFC 4291", Not),
    ("::/3",               "reserved (outside global unicast 2000::/3)", "RFC 4291", Not),
    ("4000::/2",           "reserved (outside global unicast 2000::/3)", "RFC 4291", Not),
    ("8000::/1",           "reserved (outside global unicast 2000::/3)", "RFC 4291", Not),
];

/// One entry of `REGISTRY`, its prefix parsed.
struct Entry {
    network: IpAddr,
    prefix: u32,
    name: &'static str,
    source: &'static str,
    reach: Reach,
}

/// `REGISTRY` parsed once (a bad line is a bug the unit tests catch).
fn entries() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        REGISTRY
            .iter()
            .map(|&(range, name, source, reach)| {
                // invariant: REGISTRY is a constant of this file, never
                // input, and every unit test that judges an address parses
                // all of it, so a malformed row fails `cargo test`.
                let (network, prefix) = range
                    .split_once('/')
                    .expect("invariant: every REGISTRY range has a prefix length");
                Entry {
                    network: network
                        .parse()
                        .expect("invariant: every REGISTRY range is an address"),
                    prefix: prefix
                        .parse()
                        .expect("invariant: every REGISTRY prefix length is a number"),
                    name,
                    source,
                    reach,
                }
            })
            .collect()
    })
}

impl Entry {
    fn holds(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix).unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix).unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }

    fn range(&self) -> String {
        format!("{}/{}", self.network, self.prefix)
    }
}

/// Why `address` is not a public address ("10.0.0.0/8 is private-use (RFC
/// 1918)"), or None when it is one.
pub(crate) fn not_public(address: IpAddr) -> Option<String> {
    let found = entries()
        .iter()
        .filter(|entry| entry.holds(address))
        .max_by_key(|entry| entry.prefix)?;
    let why = || format!("{} is {} ({})", found.range(), found.name, found.source);
    match found.reach {
        Global => None,
        Not => Some(why()),
        Embeds(offset) => {
            let IpAddr::V6(v6) = address else {
                return Some(why());
            };
            let embedded = Ipv4Addr::from((u128::from(v6) >> (96 - offset)) as u32);
            not_public(IpAddr::V4(embedded)).map(|inner| {
                format!(
                    "it is the {} form ({}) of {embedded}, and {inner}",
                    found.name,
                    found.range()
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(text: &str) -> Option<String> {
        not_public(text.parse().unwrap())
    }

    #[test]
    fn the_table_is_well_formed() {
        assert_eq!(entries().len(), REGISTRY.len());
        for entry in entries() {
            let bits = if entry.network.is_ipv4() { 32 } else { 128 };
            assert!(entry.prefix <= bits, "{}", entry.range());
            // No host bits set below the prefix.
            let host_bits = match entry.network {
                IpAddr::V4(n) => u128::from(u32::from(n)) & ((1u128 << (32 - entry.prefix)) - 1),
                IpAddr::V6(n) => u128::from(n) & u128::MAX.checked_shr(entry.prefix).unwrap_or(0),
            };
            assert_eq!(host_bits, 0, "{}", entry.range());
            if let Embeds(offset) = entry.reach {
                assert!(entry.network.is_ipv6() && offset + 32 <= 128);
            }
        }
    }

    #[test]
    fn special_purpose_addresses_are_not_public_and_say_which_range() {
        for (address, range) in [
            ("0.0.0.0", "0.0.0.0/8"),
            ("0.1.2.3", "0.0.0.0/8"),
            ("10.0.0.1", "10.0.0.0/8"),
            ("100.64.0.0", "100.64.0.0/10"),
            ("100.127.255.255", "100.64.0.0/10"),
            ("127.0.0.1", "127.0.0.0/8"),
            ("169.254.1.1", "169.254.0.0/16"),
            ("172.31.255.255", "172.16.0.0/12"),
            ("192.0.0.1", "192.0.0.0/24"),
            ("192.0.2.1", "192.0.2.0/24"),
            ("192.88.99.1", "192.88.99.0/24"),
            ("192.168.1.1", "192.168.0.0/16"),
            ("198.18.0.0", "198.18.0.0/15"),
            ("198.19.255.255", "198.18.0.0/15"),
            ("198.51.100.7", "198.51.100.0/24"),
            ("203.0.113.7", "203.0.113.0/24"),
            ("224.0.0.1", "224.0.0.0/4"),
            ("240.0.0.0", "240.0.0.0/4"),
            ("255.255.255.254", "240.0.0.0/4"),
            ("255.255.255.255", "255.255.255.255/32"),
            ("::", "::/128"),
            ("::1", "::1/128"),
            ("::ffff:10.0.0.1", "10.0.0.0/8"),
            ("::ffff:127.0.0.1", "127.0.0.0/8"),
            ("::10.0.0.1", "10.0.0.0/8"),
            ("::0.0.0.2", "0.0.0.0/8"),
            ("64:ff9b::192.168.0.1", "192.168.0.0/16"),
            ("64:ff9b:1::1", "64:ff9b:1::/48"),
            ("100::1", "100::/64"),
            ("2001::1", "2001::/32"),
            ("2001:2::1", "2001:2::/48"),
            ("2001:1ff::1", "2001::/23"),
            ("2001:10::1", "2001:10::/28"),
            ("2001:db8::1", "2001:db8::/32"),
            ("2002:0a00:0001::1", "10.0.0.0/8"),
            ("3fff::1", "3fff::/20"),
            ("3fff:fff::1", "3fff::/20"),
            ("5f00::1", "5f00::/16"),
            ("fc00::1", "fc00::/7"),
            ("fd12:3456::1", "fc00::/7"),
            ("fe80::1", "fe80::/10"),
            ("fec0::1", "fec0::/10"),
            ("feff::1", "fec0::/10"),
            ("ff02::1", "ff00::/8"),
            ("1::1", "::/3"),
            ("4000::1", "4000::/2"),
            ("8000::1", "8000::/1"),
        ] {
            let why = why(address).unwrap_or_else(|| panic!("{address} counted as public"));
            assert!(why.contains(range), "{address}: {why}");
        }
        assert_eq!(
            why("::ffff:10.0.0.1").unwrap(),
            "it is the IPv4-mapped form (::ffff:0.0.0.0/96) of 10.0.0.1, \
             and 10.0.0.0/8 is private-use (RFC 1918)"
        );
    }

    #[test]
    fn public_addresses_pass_and_so_do_the_registrys_reachable_entries() {
        for address in [
            "47.96.10.21",
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "192.0.0.9",
            "192.0.0.10",
            "192.0.3.1",
            "192.31.196.1",
            "192.52.193.1",
            "192.175.48.1",
            "198.20.0.1",
            "223.255.255.255",
            "::ffff:47.96.10.21",
            "::47.96.10.21",
            "64:ff9b::47.96.10.21",
            "2002:2f60:0a15::1",
            "2001:1::1",
            "2001:3::1",
            "2001:4:112::1",
            "2001:20::1",
            "2001:200::1",
            "2001:da8::1",
            "2400:3200::1",
            "240e::1",
            "2620:4f:8000::1",
            "3ffe::1",
        ] {
            assert_eq!(why(address), None, "{address}");
        }
    }
}
