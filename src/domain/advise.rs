//! "Check other services" (seeds, 000): what an ICP filing needs when a site
//! also uses one of the provider's other services. The rules are data: a new
//! service is one more row.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Advice {
    /// The key given to `advise --uses`.
    pub key: &'static str,
    pub name: &'static str,
    /// An ICP number for the domain name must be obtained from the MIIT.
    pub icp_number_required: bool,
    /// The provider must be added to the filing as a service provider.
    pub add_provider_to_filing: bool,
    pub note: &'static str,
}

/// From the provider's "Check other Alibaba Cloud services" table: each of
/// these needs the domain's ICP number from the MIIT; none needs the
/// provider on the filing's service-provider list.
pub(crate) const ADVICE: &[Advice] = &[
    Advice {
        key: "oss",
        name: "Object Storage Service (OSS)",
        icp_number_required: true,
        add_provider_to_filing: false,
        note: "a custom domain name mapped to an OSS endpoint needs an ICP filing",
    },
    Advice {
        key: "cdn",
        name: "Alibaba Cloud CDN",
        icp_number_required: true,
        add_provider_to_filing: false,
        note: "every accelerated domain needs an ICP number, for mainland or global acceleration",
    },
    Advice {
        key: "waf",
        name: "Web Application Firewall (WAF)",
        icp_number_required: true,
        add_provider_to_filing: false,
        note: "a domain protected in the mainland needs an ICP number",
    },
    Advice {
        key: "anti-ddos",
        name: "Anti-DDoS Pro",
        icp_number_required: true,
        add_provider_to_filing: false,
        note: "a domain protected in the mainland needs an ICP number",
    },
];

/// The advice for one key, case-insensitively.
pub(crate) fn find(key: &str) -> Option<&'static Advice> {
    ADVICE
        .iter()
        .find(|advice| advice.key.eq_ignore_ascii_case(key.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seeded_service_needs_an_icp_number_and_no_provider_listing() {
        for key in ["oss", "CDN", "Waf", "anti-ddos"] {
            let advice = find(key).unwrap();
            assert!(advice.icp_number_required && !advice.add_provider_to_filing);
        }
        assert!(find("ecs").is_none());
    }
}
