//! Packet and byte counters kept beside a table rather than in it. The tables of a
//! namespace are shared copy on write with every namespace that has the same rules (the
//! nodes of a cluster share one nat table of tens of thousands of rules); if counting a
//! packet wrote into the table, the first counted packet of every trace would copy all of
//! it. Evaluation adds to this small overlay instead, keyed by the chain's position in its
//! table and the rule's in its chain; the overlay is folded into the table whenever the
//! table changes or is listed, so `iptables -L -v`, `-S`, `iptables-save -c` and `-Z` see
//! exactly the counters the kernel would show.

use super::Table;
use std::borrow::Cow;

/// The rule slot of a chain's policy counter.
pub const POLICY: u32 = u32::MAX;

/// Counts not yet folded into a table: (chain index, rule index or [`POLICY`]) to
/// (packets, bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(Vec<((u32, u32), (u64, u64))>);

impl Counts {
    /// Nothing counted since the last fold.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One packet of `len` bytes for a rule (or a chain's policy, slot [`POLICY`]).
    pub fn add(&mut self, chain: u32, slot: u32, len: u64) {
        // Sorted by key: a trace counts a few dozen rules, which a sorted vector holds in
        // one allocation (a map would allocate a node on its first insert).
        let c = match self.0.binary_search_by_key(&(chain, slot), |e| e.0) {
            Ok(i) => &mut self.0[i].1,
            Err(i) => {
                self.0.insert(i, ((chain, slot), (0, 0)));
                &mut self.0[i].1
            }
        };
        c.0 += 1;
        c.1 += len;
    }

    /// Add the counts to the table's own counters and forget them.
    pub fn fold_into(&mut self, table: &mut Table) {
        for ((chain, slot), (p, b)) in std::mem::take(&mut self.0) {
            let Some((_, c)) = table.chains.get_index_mut(chain as usize) else {
                continue;
            };
            if slot == POLICY {
                c.packets += p;
                c.bytes += b;
            } else if let Some(r) = c.rules.get_mut(slot as usize) {
                r.packets += p;
                r.bytes += b;
            }
        }
    }

    /// The table with these counts added (borrowed as is when there are none).
    pub fn apply_to<'a>(&self, table: &'a Table) -> Cow<'a, Table> {
        if self.is_empty() {
            return Cow::Borrowed(table);
        }
        let mut t = table.clone();
        self.clone().fold_into(&mut t);
        Cow::Owned(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netfilter::TableName;

    #[test]
    fn counts_fold_into_the_right_rule_and_policy() {
        let mut t = Table::new(TableName::Filter);
        t.chains["INPUT"].rules.push(crate::netfilter::Rule {
            matches: vec![],
            target: crate::netfilter::Target::Accept,
            packets: 1,
            bytes: 10,
        });
        let mut c = Counts::default();
        let input = t.chains.get_index_of("INPUT").expect("INPUT") as u32;
        c.add(input, 0, 60);
        c.add(input, 0, 40);
        c.add(input, POLICY, 84);
        c.add(input, 7, 1); // a rule that is not there: ignored
        let view = c.apply_to(&t);
        assert_eq!(view.chains["INPUT"].rules[0].packets, 3);
        assert_eq!(view.chains["INPUT"].rules[0].bytes, 110);
        assert_eq!(
            (view.chains["INPUT"].packets, view.chains["INPUT"].bytes),
            (1, 84)
        );
        // The table itself is untouched until folded.
        assert_eq!(t.chains["INPUT"].rules[0].packets, 1);
        c.fold_into(&mut t);
        assert!(c.is_empty());
        assert_eq!(t.chains["INPUT"].rules[0].packets, 3);
        assert!(matches!(Counts::default().apply_to(&t), Cow::Borrowed(_)));
    }
}
