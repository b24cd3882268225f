//! Turning real iputils `ping` output into hopsim's timing-free form, and extracting what
//! happened ([`Verdict`]).

use std::fmt;

/// Normalizes real iputils `ping` output into the timing-free form hopsim prints:
///
/// - reply lines lose ` time=... ms`
///   (`64 bytes from 192.168.15.2: icmp_seq=1 ttl=64 time=0.045 ms` becomes
///   `64 bytes from 192.168.15.2: icmp_seq=1 ttl=64`; a trailing ` (DUP!)` is kept);
/// - the statistics line loses `, time Nms`;
/// - the `rtt min/avg/max/mdev = ...` line is dropped;
/// - everything else (the `PING` header, `From` lines, `+N errors`, `pipe N`, blank lines,
///   `ping: ...` errors) is kept as is.
///
/// A final newline is kept if the input had one.
pub fn normalize_ping(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in text.split_inclusive('\n') {
        let (line, nl) = match piece.strip_suffix('\n') {
            Some(l) => (l, "\n"),
            None => (piece, ""),
        };
        let (line, cr) = match line.strip_suffix('\r') {
            Some(l) => (l, "\r"),
            None => (line, ""),
        };
        if line.starts_with("rtt min/avg/max/mdev") || line.starts_with("round-trip min/avg/max") {
            continue;
        }
        let line = if is_reply_line(line) {
            strip_reply_time(line)
        } else if is_statistics_line(line) {
            strip_statistics_time(line)
        } else {
            line.to_string()
        };
        out.push_str(&line);
        out.push_str(cr);
        out.push_str(nl);
    }
    out
}

/// `N bytes from ADDR: icmp_seq=...`
fn is_reply_line(line: &str) -> bool {
    let mut w = line.split(' ');
    w.next()
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && w.next() == Some("bytes")
        && w.next() == Some("from")
        && line.contains(" icmp_seq=")
}

/// `N packets transmitted, ...`
fn is_statistics_line(line: &str) -> bool {
    line.contains(" packets transmitted, ") && line.contains(" received")
}

/// Removes ` time=X ms` (or ` time=X s`) from a reply line.
fn strip_reply_time(line: &str) -> String {
    let Some(i) = line.find(" time=") else {
        return line.to_string();
    };
    let rest = &line[i + " time=".len()..];
    // the value, then a unit ("ms", or "s"/"us"/"ns" on other builds)
    let vlen = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let after_val = &rest[vlen..];
    let unit_len = if let Some(u) = after_val.strip_prefix(' ') {
        let ulen = u.find(' ').unwrap_or(u.len());
        if matches!(&u[..ulen], "ms" | "s" | "us" | "ns") {
            1 + ulen
        } else {
            0
        }
    } else {
        0
    };
    let end = i + " time=".len() + vlen + unit_len;
    format!("{}{}", &line[..i], &line[end..])
}

/// Removes `, time Nms` from the statistics line.
fn strip_statistics_time(line: &str) -> String {
    let Some(i) = line.rfind(", time ") else {
        return line.to_string();
    };
    let rest = &line[i + ", time ".len()..];
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    if digits == 0 {
        return line.to_string();
    }
    let after = &rest[digits..];
    let after = after.strip_prefix("ms").unwrap_or(after);
    format!("{}{}", &line[..i], after)
}

/// What a ping run amounted to, as far as the comparison with hopsim is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A reply came back (exit 0); `ttl` is the TTL of the first reply.
    Reply {
        /// TTL of the first reply.
        ttl: u8,
    },
    /// `From X icmp_seq=N Destination Net Unreachable`.
    NetUnreachable {
        /// Who sent the error.
        from: String,
    },
    /// `From X icmp_seq=N Destination Host Unreachable` (an ICMP error, or a local ARP
    /// failure reported with the sender's own address).
    HostUnreachable {
        /// Who sent the error.
        from: String,
    },
    /// `From X icmp_seq=N Time to live exceeded`.
    TtlExceeded {
        /// Who sent the error.
        from: String,
    },
    /// `From X icmp_seq=N Packet filtered`.
    PacketFiltered {
        /// Who sent the error.
        from: String,
    },
    /// ping failed before sending (exit 2): the message after `ping: `, e.g.
    /// `connect: Network is unreachable`.
    ConnectError(String),
    /// Nothing came back (exit 1, no error line).
    NoReply,
    /// netcat connected (`Connection to ... succeeded!`).
    Connected,
    /// netcat failed: the reason after `failed: ` or `timed out: `.
    ConnectFailed(String),
    /// Anything else: the most telling line of the output.
    Other(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Reply { ttl } => write!(f, "reply ttl={ttl}"),
            Verdict::NetUnreachable { from } => write!(f, "net unreachable from {from}"),
            Verdict::HostUnreachable { from } => write!(f, "host unreachable from {from}"),
            Verdict::TtlExceeded { from } => write!(f, "ttl exceeded from {from}"),
            Verdict::PacketFiltered { from } => write!(f, "packet filtered from {from}"),
            Verdict::ConnectError(m) => write!(f, "error: {m}"),
            Verdict::NoReply => write!(f, "no reply"),
            Verdict::Connected => write!(f, "connected"),
            Verdict::ConnectFailed(m) => write!(f, "connect failed: {m}"),
            Verdict::Other(l) => write!(f, "other: {l}"),
        }
    }
}

