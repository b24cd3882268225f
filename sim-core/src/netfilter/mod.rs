//! Netfilter as plain types: tables of named chains of rules, each rule a list of matches
//! and a target, with the kernel's packet and byte counters. The iptables command
//! language ([`iptables`]) and the `iptables-save`/`iptables -L` renderings ([`save`],
//! [`list`]) read and write these types; the engine evaluates them ([`eval`]) at the hooks
//! in kernel order, with connection tracking ([`conntrack`]).
//!
//! ```text
//!  PREROUTING: raw, (conntrack), mangle, nat(DNAT)      -> routing decision
//!  INPUT:      mangle, filter                           (for us)
//!  FORWARD:    mangle, filter                           (routed through)
//!  OUTPUT:     raw, (conntrack), mangle, nat, filter    (locally generated)
//!  POSTROUTING: mangle, nat(SNAT, MASQUERADE)
//! ```

pub mod conntrack;
pub mod counters;
pub mod eval;
pub mod index;
pub mod ipset;
pub mod iptables;
pub mod list;
pub mod save;

use indexmap::IndexMap;
use ipnet::Ipv4Net;
use serde::Serialize;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The four iptables tables hopsim models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableName {
    /// `raw`: before conntrack (NOTRACK, TRACE).
    Raw,
    /// `mangle`: marks.
    Mangle,
    /// `nat`: consulted for the first packet of a connection only.
    Nat,
    /// `filter`: the default table.
    Filter,
}

impl TableName {
    /// All tables, in `iptables-save` order (raw, mangle, nat, filter is not it: the
    /// save order is the order tables were registered; iptables-nft prints what exists).
    pub const ALL: [TableName; 4] = [
        TableName::Raw,
        TableName::Mangle,
        TableName::Nat,
        TableName::Filter,
    ];

    /// The name iptables uses.
    pub fn name(self) -> &'static str {
        match self {
            TableName::Raw => "raw",
            TableName::Mangle => "mangle",
            TableName::Nat => "nat",
            TableName::Filter => "filter",
        }
    }

    /// Parse `-t NAME`.
    pub fn parse(s: &str) -> Option<TableName> {
        TableName::ALL.into_iter().find(|t| t.name() == s)
    }

    /// The built-in chains of the table, in the order iptables lists them.
    pub fn builtin_chains(self) -> &'static [Hook] {
        match self {
            TableName::Raw => &[Hook::Prerouting, Hook::Output],
            TableName::Mangle => &[
                Hook::Prerouting,
                Hook::Input,
                Hook::Forward,
                Hook::Output,
                Hook::Postrouting,
            ],
            TableName::Nat => &[
                Hook::Prerouting,
                Hook::Input,
                Hook::Output,
                Hook::Postrouting,
            ],
            TableName::Filter => &[Hook::Input, Hook::Forward, Hook::Output],
        }
    }
}

/// The netfilter hooks (`NF_INET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Hook {
    /// `NF_INET_PRE_ROUTING`.
    Prerouting,
    /// `NF_INET_LOCAL_IN`.
    Input,
    /// `NF_INET_FORWARD`.
    Forward,
    /// `NF_INET_LOCAL_OUT`.
    Output,
    /// `NF_INET_POST_ROUTING`.
    Postrouting,
}

impl Hook {
    /// The built-in chain name.
    pub fn chain(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }

    /// Parse a built-in chain name.
    pub fn from_chain(s: &str) -> Option<Hook> {
        [
            Hook::Prerouting,
            Hook::Input,
            Hook::Forward,
            Hook::Output,
            Hook::Postrouting,
        ]
        .into_iter()
        .find(|h| h.chain() == s)
    }
}

/// A verdict a policy (or ACCEPT/DROP target) gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Policy {
    /// Let it through.
    Accept,
    /// Drop it silently.
    Drop,
}

impl Policy {
    /// `ACCEPT` / `DROP`.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Accept => "ACCEPT",
            Policy::Drop => "DROP",
        }
    }
}

