//! Tunnel devices: ipip (`ip link add NAME type ipip`, and the `tunl0` fallback device the
//! ipip module creates in every namespace) and VXLAN (`ip link add NAME type vxlan`, with
//! its own FDB programmed by `bridge fdb ... dev VXLAN dst IP`), with the checks and
//! messages of the kernel and iproute2 (measured on Linux 6.18: docs/kernel-notes.md).

use super::ops::{OpError, OpResult};
use super::{IfId, IfKind, IpTunnel, NsId, Vxlan, VxlanFdb, World};
use crate::wire::Mac;
use std::net::Ipv4Addr;

/// Bytes an ipip tunnel adds (the outer IPv4 header).
pub const IPIP_OVERHEAD: u32 = 20;
/// Bytes VXLAN adds: outer Ethernet 14, IPv4 20, UDP 8, VXLAN 8.
pub const VXLAN_OVERHEAD: u32 = 50;
/// The kernel's default VXLAN port (`IANA_VXLAN_UDP_PORT` is 4789; Linux predates it).
pub const VXLAN_DEFAULT_PORT: u16 = 8472;

/// `ip link add NAME type vxlan ...` arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VxlanSpec {
    /// `id`.
    pub vni: u32,
    /// `dstport` (None: the kernel default 8472).
    pub dstport: Option<u16>,
    /// `local`.
    pub local: Option<Ipv4Addr>,
    /// `remote`: becomes the all-zeros FDB entry.
    pub remote: Option<Ipv4Addr>,
    /// `dev`.
    pub link: Option<IfId>,
    /// `nolearning` clears it.
    pub learning: bool,
    /// `ttl` (0 = auto).
    pub ttl: u8,
}

impl VxlanSpec {
    /// A spec with the kernel's defaults for VNI `vni`.
    pub fn new(vni: u32) -> VxlanSpec {
        VxlanSpec {
            vni,
            dstport: None,
            local: None,
            remote: None,
            link: None,
            learning: true,
            ttl: 0,
        }
    }
}

impl World {
    /// Load the ipip module on the machine of `ns` (what `ip link add ... type ipip` does
    /// on first use): every namespace of the machine gets the fallback device `tunl0`
    /// (down, NOARP, mtu 1480, remote and local any, ttl inherit, no pmtudisc).
    pub fn load_ipip(&mut self, ns: NsId) {
        let host = self.netns[ns].host;
        if self.hosts[host].ipip_loaded {
            return;
        }
        self.hosts[host].ipip_loaded = true;
        let all: Vec<NsId> = self
            .live_netns()
            .filter(|(_, n)| n.host == host)
            .map(|(id, _)| id)
            .collect();
        for id in all {
            self.add_tunl0(id);
        }
    }

    pub(crate) fn add_tunl0(&mut self, ns: NsId) {
        if self.find_iface(ns, "tunl0").is_some() {
            return;
        }
        let t = IpTunnel {
            fallback: true,
            ..IpTunnel::default()
        };
        self.new_iface(ns, "tunl0", IfKind::Ipip(t), Some(Mac::ZERO));
    }

    /// `ip link add NAME type ipip [local A] [remote B] [ttl N] [dev D]`. The module
    /// loads first, so `ip link add tunl0 type ipip` finds the fallback device already
    /// there (`File exists`), as does a tunnel with the same endpoints as another.
    pub fn add_ipip(&mut self, ns: NsId, name: &str, mut t: IpTunnel) -> OpResult<IfId> {
        self.load_ipip(ns);
        self.check_new_name(ns, name)?;
        let clash = self.ns_devs(ns).any(
            |i| matches!(&i.kind, IfKind::Ipip(o) if o.local == t.local && o.remote == t.remote),
        );
        if clash {
            return Err(OpError::rtnl("RTNETLINK answers: File exists"));
        }
        t.fallback = false;
        let under = t.link.and_then(|l| self.iface(l)).map(|l| l.mtu);
        let id = self.new_iface(ns, name, IfKind::Ipip(t), Some(Mac::ZERO));
        if let (Some(m), Some(i)) = (under, self.iface_mut(id)) {
            i.mtu = m.saturating_sub(IPIP_OVERHEAD).max(68);
        }
        Ok(id)
    }