/// The TTL of a reply line (`... ttl=64 ...`).
fn reply_ttl(line: &str) -> Option<u8> {
    line.split(' ')
        .find_map(|w| w.strip_prefix("ttl="))
        .and_then(|t| t.parse().ok())
}

/// `From X icmp_seq=N MESSAGE` -> (X, MESSAGE). X may be `name (addr)`.
fn from_line(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("From ")?;
    let i = rest.find(" icmp_seq=")?;
    let from = rest[..i].trim().to_string();
    let after = &rest[i + " icmp_seq=".len()..];
    let msg = after
        .split_once(' ')
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_default();
    Some((from, msg))
}

/// Extracts the [`Verdict`] from ping's output (stdout and stderr) and exit status.
///
/// A reply with exit 0 wins; otherwise the first `From` error line decides; otherwise a
/// `ping: ...` message with exit 2 is a [`Verdict::ConnectError`]; otherwise exit 1 with
/// `0 received` is [`Verdict::NoReply`]; anything else is [`Verdict::Other`].
pub fn verdict(text: &str, exit: i32) -> Verdict {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    // netcat: "Connection to A P port [tcp/x] succeeded!" or "nc: connect to ... failed: E".
    for l in &lines {
        if l.starts_with("Connection to ") && l.ends_with("succeeded!") {
            return Verdict::Connected;
        }
        if let Some(rest) = l.strip_prefix("nc: connect to ") {
            let reason = rest
                .split_once(") failed: ")
                .or_else(|| rest.split_once(") timed out: "))
                .map(|(_, r)| r.to_string())
                .unwrap_or_else(|| rest.to_string());
            let reason = if rest.contains(") timed out: ") {
                format!("timed out: {reason}")
            } else {
                reason
            };
            return Verdict::ConnectFailed(reason);
        }
    }
    if exit == 0 {
        if let Some(ttl) = lines
            .iter()
            .filter(|l| is_reply_line(l))
            .find_map(|l| reply_ttl(l))
        {
            return Verdict::Reply { ttl };
        }
    }
    for l in &lines {
        if let Some((from, msg)) = from_line(l) {
            return match msg.as_str() {
                "Destination Net Unreachable" => Verdict::NetUnreachable { from },
                "Destination Host Unreachable" => Verdict::HostUnreachable { from },
                "Time to live exceeded" => Verdict::TtlExceeded { from },
                "Packet filtered" => Verdict::PacketFiltered { from },
                _ => Verdict::Other(l.to_string()),
            };
        }
    }
    if exit == 2 {
        if let Some(m) = lines.iter().find_map(|l| l.strip_prefix("ping: ")) {
            return Verdict::ConnectError(m.trim().to_string());
        }
    }
    let stats = lines.iter().find(|l| is_statistics_line(l));
    if exit == 1 {
        if let Some(s) = stats {
            if s.contains(" 0 received") && !s.contains(" errors") {
                return Verdict::NoReply;
            }
        }
    }
    // the most telling line: an error message, else the statistics, else the first line
    let pick = lines
        .iter()
        .find(|l| l.starts_with("ping: ") || l.contains("Cannot ") || l.contains("rror"))
        .or(stats)
        .or_else(|| lines.iter().find(|l| !l.trim().is_empty()))
        .map(|l| l.to_string())
        .unwrap_or_else(|| format!("(no output, exit {exit})"));
    Verdict::Other(pick)
}

#[cfg(test)]
mod tests {
    use super::*;

    // verbatim from /work/shared/reference/kernel-logs/01.log
    const LOG01_REPLY: &str = "PING 192.168.15.2 (192.168.15.2) 56(84) bytes of data.
64 bytes from 192.168.15.2: icmp_seq=1 ttl=64 time=0.033 ms

--- 192.168.15.2 ping statistics ---
1 packets transmitted, 1 received, 0% packet loss, time 0ms
rtt min/avg/max/mdev = 0.033/0.033/0.033/0.000 ms
";

