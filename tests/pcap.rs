//! The capture files hopsim writes (`hopsim trace FILE --from NS DEST --format pcap|pcapng
//! -o X`), read back by tshark: the encapsulated frames must dissect the way the documents'
//! captures do. tshark is required (CI installs it): without it these tests fail and say
//! so, unless HOPSIM_SKIP_TSHARK=1 asks to skip them.

use hopsim_core::engine::ping::{ping, PingOptions};
use hopsim_core::format::{load_file, LoadOptions};
use hopsim_core::render::pcap;
use std::path::{Path, PathBuf};
use std::process::Command;

use hopsim_tests::tshark_present;

/// The trace of `ping -c 1 DEST` from `from` in a scenario, as the CLI's `--format pcap`
/// (`ng` false) or `--format pcapng` writes it, in a file of its own.
fn capture(scenario: &str, from: &str, dest: &str, ng: bool) -> PathBuf {
    let t = load_file(
        &hopsim_tests::root().join("scenarios").join(scenario),
        LoadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ns = t.world.resolve_ns(from).expect("namespace");
    let run = ping(
        t.world.clone(),
        ns,
        dest.parse().expect("address"),
        &PingOptions::default(),
    );
    assert_eq!(run.exit, 0, "{:?}", run.lines);
    let bytes = if ng {
        pcap::pcapng(&run.trace)
    } else {
        pcap::pcap(&run.trace)
    };
    let name = format!(
        "hopsim-{}-{}.{}",
        std::process::id(),
        scenario.replace('.', "_"),
        if ng { "pcapng" } else { "pcap" }
    );
    let path = std::env::temp_dir().join(name);
    std::fs::write(&path, bytes).expect("write the capture");
    path
}

/// `tshark -r FILE ARGS...`: its standard output (its stderr warns about running as
/// root).
fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Wireshark 4.2 and later print a boolean field as True/False, 4.0 as 1/0.
fn booleans_as_digits(s: &str) -> String {
    s.replace("True", "1").replace("False", "0")
}

/// Document 002's Wireshark view of Calico's IPIP mode (scenarios/calico-ipip-capture.yaml):
/// the encapsulated echo request is a 118-byte frame, outer IPv4 192.168.100.101 ->
/// 192.168.100.102 with total length 104, DF, TTL 63 and protocol 4 around inner IPv4
/// 172.16.228.84 -> 172.16.46.12 with total length 84, DF, TTL 63, an ICMP echo request
/// whose data is 48 bytes after the timestamp, between the document's two VirtualBox NICs.
#[test]
fn calico_ipip_capture_dissects_like_the_document() {
    if !tshark_present("calico_ipip_capture_dissects_like_the_document") {
        return;
    }
    let file = capture("calico-ipip-capture.yaml", "pod1", "172.16.46.12", false);
    let filter = ["-Y", "ip.proto==4 && icmp.type==8", "-T", "fields"];
    let fields = tshark(
        &file,
        &[
            &filter[..],
            &[
                "-e",
                "frame.len",
                "-e",
                "ip.src",
                "-e",
                "ip.dst",
                "-e",
                "ip.len",
                "-e",
                "ip.flags.df",
                "-e",
                "ip.ttl",
                "-e",
                "ip.proto",
                "-e",
                "data.len",
            ],
        ]
        .concat(),
    );
    assert_eq!(
        booleans_as_digits(&fields),
        "118\t192.168.100.101,172.16.228.84\t192.168.100.102,172.16.46.12\t104,84\t1,1\t63,63\t4,1\t48\n"
    );
    let ethernet = tshark(
        &file,
        &[&filter[..], &["-e", "eth.src", "-e", "eth.dst"]].concat(),
    );
    assert_eq!(ethernet, "08:00:27:bd:f9:34\t08:00:27:eb:6a:c2\n");
    let _ = std::fs::remove_file(&file);
}

/// flannel's vxlan backend (scenarios/flannel-vxlan.yaml): on the controlplane's eth1 the
/// echo request is UDP to 8472 carrying VXLAN VNI 1 around the inner Ethernet frame, from
/// the controlplane's flannel.1 to node01's (2e:7f:77:3d:f2:fd, document 004): 98 + 50 =
/// 148 bytes, outer TTL 64 without DF, inner TTL 63 with DF (KERNEL_FACTS §11). tshark
/// needs `-d udp.port==8472,vxlan` to see VXLAN on the kernel's default port.
#[test]
fn flannel_vxlan_capture_has_vni_1_on_udp_8472() {
    if !tshark_present("flannel_vxlan_capture_has_vni_1_on_udp_8472") {
        return;
    }
    let file = capture("flannel-vxlan.yaml", "pod1", "10.244.1.2", true);
    let fields = tshark(
        &file,
        &[
            "-d",
            "udp.port==8472,vxlan",
            "-Y",
            "vxlan && icmp.type==8 && frame.interface_name==\"controlplane/eth1\"",
            "-T",
            "fields",
            "-e",
            "frame.len",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "udp.dstport",
            "-e",
            "vxlan.vni",
            "-e",
            "eth.src",
            "-e",
            "eth.dst",
            "-e",
            "ip.ttl",
            "-e",
            "ip.flags.df",
            "-e",
            "frame.protocols",
        ],
    );
    assert_eq!(
        booleans_as_digits(&fields),
        "148\t172.25.0.10,10.244.0.2\t172.25.0.20,10.244.1.2\t8472\t1\t\
         02:42:ac:19:00:0a,6a:5e:21:0b:9c:3e\t02:42:ac:19:00:14,2e:7f:77:3d:f2:fd\t64,63\t0,1\t\
         eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data\n"
    );
    // Without the port mapping tshark sees only UDP (KERNEL_FACTS §11).
    let plain = tshark(
        &file,
        &[
            "-Y",
            "udp.dstport==8472 && frame.interface_name==\"controlplane/eth1\"",
            "-T",
            "fields",
            "-e",
            "frame.protocols",
        ],
    );
    assert!(
        !plain.is_empty() && plain.lines().all(|l| l == "eth:ethertype:ip:udp:data"),
        "{plain}"
    );
    let _ = std::fs::remove_file(&file);
}
