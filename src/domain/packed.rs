//! Instances held compactly for `verify`'s rebuilt state (docs/reference.md
//! "Guarantees"): the replay of a 5,000,000-event log holds every instance
//! at once, and a `HashMap<String, Instance>` costs about 600 bytes an
//! instance there. Here the repeated short texts (service type, account,
//! region, expiry time) are held once as symbols, an IPv4 address as four
//! bytes, the id once (as the key), and the
//! rest in one fixed-size row: about 200 bytes an instance.

use super::types::{Billing, Instance, InstanceState};
use std::collections::HashMap;

/// Repeated short texts of one column, each held once, named by a small
/// number.
#[derive(Debug, Default)]
struct Symbols {
    numbers: HashMap<Box<str>, u32>,
    texts: Vec<Box<str>>,
    /// The last symbol given: rows often repeat the row before (an import
    /// of one account's instances, expiries in date order).
    last: u32,
}

impl Symbols {
    fn symbol(&mut self, text: &str) -> u32 {
        if self
            .texts
            .get(self.last as usize)
            .is_some_and(|last| **last == *text)
        {
            return self.last;
        }
        let number = match self.numbers.get(text) {
            Some(number) => *number,
            None => {
                let count = self.texts.len();
                // invariant: 2^32 distinct texts of one column would need
                // more memory than verify's limit allows (limits on input).
                let number = u32::try_from(count).expect("fewer than 2^32 texts");
                self.texts.push(text.into());
                self.numbers.insert(text.into(), number);
                number
            }
        };
        self.last = number;
        number
    }

    fn text(&self, symbol: u32) -> &str {
        &self.texts[symbol as usize]
    }
}

/// One instance without its id (the key holds it).
#[derive(Debug)]
struct Row {
    service_type: u32,
    account: u32,
    region: u32,
    billing: Billing,
    state: InstanceState,
    subscription_months: i64,
    expires_at: u32,
    public_ip: PublicIp,
    order_amount_fen: Option<i64>,
    consumed: i64,
    updated_seq: i64,
}

/// A public IP: an IPv4 address in its usual spelling as four bytes, any
/// other text as it is.
#[derive(Debug)]
enum PublicIp {
    None,
    V4(u32),
    Text(Box<str>),
}

impl PublicIp {
    fn of(text: Option<&str>) -> PublicIp {
        let Some(text) = text else {
            return PublicIp::None;
        };
        match text.parse::<std::net::Ipv4Addr>() {
            // Only where the address reads back as the same text.
            Ok(address) if address.to_string() == text => PublicIp::V4(address.into()),
            _ => PublicIp::Text(text.into()),
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            PublicIp::None => None,
            PublicIp::V4(address) => Some(std::net::Ipv4Addr::from(*address).to_string()),
            PublicIp::Text(text) => Some(text.to_string()),
        }
    }
}

/// Instances by id, compactly. Rows are never moved: a removed id leaves
/// its row unreachable (verify removes rows only while comparing, at the
/// end).
#[derive(Debug, Default)]
pub(crate) struct InstanceTable {
    index: HashMap<Box<str>, u32>,
    rows: Vec<Row>,
    service_types: Symbols,
    accounts: Symbols,
    regions: Symbols,
    expiries: Symbols,
}

impl InstanceTable {
    pub(crate) fn reserve(&mut self, instances: usize) {
        self.index.reserve(instances);
        self.rows.reserve(instances);
    }

    /// Inserts `instance` and returns the row it replaced when `keep` says
    /// so of that row's updated seq (one look-up; the row is decoded only
    /// then).
    pub(crate) fn replace(
        &mut self,
        instance: Instance,
        keep: impl Fn(i64) -> bool,
    ) -> Option<Instance> {
        let row = self.row(&instance);
        match self.index.get(instance.instance_id.as_str()) {
            Some(position) => {
                let old = &self.rows[*position as usize];
                let replaced =
                    keep(old.updated_seq).then(|| self.instance(&instance.instance_id, old));
                self.rows[*position as usize] = row;
                replaced
            }
            None => {
                // invariant: 2^32 instances at ~200 bytes each would be
                // 800 GB, far past verify's memory limit.
                let position = u32::try_from(self.rows.len()).expect("fewer than 2^32 rows");
                self.rows.push(row);
                self.index
                    .insert(instance.instance_id.into_boxed_str(), position);
                None
            }
        }
    }

    pub(crate) fn get(&self, instance_id: &str) -> Option<Instance> {
        let position = self.index.get(instance_id)?;
        Some(self.instance(instance_id, &self.rows[*position as usize]))
    }

    pub(crate) fn remove(&mut self, instance_id: &str) -> Option<Instance> {
        let position = self.index.remove(instance_id)?;
        Some(self.instance(instance_id, &self.rows[position as usize]))
    }

