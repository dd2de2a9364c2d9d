//! Whitespace: for each account and each product it does not hold, how many similar
//! accounts — same segment and industry, ARR within a factor of [`SIZE_FACTOR`] —
//! hold that product, and what they pay for it. A gap is an expansion opportunity
//! ranked by its expected ARR (share of similar accounts owning it × their mean ARR
//! of it).

use std::collections::{BTreeMap, HashMap};

/// Similar accounts are at most this many times larger or smaller by ARR.
pub const SIZE_FACTOR: f64 = 2.0;
/// A gap needs at least this many similar accounts to be told.
pub const MIN_PEERS: usize = 5;

/// An account as whitespace sees it: its segment, industry, and ARR by product in
/// force, in one currency (minor units).
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub account_id: String,
    pub segment: Option<String>,
    pub industry: Option<String>,
    pub products: BTreeMap<String, i64>,
}

impl Holder {
    pub fn arr(&self) -> i64 {
        self.products.values().sum()
    }
}

/// A product an account does not hold that similar accounts do.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    pub account_id: String,
    pub product: String,
    /// Similar accounts (the account itself left out).
    pub peers: usize,
    /// Those of them holding the product.
    pub owners: usize,
    /// owners ÷ peers.
    pub share: f64,
    /// The owners' mean ARR of the product: what the account might pay for it.
    pub estimated_arr: i64,
}

impl Gap {
    /// share × estimated ARR: what the gap is worth, weighted by how usual it is.
    pub fn expected_arr(&self) -> f64 {
        self.share * self.estimated_arr as f64
    }
}

/// Every gap of `holders` with at least [`MIN_PEERS`] similar accounts and one owner,
/// best first (expected ARR, then account and product). Accounts without ARR neither
/// have gaps nor count as peers.
pub fn whitespace(holders: &[Holder]) -> Vec<Gap> {
    // Accounts by (segment, industry), each with its ARR.
    type Group<'a> = Vec<(i64, &'a Holder)>;
    let mut groups: HashMap<(Option<&str>, Option<&str>), Group> = HashMap::new();
    for h in holders {
        let arr = h.arr();
        if arr > 0 {
            groups
                .entry((h.segment.as_deref(), h.industry.as_deref()))
                .or_default()
                .push((arr, h));
        }
    }
    let mut gaps = Vec::new();
    for members in groups.values_mut() {
        members.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.account_id.cmp(&b.1.account_id)));
        gaps_of_group(members, &mut gaps);
    }
    gaps.sort_by(|a, b| {
        b.expected_arr()
            .total_cmp(&a.expected_arr())
            .then_with(|| a.account_id.cmp(&b.account_id))
            .then_with(|| a.product.cmp(&b.product))
    });
    gaps
}

/// Product counts and ARR over a window of a group.
#[derive(Default)]
struct Window<'a> {
    accounts: usize,
    owners: HashMap<&'a str, (usize, i64)>,
}

impl<'a> Window<'a> {
    fn change(&mut self, holder: &'a Holder, sign: i64) {
        self.accounts = (self.accounts as i64 + sign) as usize;
        for (product, arr) in &holder.products {
            let entry = self.owners.entry(product.as_str()).or_default();
            entry.0 = (entry.0 as i64 + sign) as usize;
            entry.1 += sign * arr;
        }
    }
}

/// The gaps of one group sorted by ARR: a window slides over it holding the
/// accounts within the size factor of the current one, so each account costs its
/// products, not the group.
fn gaps_of_group(members: &[(i64, &Holder)], gaps: &mut Vec<Gap>) {
    let mut window = Window::default();
    let (mut low, mut high) = (0, 0);
    for &(arr, holder) in members {
        let (min, max) = (arr as f64 / SIZE_FACTOR, arr as f64 * SIZE_FACTOR);
        while high < members.len() && members[high].0 as f64 <= max {
            window.change(members[high].1, 1);
            high += 1;
        }
        while (members[low].0 as f64) < min {
            window.change(members[low].1, -1);
            low += 1;
        }
        // The window holds the account itself: take it out of its own peers.
        let peers = window.accounts - 1;
        if peers < MIN_PEERS {
            continue;
        }
        for (&product, &(owners, total)) in &window.owners {
            if owners == 0 || holder.products.contains_key(product) {
                continue;
            }
            gaps.push(Gap {
                account_id: holder.account_id.clone(),
                product: product.to_string(),
                peers,
                owners,
                share: owners as f64 / peers as f64,
                estimated_arr: (total as f64 / owners as f64).round() as i64,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(id: &str, industry: &str, products: &[(&str, i64)]) -> Holder {
        Holder {
            account_id: id.into(),
            segment: Some("mid".into()),
            industry: Some(industry.into()),
            products: products.iter().map(|(p, a)| (p.to_string(), *a)).collect(),
        }
    }

    #[test]
    fn gaps_count_similar_accounts_that_own_the_product() {
        // Six retail accounts of about 10,000: three also hold analytics.
        let mut holders = vec![
            holder("r1", "retail", &[("core", 10_000)]),
            holder("r2", "retail", &[("core", 9_000), ("analytics", 3_000)]),
            holder("r3", "retail", &[("core", 8_000), ("analytics", 5_000)]),
            holder("r4", "retail", &[("core", 11_000), ("analytics", 4_000)]),
            holder("r5", "retail", &[("core", 12_000)]),
            holder("r6", "retail", &[("core", 10_500)]),
            // Too large to be similar to r1, and another industry.
            holder("big", "retail", &[("core", 90_000), ("analytics", 9_000)]),
            holder("b1", "banking", &[("core", 10_000), ("analytics", 1_000)]),
        ];
        holders.push(holder("none", "retail", &[]));
        let gaps = whitespace(&holders);
        let r1 = gaps.iter().find(|g| g.account_id == "r1").unwrap();
        assert_eq!(
            (r1.peers, r1.owners, r1.product.as_str()),
            (5, 3, "analytics")
        );
        assert_eq!(r1.share, 0.6);
        assert_eq!(r1.estimated_arr, 4_000);
        // Accounts owning every product their peers own have no gap; the banking
        // account has too few peers; an account without ARR has none.
        assert!(gaps
            .iter()
            .all(|g| g.account_id != "r2" && g.account_id != "b1"));
        assert!(gaps
            .iter()
            .all(|g| g.account_id != "none" && g.account_id != "big"));
        // r5 (12,000) and r6 (10,500) see the same window but for themselves.
        let ids: Vec<&str> = gaps.iter().map(|g| g.account_id.as_str()).collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert!(gaps
            .windows(2)
            .all(|w| w[0].expected_arr() >= w[1].expected_arr()));
    }
}