/// A port or an inclusive range (`80`, `30000:32767`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct PortRange {
    /// First port.
    pub lo: u16,
    /// Last port (equal to `lo` for a single port).
    pub hi: u16,
}

impl PortRange {
    /// Whether `p` is in the range.
    pub fn contains(&self, p: u16) -> bool {
        self.lo <= p && p <= self.hi
    }
}

/// Connection-tracking states for `-m conntrack --ctstate` / `-m state --state`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct CtStates {
    /// NEW.
    pub new: bool,
    /// ESTABLISHED.
    pub established: bool,
    /// RELATED.
    pub related: bool,
    /// INVALID.
    pub invalid: bool,
    /// UNTRACKED.
    pub untracked: bool,
    /// DNAT (ctstate only: the connection's destination was translated).
    pub dnat: bool,
    /// SNAT (ctstate only).
    pub snat: bool,
}

/// Address types for `-m addrtype`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AddrType {
    /// One of the namespace's own addresses.
    Local,
    /// A unicast address that is not ours.
    Unicast,
    /// A broadcast address.
    Broadcast,
    /// A multicast address.
    Multicast,
}

/// One match of a rule. `neg` is `!`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "match", rename_all = "snake_case")]
pub enum Match {
    /// `[!] -s NET`.
    Source {
        /// The network.
        net: Ipv4Net,
        /// Negated.
        neg: bool,
    },
    /// `[!] -d NET`.
    Destination {
        /// The network.
        net: Ipv4Net,
        /// Negated.
        neg: bool,
    },
    /// `[!] -p PROTO` (protocol number; `all` is never stored).
    Protocol {
        /// IP protocol number (1 icmp, 6 tcp, 17 udp, ...).
        proto: u8,
        /// Negated.
        neg: bool,
    },
    /// `[!] -i NAME` (`+` at the end is a wildcard).
    InInterface {
        /// Interface name or prefix with `+`.
        name: String,
        /// Negated.
        neg: bool,
    },
    /// `[!] -o NAME`.
    OutInterface {
        /// Interface name or prefix with `+`.
        name: String,
        /// Negated.
        neg: bool,
    },
    /// `-m tcp|udp` with `--sport`/`--dport` (implicit after `-p tcp|udp`).
    Ports {
        /// 6 or 17.
        proto: u8,
        /// `[!] --sport`.
        sport: Option<(PortRange, bool)>,
        /// `[!] --dport`.
        dport: Option<(PortRange, bool)>,
    },
    /// `-m multiport [!] --dports|--sports|--ports LIST`.
    Multiport {
        /// Which ports: "dports", "sports" or "ports".
        which: String,
        /// The ports and ranges.
        ports: Vec<PortRange>,
        /// Negated.
        neg: bool,
    },
    /// `-m icmp [!] --icmp-type TYPE[/CODE]` (`any` is type 255).
    Icmp {
        /// ICMP type (255 = any).
        icmp_type: u8,
        /// Code, if given.
        code: Option<u8>,
        /// Negated.
        neg: bool,
    },
    /// `-m comment --comment TEXT`.
    Comment {
        /// The text.
        text: String,
    },
    /// `-m nfacct --nfacct-name NAME`: counts into an nfacct object. kube-proxy's objects
    /// have no quota, and `nfacct_mt` matches whenever the object is not over quota, so
    /// the match always holds (hopsim does not model the objects or their counters).
    Nfacct {
        /// The accounting object.
        name: String,
    },
    /// `-m statistic --mode random --probability P`: stored as the kernel stores it, a
    /// 31-bit fraction (`0x80000000 * P`), printed back as `P'` with 11 decimals.
    StatisticRandom {
        /// The kernel's threshold, `(P * 2^31) as u32`.
        threshold: u32,
        /// Negated.
        neg: bool,
    },
    /// `-m statistic --mode nth --every N [--packet P]`.
    StatisticNth {
        /// Every Nth packet.
        every: u32,
        /// Starting offset.
        packet: u32,
        /// Negated.
        neg: bool,
    },
    /// `-m mark [!] --mark VALUE[/MASK]`.
    Mark {
        /// Value.
        value: u32,
        /// Mask (0xffffffff when not given).
        mask: u32,
        /// Negated.
        neg: bool,
    },
    /// `-m conntrack [!] --ctstate LIST` or `-m state [!] --state LIST`.
    CtState {
        /// The states.
        states: CtStates,
        /// Negated.
        neg: bool,
        /// Written with `-m state` (kept for `iptables-save`).
        legacy_state: bool,
    },
    /// `-m addrtype [!] --src-type T` / `[!] --dst-type T`.
    AddrType {
        /// `--src-type`.
        src: Option<(AddrType, bool)>,
        /// `--dst-type`.
        dst: Option<(AddrType, bool)>,
        /// `--limit-iface-in`.
        limit_iface_in: bool,
        /// `--limit-iface-out`.
        limit_iface_out: bool,
    },
    /// `-m set [!] --match-set NAME src|dst[,src|dst...]`: the packet's address (the
    /// first direction; the set types modelled have one dimension) is in the set.
    Set {
        /// The set's name.
        name: String,
        /// The directions as given, `true` for `src` (at most 6).
        dirs: Vec<bool>,
        /// Negated.
        neg: bool,
    },
    /// `-m physdev [!] --physdev-in NAME [!] --physdev-out NAME [!] --physdev-is-bridged`.
    Physdev {
        /// `--physdev-in`.
        physdev_in: Option<(String, bool)>,
        /// `--physdev-out`.
        physdev_out: Option<(String, bool)>,
        /// `--physdev-is-bridged`.
        is_bridged: Option<bool>,
    },
}