    /// Every instance, in no particular order (one record refilled for
    /// each: no allocation per row).
    pub(crate) fn each(&self, mut visit: impl FnMut(&Instance)) {
        let mut record: Option<Instance> = None;
        for (instance_id, position) in &self.index {
            let row = &self.rows[*position as usize];
            // The first row is decoded twice; every later one refills.
            let record = record.get_or_insert_with(|| self.instance(instance_id, row));
            self.fill(record, instance_id, row);
            visit(record);
        }
    }

    fn row(&mut self, instance: &Instance) -> Row {
        Row {
            service_type: self.service_types.symbol(&instance.service_type),
            account: self.accounts.symbol(&instance.account),
            region: self.regions.symbol(&instance.region),
            billing: instance.billing,
            state: instance.state,
            subscription_months: instance.subscription_months,
            // Expiry times repeat (providers expire at midnight).
            expires_at: self.expiries.symbol(&instance.expires_at),
            public_ip: PublicIp::of(instance.public_ip.as_deref()),
            order_amount_fen: instance.order_amount_fen,
            consumed: instance.consumed,
            updated_seq: instance.updated_seq,
        }
    }

    fn instance(&self, instance_id: &str, row: &Row) -> Instance {
        Instance {
            instance_id: instance_id.to_string(),
            service_type: self.service_types.text(row.service_type).to_string(),
            account: self.accounts.text(row.account).to_string(),
            region: self.regions.text(row.region).to_string(),
            billing: row.billing,
            subscription_months: row.subscription_months,
            expires_at: self.expiries.text(row.expires_at).to_string(),
            public_ip: row.public_ip.text(),
            order_amount_fen: row.order_amount_fen,
            state: row.state,
            consumed: row.consumed,
            updated_seq: row.updated_seq,
        }
    }

    /// Writes `row` into `record`, reusing its buffers.
    fn fill(&self, record: &mut Instance, instance_id: &str, row: &Row) {
        let set = |field: &mut String, text: &str| {
            field.clear();
            field.push_str(text);
        };
        set(&mut record.instance_id, instance_id);
        set(
            &mut record.service_type,
            self.service_types.text(row.service_type),
        );
        set(&mut record.account, self.accounts.text(row.account));
        set(&mut record.region, self.regions.text(row.region));
        set(&mut record.expires_at, self.expiries.text(row.expires_at));
        record.public_ip = row.public_ip.text();
        record.billing = row.billing;
        record.subscription_months = row.subscription_months;
        record.order_amount_fen = row.order_amount_fen;
        record.state = row.state;
        record.consumed = row.consumed;
        record.updated_seq = row.updated_seq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str, account: &str, consumed: i64) -> Instance {
        Instance {
            instance_id: id.to_string(),
            service_type: "ecs".to_string(),
            account: account.to_string(),
            region: "cn-hangzhou".to_string(),
            billing: Billing::Subscription,
            subscription_months: 12,
            expires_at: "2027-03-01T00:00:00Z".to_string(),
            public_ip: Some("47.1.2.3".to_string()),
            order_amount_fen: None,
            state: InstanceState::Active,
            consumed,
            updated_seq: 1,
        }
    }

    #[test]
    fn a_packed_instance_reads_back_as_it_went_in() {
        let mut table = InstanceTable::default();
        assert_eq!(table.replace(instance("i-1", "acme", 0), |_| true), None);
        assert_eq!(table.replace(instance("i-2", "beta", 3), |_| true), None);
        // The replaced row comes back only when it is asked for.
        assert_eq!(
            table.replace(instance("i-2", "beta", 4), |seq| seq > 1),
            None
        );
        assert_eq!(
            table.replace(instance("i-2", "beta", 3), |seq| seq == 1),
            Some(instance("i-2", "beta", 4))
        );
        table.replace(instance("i-1", "acme", 2), |_| false);
        assert_eq!(table.index.len(), 2);
        assert_eq!(table.get("i-1"), Some(instance("i-1", "acme", 2)));
        assert_eq!(table.get("i-2"), Some(instance("i-2", "beta", 3)));
        assert_eq!(table.get("i-3"), None);
        assert_eq!(table.remove("i-2"), Some(instance("i-2", "beta", 3)));
        assert_eq!(table.get("i-2"), None);
        let mut left = Vec::new();
        table.each(|instance| left.push(instance.clone()));
        assert_eq!(left, [instance("i-1", "acme", 2)]);
        // The account is held once, whatever the number of instances.
        assert_eq!(table.accounts.texts.len(), 2);
        assert_eq!(table.expiries.texts.len(), 1);
    }

    #[test]
    fn a_public_ip_reads_back_as_its_text_whatever_it_is() {
        for text in ["47.1.2.3", "047.1.2.3", "2408:4000::1", "not an ip", ""] {
            assert_eq!(PublicIp::of(Some(text)).text().as_deref(), Some(text));
        }
        assert!(matches!(PublicIp::of(Some("47.1.2.3")), PublicIp::V4(_)));
        assert_eq!(PublicIp::of(None).text(), None);
    }
}
