//! An index of long chains by destination address, so that evaluation can leap over
//! rules that cannot match without changing what the kernel's linear walk decides or how
//! many rules it evaluates. kube-proxy's KUBE-SERVICES holds one rule per Service port,
//! each `-d CLUSTER-IP/32 -p tcp ... --dport PORT -j KUBE-SVC-...`: a packet for the last
//! Service meets every other rule first, and each fails on its `-d`.
//!
//! A rule is *keyed* by an address when it has a `-d ADDR/32` match (not negated) and no
//! match with a side effect (`-m statistic` draws or counts): for any other destination
//! its matches are certain to fail, and evaluating them changes nothing. Every other rule
//! is *open* and is always evaluated. [`ChainIndex::next`] gives the first rule at or
//! after a position that is open or keyed by the packet's destination; the rules before
//! it are misses, each of which the kernel evaluates (and the trace reports) one by one.

use super::{Chain, Match, Table};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, OnceLock};

/// Chains shorter than this are walked rule by rule.
pub const MIN_RULES: usize = 32;

/// Where the rules of one chain that may match a destination are.
#[derive(Debug, Default)]
pub struct ChainIndex {
    /// Open rules, ascending.
    open: Vec<u32>,
    /// Keyed rules by their address, each list ascending.
    keyed: HashMap<Ipv4Addr, Vec<u32>>,
}

fn key(rule: &super::Rule) -> Option<Ipv4Addr> {
    let mut dst = None;
    for m in &rule.matches {
        match m {
            Match::StatisticRandom { .. } | Match::StatisticNth { .. } => return None,
            Match::Destination { net, neg: false } if net.prefix_len() == 32 => {
                dst = dst.or(Some(net.addr()));
            }
            _ => {}
        }
    }
    dst
}

impl ChainIndex {
    /// Index a chain.
    pub fn build(chain: &Chain) -> ChainIndex {
        let mut ix = ChainIndex::default();
        for (i, r) in chain.rules.iter().enumerate() {
            match key(r) {
                Some(a) => ix.keyed.entry(a).or_default().push(i as u32),
                None => ix.open.push(i as u32),
            }
        }
        ix
    }

    /// The first rule at or after `from` that a packet to `dst` may match (the chain's
    /// length when none): every rule in between certainly misses.
    pub fn next(&self, from: usize, dst: Ipv4Addr, len: usize) -> usize {
        self.next_in(from, self.keyed(dst), len)
    }

    /// The keyed rules for `dst` ([`ChainIndex::next_in`] takes them: one lookup per chain
    /// walked, not per rule).
    pub fn keyed(&self, dst: Ipv4Addr) -> &[u32] {
        self.keyed.get(&dst).map_or(&[], Vec::as_slice)
    }

    /// [`ChainIndex::next`], with the destination's keyed rules given.
    pub fn next_in(&self, from: usize, keyed: &[u32], len: usize) -> usize {
        let first = |v: &[u32]| {
            let i = v.partition_point(|&x| (x as usize) < from);
            v.get(i).map_or(len, |&x| x as usize)
        };
        first(&self.open).min(first(keyed))
    }
}

/// The lazily built indexes of a table's long chains, by chain position. Copying a table
/// (to change it) empties the cache, as [`super::Netfilter::table_mut`] does: an index is
/// only ever used with the rules it was built from.
#[derive(Default)]
pub struct IndexCache(OnceLock<Arc<Indexes>>);

/// A chain laid out for the walk: every rule's matches one after the other in one vector,
/// and what the walk needs of each rule in another, so that walking a chain reads memory
/// in order instead of following pointers per rule (on a Calico node of a hundred pods,
/// each was a cache miss). The same matches, in the same order, as the rules hold, but for
/// those that always hold and do nothing (comments, nfacct).
#[derive(Debug, Default)]
pub struct FlatChain {
    matches: Vec<Match>,
    rules: Vec<FlatRule>,
    /// The destination index of a long chain.
    index: Option<ChainIndex>,
}

/// What the walk needs of one rule.
#[derive(Debug)]
struct FlatRule {
    /// The end of its matches in [`FlatChain::matches`] (its start is the previous end).
    end: u32,
    /// The position of the chain a `-j`/`-g` rule goes to ([`NO_CHAIN`] for other targets
    /// and unknown chains).
    jump: u32,
    /// Whether a match keeps state between packets (`-m statistic --mode nth`).
    stateful: bool,
    target: super::Target,
}

impl FlatChain {
    /// A chain without rules.
    pub const EMPTY: FlatChain = FlatChain {
        matches: Vec::new(),
        rules: Vec::new(),
        index: None,
    };