/// What `--reject-with` sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectWith {
    /// `icmp-net-unreachable` (code 0).
    IcmpNetUnreachable,
    /// `icmp-host-unreachable` (code 1).
    IcmpHostUnreachable,
    /// `icmp-port-unreachable` (code 3, the default).
    IcmpPortUnreachable,
    /// `icmp-proto-unreachable` (code 2).
    IcmpProtoUnreachable,
    /// `icmp-net-prohibited` (code 9).
    IcmpNetProhibited,
    /// `icmp-host-prohibited` (code 10).
    IcmpHostProhibited,
    /// `icmp-admin-prohibited` (code 13).
    IcmpAdminProhibited,
    /// `tcp-reset` (only with `-p tcp`).
    TcpReset,
}

impl RejectWith {
    /// The name iptables prints.
    pub fn name(self) -> &'static str {
        match self {
            RejectWith::IcmpNetUnreachable => "icmp-net-unreachable",
            RejectWith::IcmpHostUnreachable => "icmp-host-unreachable",
            RejectWith::IcmpPortUnreachable => "icmp-port-unreachable",
            RejectWith::IcmpProtoUnreachable => "icmp-proto-unreachable",
            RejectWith::IcmpNetProhibited => "icmp-net-prohibited",
            RejectWith::IcmpHostProhibited => "icmp-host-prohibited",
            RejectWith::IcmpAdminProhibited => "icmp-admin-prohibited",
            RejectWith::TcpReset => "tcp-reset",
        }
    }

    /// The ICMP destination-unreachable code, or `None` for a TCP reset.
    pub fn icmp_code(self) -> Option<u8> {
        match self {
            RejectWith::IcmpNetUnreachable => Some(0),
            RejectWith::IcmpHostUnreachable => Some(1),
            RejectWith::IcmpProtoUnreachable => Some(2),
            RejectWith::IcmpPortUnreachable => Some(3),
            RejectWith::IcmpNetProhibited => Some(9),
            RejectWith::IcmpHostProhibited => Some(10),
            RejectWith::IcmpAdminProhibited => Some(13),
            RejectWith::TcpReset => None,
        }
    }
}

/// A NAT address and port range (`--to-destination 11.11.11.2:80`, `--to-source A-B:P-Q`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct NatRange {
    /// First address.
    pub addr_lo: Ipv4Addr,
    /// Last address.
    pub addr_hi: Ipv4Addr,
    /// Ports, if given.
    pub ports: Option<PortRange>,
}

