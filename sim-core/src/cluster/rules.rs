//! Rules as programs write them: per table, the chains a program declares, the rules it
//! puts at the top of built-in chains (inserted) or at their end (appended), and the rules
//! of its own chains, in restore-input syntax. Several programs' rules (kube-proxy, the
//! CNI) merge into one `iptables-restore` text per table, in the order a node ends up
//! with, which the engine then loads with [`crate::netfilter::save::parse_restore`].

use crate::netfilter::TableName;

/// One program's rules in one table.
#[derive(Clone, Debug, Default)]
pub struct TableRules {
    /// User chains it declares (`:NAME - [0:0]`).
    pub chains: Vec<String>,
    /// Rules at the top of built-in chains, in final order: `(chain, args)`.
    pub top: Vec<(String, String)>,
    /// Rules appended to built-in chains, after everyone's top rules.
    pub bottom: Vec<(String, String)>,
    /// Rules of its own chains, complete `-A CHAIN ...` lines, in order.
    pub lines: Vec<String>,
    /// The names in `chains`, for [`TableRules::chain`]'s once-only check (kube-proxy
    /// declares tens of thousands of chains in a large cluster).
    declared: std::collections::HashSet<String>,
}

impl TableRules {
    /// Whether the program writes nothing in this table.
    pub fn is_empty(&self) -> bool {
        self.chains.is_empty()
            && self.top.is_empty()
            && self.bottom.is_empty()
            && self.lines.is_empty()
    }

    /// Declare a user chain (once).
    pub fn chain(&mut self, name: &str) {
        if self.declared.len() != self.chains.len() {
            self.declared = self.chains.iter().cloned().collect();
        }
        if self.declared.insert(name.to_string()) {
            self.chains.push(name.to_string());
        }
    }

    /// A rule at the top of a built-in chain (after earlier `top` rules).
    pub fn top(&mut self, chain: &str, args: &str) {
        self.top.push((chain.to_string(), args.to_string()));
    }

    /// A rule appended to a built-in chain.
    pub fn bottom(&mut self, chain: &str, args: &str) {
        self.bottom.push((chain.to_string(), args.to_string()));
    }

    /// A rule of a user chain.
    pub fn rule(&mut self, chain: &str, args: &str) {
        self.lines.push(format!("-A {chain} {args}"));
    }

    /// A complete `-A CHAIN ...` line.
    pub fn raw(&mut self, line: String) {
        self.lines.push(line);
    }
}

/// The restore text of one table from several programs' rules: `parts` in the order the
/// programs' top rules stack (the last installer's inserted rules first).
pub fn restore_text(t: TableName, parts: &[&TableRules]) -> String {
    let mut out = String::with_capacity(
        parts
            .iter()
            .map(|p| p.lines.iter().map(|l| l.len() + 1).sum::<usize>())
            .sum::<usize>()
            + 256,
    );
    out.push('*');
    out.push_str(t.name());
    out.push('\n');
    for h in t.builtin_chains() {
        out.push_str(&format!(":{} ACCEPT [0:0]\n", h.chain()));
    }
    let mut chains: Vec<&str> = parts
        .iter()
        .flat_map(|p| p.chains.iter().map(String::as_str))
        .collect();
    chains.sort_unstable();
    chains.dedup();
    for c in chains {
        out.push(':');
        out.push_str(c);
        out.push_str(" - [0:0]\n");
    }
    for h in t.builtin_chains() {
        for p in parts {
            for (c, a) in p.top.iter().filter(|(c, _)| c == h.chain()) {
                out.push_str(&format!("-A {c} {a}\n"));
            }
        }
        for p in parts {
            for (c, a) in p.bottom.iter().filter(|(c, _)| c == h.chain()) {
                out.push_str(&format!("-A {c} {a}\n"));
            }
        }
    }
    for p in parts {
        for l in &p.lines {
            out.push_str(l);
            out.push('\n');
        }
    }
    out.push_str("COMMIT\n");
    out
}