    fn build(table: &Table, chain: &Chain) -> FlatChain {
        let mut f = FlatChain {
            matches: Vec::with_capacity(chain.rules.iter().map(|r| r.matches.len()).sum()),
            rules: Vec::with_capacity(chain.rules.len()),
            index: (chain.rules.len() >= MIN_RULES).then(|| ChainIndex::build(chain)),
        };
        for r in &chain.rules {
            // A comment (every Calico rule has one or two) and an nfacct without quota
            // always hold and change nothing: the walk need not read them.
            f.matches.extend(
                r.matches
                    .iter()
                    .filter(|m| !matches!(m, Match::Comment { .. } | Match::Nfacct { .. }))
                    .cloned(),
            );
            f.rules.push(FlatRule {
                end: f.matches.len() as u32,
                jump: match &r.target {
                    super::Target::Jump { chain } | super::Target::Goto { chain } => table
                        .chains
                        .get_index_of(chain.as_str())
                        .map_or(NO_CHAIN, |i| i as u32),
                    _ => NO_CHAIN,
                },
                stateful: r
                    .matches
                    .iter()
                    .any(|m| matches!(m, Match::StatisticNth { .. })),
                target: r.target.clone(),
            });
        }
        f
    }

    /// How many rules the chain has.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the chain has no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The chain's destination index, if it is long enough to have one.
    pub fn index(&self) -> Option<&ChainIndex> {
        self.index.as_ref()
    }

    /// The position of the chain rule `rule` jumps (or goes) to (looked up once per table,
    /// not by name at every jump); `None` for another target or an unknown chain.
    pub fn jump(&self, rule: usize) -> Option<usize> {
        match self.rules.get(rule).map(|r| r.jump) {
            Some(NO_CHAIN) | None => None,
            Some(i) => Some(i as usize),
        }
    }

    /// Rule `rule`'s target.
    pub fn target(&self, rule: usize) -> Option<&super::Target> {
        self.rules.get(rule).map(|r| &r.target)
    }

    /// Rule `rule`'s matches, and whether one keeps state.
    pub fn rule(&self, rule: usize) -> (&[Match], bool) {
        let start = rule
            .checked_sub(1)
            .and_then(|p| self.rules.get(p))
            .map_or(0, |r| r.end as usize);
        match self.rules.get(rule) {
            Some(r) => (
                self.matches.get(start..r.end as usize).unwrap_or(&[]),
                r.stateful,
            ),
            None => (&[], false),
        }
    }
}

/// What [`IndexCache`] holds.
struct Indexes {
    /// By chain position: the chain laid out for the walk, with its index, made when a
    /// walk first enters it (a kube-proxy table has tens of thousands of chains, of which
    /// a request enters a handful; copying them all would cost the load's heap dearly).
    flat: Vec<OnceLock<FlatChain>>,
    /// By hook: the position of the built-in chain the hook enters ([`NO_CHAIN`] when the
    /// table has none there).
    base: [u32; 5],
}

/// A rule that goes to no chain.
const NO_CHAIN: u32 = u32::MAX;

impl Clone for IndexCache {
    fn clone(&self) -> Self {
        IndexCache::default()
    }
}

impl PartialEq for IndexCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for IndexCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexCache")
    }
}

impl Table {
    /// The matches of the chain at `chain`, laid out for the walk.
    pub fn flat_chain(&self, chain: usize) -> &FlatChain {
        static EMPTY: FlatChain = FlatChain::EMPTY;
        let Some(cell) = self.indexes().flat.get(chain) else {
            return &EMPTY;
        };
        if let Some(flat) = cell.get() {
            return flat;
        }
        match self.chains.get_index(chain) {
            Some((_, c)) => cell.get_or_init(|| FlatChain::build(self, c)),
            None => &EMPTY,
        }
    }

    /// The position of the built-in chain `hook` enters in this table (looked up once per
    /// table, not by name at every packet).
    pub fn base_chain(&self, hook: super::Hook) -> Option<usize> {
        match self.indexes().base[hook as usize] {
            NO_CHAIN => None,
            i => Some(i as usize),
        }
    }