/// A rule's target (`-j` or `-g`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "target", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Target {
    /// No `-j`: the rule only counts.
    None,
    /// ACCEPT.
    Accept,
    /// DROP.
    Drop,
    /// RETURN.
    Return,
    /// REJECT.
    Reject {
        /// `--reject-with`.
        with: RejectWith,
    },
    /// `-j CHAIN`.
    Jump {
        /// The user chain.
        chain: String,
    },
    /// `-g CHAIN`.
    Goto {
        /// The user chain.
        chain: String,
    },
    /// DNAT.
    Dnat {
        /// `--to-destination`.
        to: NatRange,
    },
    /// SNAT.
    Snat {
        /// `--to-source`.
        to: NatRange,
    },
    /// MASQUERADE.
    Masquerade {
        /// `--to-ports`.
        to_ports: Option<PortRange>,
        /// `--random-fully`.
        random_fully: bool,
        /// `--random`.
        random: bool,
    },
    /// MARK `--set-xmark VALUE/MASK` (`--set-mark V` is `--set-xmark V/0xffffffff`).
    Mark {
        /// Value.
        value: u32,
        /// Mask.
        mask: u32,
    },
    /// LOG.
    Log {
        /// `--log-prefix`.
        prefix: Option<String>,
        /// `--log-level`.
        level: Option<String>,
    },
    /// TRACE (raw table only).
    Trace,
    /// NOTRACK / `-j CT --notrack` (raw table only).
    Notrack,
}

/// One rule with its counters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// Matches, all of which must hold, in the order given.
    pub matches: Vec<Match>,
    /// What happens when they do.
    pub target: Target,
    /// Packets that matched.
    pub packets: u64,
    /// Bytes of those packets (IP total length).
    pub bytes: u64,
}

/// A chain: built-in (with a policy and its counters) or user-defined.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chain {
    /// Name.
    pub name: String,
    /// Policy of a built-in chain; `None` for user chains.
    pub policy: Option<Policy>,
    /// Rules in order.
    pub rules: Vec<Rule>,
    /// Packets that fell off the end (the policy's counter).
    pub packets: u64,
    /// Bytes of those.
    pub bytes: u64,
}

/// One table's chains, built-ins first in iptables' order, then user chains in creation
/// order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    /// Which table.
    pub name: TableName,
    /// Chains by name.
    pub chains: IndexMap<String, Chain>,
    /// The destination index of its long chains, built on first use (see [`index`]);
    /// emptied by [`Netfilter::table_mut`] and by copying.
    #[serde(skip)]
    pub(crate) index: index::IndexCache,
}

impl Table {
    /// A table with its built-in chains, policy ACCEPT, no rules.
    pub fn new(name: TableName) -> Table {
        let mut chains = IndexMap::new();
        for h in name.builtin_chains() {
            chains.insert(
                h.chain().to_string(),
                Chain {
                    name: h.chain().to_string(),
                    policy: Some(Policy::Accept),
                    rules: Vec::new(),
                    packets: 0,
                    bytes: 0,
                },
            );
        }
        Table {
            name,
            chains,
            index: index::IndexCache::default(),
        }
    }

    /// Whether anything was configured (rules, user chains, a non-ACCEPT policy).
    pub fn is_configured(&self) -> bool {
        self.chains
            .values()
            .any(|c| !c.rules.is_empty() || c.policy != Some(Policy::Accept))
    }
}

/// All tables of one namespace, and its IP sets (which the tables' `-m set` matches
/// reference). Each table is reference-counted and copied on write, so that namespaces
/// with identical rule sets (the nodes of a cluster, where kube-proxy writes the same nat
/// table on every node) share one copy until a rule changes. The packet and byte counters
/// that evaluation adds are kept beside the shared tables ([`counters::Counts`]) and
/// folded into them when a table is changed or listed ([`Netfilter::counted`]): counting
/// a packet never copies a table.
#[derive(Clone, Debug)]
pub struct Netfilter {
    /// raw, mangle, nat, filter.
    pub tables: [Arc<Table>; 4],
    /// The namespace's IP sets (`ipset`).
    pub ipsets: ipset::IpSets,
    /// Counter increments not yet in `tables`, per table.
    counts: [counters::Counts; 4],
}