    // 01.log: own address with lo down
    const LOG01_SILENT: &str = "PING 192.168.15.1 (192.168.15.1) 56(84) bytes of data.

--- 192.168.15.1 ping statistics ---
1 packets transmitted, 0 received, 100% packet loss, time 0ms

";

    // 09.log (4): fresh neighbour table, -c4
    const LOG09_HOST_UNREACH4: &str = "PING 192.168.15.99 (192.168.15.99) 56(84) bytes of data.
From 192.168.15.1 icmp_seq=1 Destination Host Unreachable
From 192.168.15.1 icmp_seq=2 Destination Host Unreachable
From 192.168.15.1 icmp_seq=3 Destination Host Unreachable
From 192.168.15.1 icmp_seq=4 Destination Host Unreachable

--- 192.168.15.99 ping statistics ---
4 packets transmitted, 0 received, +4 errors, 100% packet loss, time 3068ms
pipe 4
";

    // 09.log (5): router without a route
    const LOG09_NET_UNREACH: &str = "PING 172.31.0.1 (172.31.0.1) 56(84) bytes of data.
From 10.1.0.1 icmp_seq=1 Destination Net Unreachable

--- 172.31.0.1 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms

";

    // 09.log: prohibit route on the router
    const LOG09_FILTERED: &str = "PING 172.29.0.1 (172.29.0.1) 56(84) bytes of data.
From 10.1.0.1 icmp_seq=1 Packet filtered

--- 172.29.0.1 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms

";

    // 08.log / KERNEL_FACTS §8: routing loop
    const LOG08_TTL: &str = "PING 10.99.0.1 (10.99.0.1) 56(84) bytes of data.
From 10.1.0.1 icmp_seq=1 Time to live exceeded

--- 10.99.0.1 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms

";

    // 03.log (c): through one router
    const LOG03_TTL63: &str = "PING 10.2.0.2 (10.2.0.2) 56(84) bytes of data.
64 bytes from 10.2.0.2: icmp_seq=1 ttl=63 time=0.051 ms

--- 10.2.0.2 ping statistics ---
1 packets transmitted, 1 received, 0% packet loss, time 0ms
rtt min/avg/max/mdev = 0.051/0.051/0.051/0.000 ms
";

    #[test]
    fn normalize_reply() {
        assert_eq!(
            normalize_ping(LOG01_REPLY),
            "PING 192.168.15.2 (192.168.15.2) 56(84) bytes of data.
64 bytes from 192.168.15.2: icmp_seq=1 ttl=64

--- 192.168.15.2 ping statistics ---
1 packets transmitted, 1 received, 0% packet loss
"
        );
    }

    #[test]
    fn normalize_keeps_errors_pipe_and_blank_lines() {
        assert_eq!(
            normalize_ping(LOG09_HOST_UNREACH4),
            LOG09_HOST_UNREACH4.replace(", time 3068ms", "")
        );
        assert_eq!(
            normalize_ping(LOG01_SILENT),
            LOG01_SILENT.replace(", time 0ms", "")
        );
        assert!(normalize_ping(LOG09_NET_UNREACH)
            .contains("1 packets transmitted, 0 received, +1 errors, 100% packet loss\n\n"));
    }

    #[test]
    fn normalize_edge_cases() {
        assert_eq!(
            normalize_ping("64 bytes from 10.0.0.1: icmp_seq=2 ttl=64 time=1.23 ms (DUP!)"),
            "64 bytes from 10.0.0.1: icmp_seq=2 ttl=64 (DUP!)"
        );
        assert_eq!(
            normalize_ping("1430 bytes from 10.244.0.2: icmp_seq=1 ttl=64 time=0.2 ms\r\n"),
            "1430 bytes from 10.244.0.2: icmp_seq=1 ttl=64\r\n"
        );
        assert_eq!(
            normalize_ping("ping: connect: Network is unreachable\n"),
            "ping: connect: Network is unreachable\n"
        );
        assert_eq!(normalize_ping(""), "");
        // not a reply line: left alone
        assert_eq!(normalize_ping("x time=3 ms"), "x time=3 ms");
    }