    /// `ip link add NAME type vxlan id VNI ...`.
    pub fn add_vxlan(&mut self, ns: NsId, name: &str, spec: VxlanSpec) -> OpResult<IfId> {
        self.check_new_name(ns, name)?;
        let dstport = spec.dstport.unwrap_or(VXLAN_DEFAULT_PORT);
        let clash = self.ns_devs(ns).any(
            |i| matches!(&i.kind, IfKind::Vxlan(v) if v.vni == spec.vni && v.dstport == dstport),
        );
        if clash {
            return Err(OpError {
                msg: "Error: A VXLAN device with the specified VNI already exists.".into(),
                status: 2,
            });
        }
        let mut fdb = Vec::new();
        if let Some(r) = spec.remote {
            fdb.push(VxlanFdb {
                mac: Mac::ZERO,
                dst: r,
                permanent: true,
                via: spec.link,
            });
        }
        let under = spec.link.and_then(|l| self.iface(l)).map(|l| l.mtu);
        let v = Vxlan {
            vni: spec.vni,
            dstport,
            local: spec.local,
            remote: spec.remote,
            link: spec.link,
            learning: spec.learning,
            ttl: spec.ttl,
            fdb,
        };
        let id = self.new_iface(ns, name, IfKind::Vxlan(v), None);
        if let (Some(m), Some(i)) = (under, self.iface_mut(id)) {
            i.mtu = m.saturating_sub(VXLAN_OVERHEAD).max(68);
        }
        Ok(id)
    }

    /// The largest MTU a device accepts: a VXLAN or ipip device on a lower device may not
    /// exceed the lower device's MTU less its overhead (`RTNETLINK answers: Invalid
    /// argument`).
    pub fn max_mtu(&self, dev: IfId) -> Option<u32> {
        let i = self.iface(dev)?;
        match &i.kind {
            IfKind::Vxlan(v) => v
                .link
                .and_then(|l| self.iface(l))
                .map(|l| l.mtu.saturating_sub(VXLAN_OVERHEAD)),
            _ => None,
        }
    }

    /// `bridge fdb add|append|replace MAC dev VXLAN dst IP [self] [permanent]`.
    /// `add` refuses an existing MAC (`File exists`); `append` adds another remote (for
    /// the all-zeros default entry, head-end replication); `replace` overwrites.
    pub fn vxlan_fdb_add(&mut self, dev: IfId, mac: Mac, dst: Ipv4Addr, mode: FdbMode) -> OpResult {
        let Some(IfKind::Vxlan(v)) = self.iface_mut(dev).map(|i| &mut i.kind) else {
            return Err(OpError::rtnl("RTNETLINK answers: Operation not supported"));
        };
        let exists = v.fdb.iter().any(|e| e.mac == mac);
        match mode {
            FdbMode::Add if exists => {
                return Err(OpError::rtnl("RTNETLINK answers: File exists"));
            }
            FdbMode::Append if v.fdb.iter().any(|e| e.mac == mac && e.dst == dst) => {
                return Err(OpError::rtnl("RTNETLINK answers: File exists"));
            }
            FdbMode::Replace => v.fdb.retain(|e| e.mac != mac),
            _ => {}
        }
        // Entries are listed newest MAC first, a MAC's remotes in the order added.
        let at = v
            .fdb
            .iter()
            .rposition(|e| e.mac == mac)
            .map_or(0, |p| p + 1);
        v.fdb.insert(
            at,
            VxlanFdb {
                mac,
                dst,
                permanent: true,
                via: None,
            },
        );
        Ok(())
    }

    /// `bridge fdb del MAC dev VXLAN [dst IP]`: one remote, or all of the MAC's. A MAC
    /// with no entry is `No such file or directory`; a known MAC with another `dst` is
    /// left alone without complaint (measured).
    pub fn vxlan_fdb_del(&mut self, dev: IfId, mac: Mac, dst: Option<Ipv4Addr>) -> OpResult {
        let Some(IfKind::Vxlan(v)) = self.iface_mut(dev).map(|i| &mut i.kind) else {
            return Err(OpError::rtnl("RTNETLINK answers: Operation not supported"));
        };
        if !v.fdb.iter().any(|e| e.mac == mac) {
            return Err(OpError::rtnl(
                "RTNETLINK answers: No such file or directory",
            ));
        }
        v.fdb
            .retain(|e| !(e.mac == mac && dst.is_none_or(|d| d == e.dst)));
        Ok(())
    }
}

/// How `bridge fdb` changes an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdbMode {
    /// `add`: a new MAC only.
    Add,
    /// `append`: another remote for the MAC.
    Append,
    /// `replace`: the MAC's remotes become this one.
    Replace,
}