impl Default for Netfilter {
    fn default() -> Self {
        // Every namespace starts with the same empty tables, shared and copied when first
        // changed (`table_mut`): a cluster has tens of thousands of namespaces, most of
        // which never get a rule.
        static EMPTY: std::sync::OnceLock<[Arc<Table>; 4]> = std::sync::OnceLock::new();
        let empty = EMPTY.get_or_init(|| TableName::ALL.map(|t| Arc::new(Table::new(t))));
        Netfilter {
            tables: empty.clone(),
            ipsets: ipset::IpSets::default(),
            counts: Default::default(),
        }
    }
}

impl PartialEq for Netfilter {
    fn eq(&self, other: &Self) -> bool {
        self.ipsets == other.ipsets
            && TableName::ALL
                .iter()
                .all(|&t| *self.counted(t) == *other.counted(t))
    }
}

impl Serialize for Netfilter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let tables: Vec<std::borrow::Cow<'_, Table>> =
            TableName::ALL.iter().map(|&t| self.counted(t)).collect();
        let mut st = s.serialize_struct("Netfilter", 2)?;
        st.serialize_field("tables", &tables)?;
        st.serialize_field("ipsets", &self.ipsets)?;
        st.end()
    }
}

impl Netfilter {
    /// A table's chains and rules. Its counters lack what was counted since the table
    /// last changed: read counters from [`Netfilter::counted`].
    pub fn table(&self, t: TableName) -> &Table {
        &self.tables[t as usize]
    }

    /// A table with its counters up to date (a copy when packets were counted since the
    /// table last changed).
    pub fn counted(&self, t: TableName) -> std::borrow::Cow<'_, Table> {
        self.counts[t as usize].apply_to(&self.tables[t as usize])
    }

    /// A table, mutable, its counters up to date (copied first if another namespace
    /// shares it).
    pub fn table_mut(&mut self, t: TableName) -> &mut Table {
        let i = t as usize;
        let table = Arc::make_mut(&mut self.tables[i]);
        self.counts[i].fold_into(table);
        table.index = index::IndexCache::default();
        table
    }

    /// Move the counted packets into the table itself (before copying it to change it).
    pub fn fold_counters(&mut self, t: TableName) {
        if !self.counts[t as usize].is_empty() {
            self.table_mut(t);
        }
    }

    /// Count a table run's packet: every rule it matched and the policy it met
    /// (`len` bytes each), as `ipt_do_table` does.
    pub fn count(&mut self, t: TableName, visits: &eval::Visits, len: u64) {
        let counts = &mut self.counts[t as usize];
        for (chain, slot) in visits.counted() {
            counts.add(chain, slot, len);
        }
    }

    /// Install a table that other namespaces may share (see [`Netfilter::shared_table`]).
    pub fn set_shared_table(&mut self, table: Arc<Table>) {
        let i = table.name as usize;
        self.tables[i] = table;
        self.counts[i] = counters::Counts::default();
    }

    /// The table as a shared handle, for installing in another namespace (its rules and
    /// the counters folded into it so far).
    pub fn shared_table(&self, t: TableName) -> Arc<Table> {
        Arc::clone(&self.tables[t as usize])
    }

    /// Whether any table has a rule or a non-default policy (a namespace where nobody ran
    /// iptables has no netfilter work to do).
    pub fn is_configured(&self) -> bool {
        self.tables.iter().any(|t| t.is_configured())
    }

    /// Whether connection tracking is in use: the kernel loads it when a rule needs it
    /// (any NAT rule, or a conntrack/state match).
    pub fn needs_conntrack(&self) -> bool {
        self.tables.iter().any(|t| {
            t.chains.values().flat_map(|c| c.rules.iter()).any(|r| {
                t.name == TableName::Nat
                    || r.matches.iter().any(|m| matches!(m, Match::CtState { .. }))
            })
        })
    }
}