    fn indexes(&self) -> &Indexes {
        self.index.0.get_or_init(|| {
            Arc::new(Indexes {
                flat: self.chains.values().map(|_| OnceLock::new()).collect(),
                base: [
                    super::Hook::Prerouting,
                    super::Hook::Input,
                    super::Hook::Forward,
                    super::Hook::Output,
                    super::Hook::Postrouting,
                ]
                .map(|h| {
                    self.chains
                        .get_index_of(h.chain())
                        .map_or(NO_CHAIN, |i| i as u32)
                }),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netfilter::{iptables, Netfilter, TableName};

    fn chain(rules: &[&str]) -> Netfilter {
        let mut nf = Netfilter::default();
        iptables::run(&mut nf, &["-t", "nat", "-N", "S"], &Default::default()).expect("-N");
        for r in rules {
            let mut args = vec!["-t", "nat", "-A", "S"];
            args.extend(r.split_whitespace());
            iptables::run(&mut nf, &args, &Default::default())
                .unwrap_or_else(|e| panic!("{r}: {}", e.msg));
        }
        nf
    }

    #[test]
    fn keyed_and_open_rules() {
        let nf = chain(&[
            "-d 10.96.0.1/32 -p tcp --dport 443 -j ACCEPT",
            "-d 10.96.0.2/32 -p tcp --dport 80 -j ACCEPT",
            "-d 10.96.0.0/16 -j ACCEPT",
            "-d 10.96.0.2/32 -m statistic --mode random --probability 0.5 -j ACCEPT",
            "! -d 10.96.0.3/32 -j ACCEPT",
            "-d 10.96.0.3/32 -j ACCEPT",
            "-m addrtype --dst-type LOCAL -j ACCEPT",
        ]);
        let t = nf.table(TableName::Nat);
        let c = &t.chains["S"];
        let ix = ChainIndex::build(c);
        let len = c.rules.len();
        let a = |s: &str| s.parse::<Ipv4Addr>().expect("addr");
        // A /16 is open, a statistic match makes a rule open, a negated -d is open.
        assert_eq!(ix.open, [2, 3, 4, 6]);
        assert_eq!(ix.next(0, a("10.96.0.2"), len), 1);
        assert_eq!(ix.next(0, a("10.96.0.1"), len), 0);
        assert_eq!(ix.next(1, a("10.96.0.1"), len), 2);
        assert_eq!(ix.next(5, a("10.96.0.3"), len), 5);
        assert_eq!(ix.next(5, a("10.96.0.9"), len), 6);
        assert_eq!(ix.next(7, a("10.96.0.9"), len), 7);
    }

    #[test]
    fn only_long_chains_are_indexed_and_copies_forget_the_index() {
        let short = chain(&["-d 10.96.0.1/32 -j ACCEPT"]);
        let t = short.table(TableName::Nat);
        assert!(t
            .flat_chain(t.chains.get_index_of("S").expect("S"))
            .index()
            .is_none());
        let rules: Vec<String> = (0..MIN_RULES)
            .map(|i| format!("-d 10.96.0.{i}/32 -j ACCEPT"))
            .collect();
        let refs: Vec<&str> = rules.iter().map(String::as_str).collect();
        let mut long = chain(&refs);
        let s = long
            .table(TableName::Nat)
            .chains
            .get_index_of("S")
            .expect("S");
        assert!(long.table(TableName::Nat).flat_chain(s).index().is_some());
        let copy = long.table(TableName::Nat).clone();
        assert!(copy.index.0.get().is_none());
        assert!(long.table_mut(TableName::Nat).index.0.get().is_none());
    }

    #[test]
    fn a_chain_is_laid_out_when_first_entered_with_its_rules_as_they_are() {
        let mut nf = Netfilter::default();
        for args in [
            "-t nat -N T",
            "-t nat -N S",
            "-t nat -A S -i cali+ -m comment --comment x -j RETURN",
            "-t nat -A S -p tcp -m statistic --mode nth --every 2 --packet 0 -m comment --comment y -j T",
            "-t nat -A S -j ACCEPT",
        ] {
            let args: Vec<&str> = args.split_whitespace().collect();
            iptables::run(&mut nf, &args, &Default::default()).unwrap_or_else(|e| panic!("{}", e.msg));
        }
        let t = nf.table(TableName::Nat);
        let s = t.chains.get_index_of("S").expect("S");
        let to = t.chains.get_index_of("T").expect("T");
        let laid_out = |t: &Table| {
            t.indexes()
                .flat
                .iter()
                .filter(|c| c.get().is_some())
                .count()
        };
        assert_eq!(laid_out(t), 0, "nothing before a walk");
        let f = t.flat_chain(s);
        assert_eq!(laid_out(t), 1, "only the chain entered");
        assert_eq!(f.len(), 3);
        // Comments are left out; the other matches keep their order.
        let (m, stateful) = f.rule(0);
        assert!(matches!(m, [Match::InInterface { .. }]) && !stateful);
        let (m, stateful) = f.rule(1);
        assert!(matches!(m, [Match::Protocol { .. }, Match::StatisticNth { .. }]) && stateful);
        assert!(f.rule(2).0.is_empty() && f.rule(3).0.is_empty());
        assert_eq!(f.jump(1), Some(to));
        assert_eq!(f.jump(0), None);
        assert!(matches!(
            f.target(2),
            Some(crate::netfilter::Target::Accept)
        ));
    }
}