    #[test]
    fn verdicts_from_reference_logs() {
        assert_eq!(verdict(LOG01_REPLY, 0), Verdict::Reply { ttl: 64 });
        assert_eq!(verdict(LOG03_TTL63, 0), Verdict::Reply { ttl: 63 });
        assert_eq!(verdict(LOG01_SILENT, 1), Verdict::NoReply);
        assert_eq!(
            verdict(LOG09_HOST_UNREACH4, 1),
            Verdict::HostUnreachable {
                from: "192.168.15.1".into()
            }
        );
        assert_eq!(
            verdict(LOG09_NET_UNREACH, 1),
            Verdict::NetUnreachable {
                from: "10.1.0.1".into()
            }
        );
        assert_eq!(
            verdict(LOG09_FILTERED, 1),
            Verdict::PacketFiltered {
                from: "10.1.0.1".into()
            }
        );
        assert_eq!(
            verdict(LOG08_TTL, 1),
            Verdict::TtlExceeded {
                from: "10.1.0.1".into()
            }
        );
        assert_eq!(
            verdict("ping: connect: Network is unreachable\n", 2),
            Verdict::ConnectError("connect: Network is unreachable".into())
        );
        assert_eq!(
            verdict("ping: connect: No route to host\n", 2),
            Verdict::ConnectError("connect: No route to host".into())
        );
        assert_eq!(
            verdict("ping: connect: Invalid argument\n", 2),
            Verdict::ConnectError("connect: Invalid argument".into())
        );
        assert_eq!(
            verdict(
                "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n",
                2
            ),
            Verdict::ConnectError(
                "Do you want to ping broadcast? Then -b. If not, check your local firewall rules"
                    .into()
            )
        );
    }

    #[test]
    fn verdict_other_cases() {
        let mtu = "PING 10.244.0.2 (10.244.0.2) 1423(1451) bytes of data.
ping: local error: message too long, mtu=1450

--- 10.244.0.2 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms
";
        assert_eq!(
            verdict(mtu, 1),
            Verdict::Other("ping: local error: message too long, mtu=1450".into())
        );
        assert_eq!(
            verdict(
                "Cannot open network namespace \"x\": No such file or directory\n",
                1
            ),
            Verdict::Other("Cannot open network namespace \"x\": No such file or directory".into())
        );
        assert_eq!(
            verdict("", 124),
            Verdict::Other("(no output, exit 124)".into())
        );
        let port = "From 10.0.0.1 icmp_seq=1 Destination Port Unreachable\n";
        assert_eq!(verdict(port, 1), Verdict::Other(port.trim().into()));
        // a reply line but exit 1 (some lost): still the reply decides only on exit 0
        assert_eq!(
            verdict("64 bytes from 1.2.3.4: icmp_seq=1 ttl=x time=1 ms\n", 0),
            Verdict::Other("64 bytes from 1.2.3.4: icmp_seq=1 ttl=x time=1 ms".into())
        );
    }

    /// Every ping in the reference logs: normalizing removes all timings and keeps the
    /// number of lines minus the rtt line; the verdict is never `Other` for exit 0/1/2 runs
    /// of the scenarios that only use plain pings (01, 02, 03, 08, 09).
    #[test]
    fn all_reference_log_pings() {
        // shared/ sits beside the repository (here and in CI).
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/reference/kernel-logs");
        let dir = dir.as_path();
        if !dir.is_dir() {
            eprintln!("SKIPPED: reference logs not found at {}", dir.display());
            return;
        }
        let mut seen = 0;
        for n in ["01", "02", "03", "08", "09"] {
            let Ok(log) = std::fs::read_to_string(dir.join(format!("{n}.log"))) else {
                continue;
            };
            for (cmd, body, exit) in log_pings(&log) {
                seen += 1;
                let norm = normalize_ping(&body);
                assert!(!norm.contains("time="), "{n}: {cmd}: {norm}");
                assert!(!norm.contains("rtt "), "{n}: {cmd}: {norm}");
                assert!(!norm.contains(", time "), "{n}: {cmd}: {norm}");
                let v = verdict(&body, exit);
                assert!(!matches!(v, Verdict::Other(_)), "{n}: {cmd}: {v:?}\n{body}");
                match exit {
                    0 => assert!(matches!(v, Verdict::Reply { .. })),
                    2 => assert!(matches!(v, Verdict::ConnectError(_))),
                    _ => {}
                }
            }
        }
        assert!(seen >= 20, "only {seen} pings found in the reference logs");
    }

    /// (`$ ...ping...` command, its output, its `[exit=N]`) for every ping in a log.
    fn log_pings(log: &str) -> Vec<(String, String, i32)> {
        let mut v = Vec::new();
        let mut cur: Option<(String, String)> = None;
        for line in log.lines() {
            if let Some(cmd) = line.strip_prefix("$ ") {
                cur = cmd
                    .contains(" ping ")
                    .then(|| (cmd.to_string(), String::new()));
            } else if let Some(e) = line.strip_prefix("[exit=") {
                if let Some((cmd, body)) = cur.take() {
                    if let Ok(code) = e.trim_end_matches(']').parse() {
                        v.push((cmd, body, code));
                    }
                }
            } else if let Some((_, body)) = cur.as_mut() {
                body.push_str(line);
                body.push('\n');
            }
        }
        v
    }
}
