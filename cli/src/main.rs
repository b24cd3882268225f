//! `hopsim`: a thin shell over hopsim-core. Parse the command line, load the topology,
//! call the library, render, exit with the right code (0 ok, 1 check failed or no reply,
//! 2 usage or input error, as ping does).

mod curl;

use clap::{Parser, Subcommand, ValueEnum};
use hopsim_core::check::{apply_with, check_topology};
use hopsim_core::engine::connect::{connect, connect_with, ConnectOptions};
use hopsim_core::engine::ping::{ping, ping_with, PingOptions, PmtuDisc};
use hopsim_core::format::{export, load_file, script, LoadError, LoadOptions, Topology};
use hopsim_core::model::L4Proto;
use hopsim_core::model::World;
use hopsim_core::netfilter::eval::{enumerate_branches, Chance};
use hopsim_core::render::{ip as show, json, text};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod pipe;
mod reach;
mod resolve;
mod teach;

#[derive(Parser)]
#[command(
    name = "hopsim",
    version,
    about = "Trace a packet through Linux namespaces, veth pairs, bridges and routes, hop by hop, without root",
    long_about = "hopsim simulates the Linux packet path: network namespaces, veth pairs, bridges, \
routing tables, ARP caches and sysctls. Give it a topology (a YAML file or a script of `ip` \
commands) and it tells you what Linux would do to a packet, and why.\n\n\
Examples:\n  hopsim ping scenarios/netns-veth.yaml --from red 192.168.15.2\n  \
hopsim trace scenarios/routing.yaml --from B 192.168.2.10\n  \
hopsim show scenarios/netns-veth.yaml red neigh --after-ping red 192.168.15.2\n  \
hopsim check scenarios/"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// The topology: a .yaml file (a topology or a cluster file) or a .sh script of ip commands.
    file: PathBuf,
    /// Any failing command in a script is fatal.
    #[arg(long)]
    strict: bool,
    /// Run a command first (repeatable): "NS: COMMAND", e.g. "B: ip route add default via 192.168.1.1".
    #[arg(long = "with", value_name = "NS: COMMAND")]
    with: Vec<String>,
}

#[derive(clap::Args, Clone)]
struct PingArgs {
    /// Send COUNT echo requests.
    #[arg(short = 'c', default_value_t = 1)]
    count: u16,
    /// TTL of the echo requests.
    #[arg(short = 't')]
    ttl: Option<u8>,
    /// Seconds to wait for a response after the last request.
    #[arg(short = 'W', default_value_t = 10)]
    wait: u32,
    /// Seconds between requests.
    #[arg(short = 'i', default_value_t = 1.0)]
    interval: f64,
    /// Data bytes per request (56: 84-byte IP packets).
    #[arg(short = 's', default_value_t = 56)]
    size: u16,
    /// Path MTU discovery: do (DF, refuse what exceeds the path MTU), want, dont.
    #[arg(short = 'M', default_value = "want", value_parser = parse_pmtudisc)]
    pmtudisc: PmtuDisc,
}

fn parse_pmtudisc(s: &str) -> Result<PmtuDisc, String> {
    PmtuDisc::parse(s)
}

impl PingArgs {
    fn options(&self) -> PingOptions {
        PingOptions {
            count: self.count.max(1),
            ttl: self.ttl,
            wait_s: self.wait,
            interval_ms: (self.interval * 1000.0) as u32,
            size: self.size,
            pmtudisc: self.pmtudisc,
            ..PingOptions::default()
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum TraceFormat {
    Text,
    Json,
    /// Classic pcap: every Ethernet frame as transmitted (needs -o).
    Pcap,
    /// pcapng: one interface per simulated device, both directions (needs -o).
    Pcapng,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Proto {
    Tcp,
    Udp,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum View {
    Addr,
    Link,
    Route,
    Neigh,
    Fdb,
    Arp,
    Brctl,
    Sysctl,
    Conntrack,
    Sockets,
    Iptables,
    IptablesSave,
}

#[derive(Subcommand)]
enum Cmd {
    /// Ping like iputils: prints what ping prints (without timings), exits as ping exits.
    #[command(
        after_help = "Examples:\n  hopsim ping scenarios/netns-veth.yaml --from red 192.168.15.2\n  hopsim ping scenarios/scenario-2.yaml --from A -c 3 192.168.2.5"
    )]
    Ping {
        #[command(flatten)]
        common: Common,
        /// Source namespace (`host` for a script's root namespace, NODE or NODE/NS; in a cluster NODE, NODE/POD or NAMESPACE/POD), or an address it owns.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        ping: PingArgs,
        /// Destination address.
        dest: String,
    },
    /// Look a name up as a program does: /etc/hosts, the search list and ndots, every DNS
    /// datagram hop by hop, then the tool's output.
    #[command(
        after_help = "Examples:\n  hopsim resolve scenarios/search-domains.yaml --from A web\n  hopsim resolve scenarios/coredns.yaml --from dns-query google.com --tool dig"
    )]
    Resolve {
        #[command(flatten)]
        common: Common,
        /// Namespace the program runs in.
        #[arg(long)]
        from: String,
        /// The name.
        name: String,
        /// Record type for dig/nslookup: A, AAAA, CNAME, PTR.
        #[arg(long = "type")]
        qtype: Option<String>,
        /// The program: ping (getaddrinfo: /etc/hosts, then DNS), getent (getent hosts),
        /// nslookup or dig (DNS only).
        #[arg(long, default_value = "ping")]
        tool: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The hop-by-hop story of one ping: every decision, every frame.
    #[command(
        after_help = "Examples:\n  hopsim trace scenarios/routing.yaml --from B 192.168.2.10\n  hopsim trace scenarios/netns-veth.sh --from red 192.168.15.2 --format json"
    )]
    Trace {
        #[command(flatten)]
        common: Common,
        /// Source namespace or an address it owns.
        #[arg(long)]
        from: String,
        /// Destination address.
        dest: String,
        #[command(flatten)]
        ping: PingArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
        format: TraceFormat,
        /// Show every frame's bytes in hex.
        #[arg(long)]
        bytes: bool,
        /// Write the trace to FILE (the pcap and pcapng formats need it).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Trace a TCP or UDP connection (like `nc -zv`) instead of a ping.
        #[arg(long, value_enum)]
        proto: Option<Proto>,
        /// Destination port (with --proto).
        #[arg(long)]
        dport: Option<u16>,
        /// Source port (with --proto; an ephemeral port otherwise).
        #[arg(long)]
        sport: Option<u16>,
        /// Seed for `-m statistic --mode random` draws.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// List every possible outcome of the rules' random draws, with its probability.
        #[arg(long)]
        all_branches: bool,
    },
    /// Connect to a port like `nc -zv`: prints what netcat prints, exits as it exits.
    #[command(
        after_help = "Examples:\n  hopsim connect scenarios/vnet-dnat.yaml --from ext 192.168.1.2:80\n  hopsim connect scenarios/docker-publish.yaml --from outside 192.168.1.10:8080"
    )]
    Connect {
        #[command(flatten)]
        common: Common,
        /// Source namespace or an address it owns.
        #[arg(long)]
        from: String,
        /// ADDRESS:PORT.
        dest: String,
        /// UDP instead of TCP.
        #[arg(short = 'u', long)]
        udp: bool,
        /// Seconds to wait (`nc -w`).
        #[arg(short = 'w', default_value_t = 1)]
        wait: u32,
        /// Print the trace too.
        #[arg(long)]
        trace: bool,
        /// Seed for `-m statistic --mode random` draws.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// An HTTP GET like curl's (through Services and ingress-nginx, as packets).
    #[command(
        after_help = "Example:\n  hopsim curl scenarios/ingress.yaml --from client -H 'Host: app.example.com' http://192.168.10.101:30080/whoami --trace"
    )]
    Curl(curl::CurlArgs),
    /// Show a namespace's state like ip addr / ip link / ip route / ip neigh / bridge fdb.
    #[command(
        after_help = "Examples:\n  hopsim show scenarios/vnet-bridge.yaml host route\n  hopsim show scenarios/netns-veth.yaml red neigh --after-ping red 192.168.15.2"
    )]
    Show {
        #[command(flatten)]
        common: Common,
        /// The namespace.
        ns: String,
        /// What to show.
        #[arg(value_enum)]
        view: View,
        /// Show the state a ping left behind: FROM DEST.
        #[arg(long, num_args = 2, value_names = ["FROM", "DEST"])]
        after_ping: Option<Vec<String>>,
        /// Show the state a connection left behind (conntrack, counters): FROM DEST:PORT.
        #[arg(long, num_args = 2, value_names = ["FROM", "DEST:PORT"])]
        after_connect: Option<Vec<String>>,
        /// For `route`: the table (main, local, all).
        #[arg(long, default_value = "main")]
        table: String,
        /// For `iptables`/`iptables-save`: the table (`-t`), e.g. nat.
        #[arg(short = 't', long = "iptables-table")]
        table_arg: Option<String>,
    },
    /// Run every `expect:` of the topologies given (files or folders).
    #[command(
        after_help = "Examples:\n  hopsim check scenarios/\n  hopsim check scenarios/routing.yaml"
    )]
    Check {
        /// Files or folders.
        paths: Vec<PathBuf>,
        /// Any failing command in a script is fatal.
        #[arg(long)]
        strict: bool,
        /// Print every expectation, not only failures.
        #[arg(short, long)]
        verbose: bool,
    },
    /// The topology as a diagram (Graphviz DOT, Mermaid, SVG), with a traced path
    /// highlighted; or the trace as a Mermaid sequence diagram.
    #[command(
        after_help = "Examples:\n  hopsim graph scenarios/vnet-bridge.yaml | dot -Tsvg > vnet.svg\n  hopsim graph scenarios/vnet-external.yaml --from blue 192.168.1.3 --with 'blue: ip route add default via 192.168.15.5' --format mermaid\n  hopsim graph scenarios/routing.yaml --from B 192.168.2.10 --format sequence\n  hopsim graph scenarios/calico-ipip.yaml --from client 172.16.184.5 --format svg -o ipip.svg"
    )]
    Graph {
        #[command(flatten)]
        args: teach::GraphArgs,
    },
    /// A narrated, step-by-step walkthrough of one ping (or connection) for teaching.
    #[command(
        after_help = "Examples:\n  hopsim walk scenarios/vnet-external.yaml --from blue 192.168.1.3\n  hopsim walk scenarios/routing.yaml --from B 192.168.2.10 --step"
    )]
    Walk {
        #[command(flatten)]
        probe: teach::ProbeArgs,
        /// Wait for Enter between steps.
        #[arg(long)]
        step: bool,
    },
    /// One self-contained HTML page (no network needed) to step through a trace: the
    /// topology with the path, the steps, the headers, the bytes, the iptables rules.
    #[command(
        after_help = "Example:\n  hopsim report scenarios/vnet-dnat.yaml --from host2 192.168.1.2 --proto tcp --dport 80 -o trace.html"
    )]
    Report {
        #[command(flatten)]
        probe: teach::ProbeArgs,
        /// The HTML file to write.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
    },
    /// Generate documentation: `walkthroughs` writes one page per scenario (and an index)
    /// under docs/walkthroughs/.
    #[command(
        after_help = "Examples:\n  hopsim docs walkthroughs --out docs/walkthroughs\n  hopsim docs walkthroughs --out docs/walkthroughs --check"
    )]
    Docs {
        /// What to generate: walkthroughs.
        #[arg(value_parser = ["walkthroughs"])]
        what: String,
        /// The scenarios folder.
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        /// The output folder.
        #[arg(long, default_value = "docs/walkthroughs")]
        out: PathBuf,
        /// Only compare: exit 1 when the pages on disk are stale.
        #[arg(long)]
        check: bool,
    },
    /// Run one command in a namespace of a topology, as `ip netns exec NS COMMAND` would.
    #[command(
        after_help = "Examples:\n  hopsim exec scenarios/routing.yaml B -- ip route get 192.168.2.10\n  hopsim exec scenarios/vnet-bridge.yaml host -- bridge link"
    )]
    Exec {
        #[command(flatten)]
        common: Common,
        /// The namespace.
        ns: String,
        /// The command and its arguments (ip, bridge, brctl, sysctl, ping, arp, cat /proc/sys/...).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Run a script like a shell would, printing what each command prints.
    #[command(after_help = "Example:\n  hopsim run scenarios/netns-doc-typos.sh")]
    Run {
        /// The script.
        script: PathBuf,
        /// Stop at the first failing command.
        #[arg(long)]
        strict: bool,
    },
    /// Run scripts in real network namespaces and in hopsim, and compare (needs root).
    #[command(
        after_help = "Examples:\n  sudo hopsim kernel-check scenarios/*.sh\n  sudo hopsim kernel-check --generated 300 --seed 7"
    )]
    KernelCheck {
        /// Scripts whose `# expect:` pings are the probes.
        scripts: Vec<PathBuf>,
        /// Also run N generated random topologies.
        #[arg(long, default_value_t = 0)]
        generated: usize,
        /// Seed of the generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print every case, not only disagreements.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Compile a Kubernetes cluster file into a plain topology (YAML on stdout): every
    /// node's devices, routes, sysctls and `iptables-save`, every pod's namespace.
    #[command(
        after_help = "Examples:\n  hopsim compile scenarios/nodeport.yaml > nodeport-topology.yaml\n  hopsim show scenarios/clusterip.yaml k8s-m iptables-save"
    )]
    Compile {
        /// The cluster file (YAML with a top-level `cluster:` key; see docs/cluster.md).
        file: PathBuf,
    },
    /// The reachability matrix: every source namespace pings (or connects to a port of)
    /// every address, each pair traced on its own copy of the world, in parallel.
    #[command(
        after_help = "Examples:\n  hopsim reach scenarios/routing.yaml\n  hopsim reach scenarios/nodeport.yaml --tcp 80 --failing --format csv\n  hopsim reach scenarios/vnet-bridge.yaml --from red --to blue 8.8.8.8"
    )]
    Reach(reach::ReachArgs),
    /// Print the YAML topology equivalent to a script.
    #[command(after_help = "Example:\n  hopsim import scenarios/netns-veth.sh > netns-veth.yaml")]
    Import {
        /// The script.
        script: PathBuf,
    },
}

fn main() -> ExitCode {
    pipe::exit_quietly_on_broken_pipe();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            eprintln!("hopsim: {msg}");
            ExitCode::from(2)
        }
    }
}

fn load(common: &Common) -> Result<Topology, String> {
    let t = load_file(
        &common.file,
        LoadOptions {
            strict: common.strict,
        },
    )
    .map_err(|e: LoadError| e.to_string())?;
    if let Some(s) = &t.script {
        for f in s.failures() {
            eprintln!("{f}");
        }
    }
    Ok(t)
}

fn world_with(common: &Common) -> Result<World, String> {
    let t = load(common)?;
    let mut w = t.world;
    apply_with(&mut w, &common.with)?;
    Ok(w)
}

fn parse_dest(d: &str) -> Result<Ipv4Addr, String> {
    hopsim_core::format::shell::parse_inet(d)
        .filter(|_| d.contains('.'))
        .ok_or_else(|| {
            format!("{d}: not an IPv4 address (this command takes an address; `hopsim ping` and `hopsim resolve` take names)")
        })
}

fn run(cli: Cli) -> Result<u8, String> {
    match cli.cmd {
        Cmd::Reach(a) => reach::run(a),
        Cmd::Ping {
            common,
            from,
            ping: p,
            dest,
        } => {
            let w = world_with(&common)?;
            let Ok(dst) = parse_dest(&dest) else {
                return resolve::ping(w, &from, &dest, &p.options());
            };
            let ns = w.resolve_ns(&from)?;
            let r = ping(w, ns, dst, &p.options());
            for l in &r.lines {
                if r.exit == 2 {
                    eprintln!("{l}");
                } else {
                    println!("{l}");
                }
            }
            Ok(r.exit as u8)
        }
        Cmd::Resolve {
            common,
            from,
            name,
            qtype,
            tool,
            json,
        } => resolve::run(
            world_with(&common)?,
            &from,
            &name,
            qtype.as_deref(),
            &tool,
            json,
        ),
        Cmd::Trace {
            common,
            from,
            dest,
            ping: p,
            format,
            bytes,
            output,
            proto,
            dport,
            sport,
            seed,
            all_branches,
        } => {
            let w = world_with(&common)?;
            let ns = w.resolve_ns(&from)?;
            let dst = parse_dest(&dest)?;
            let topts = text::TextOptions { bytes };
            if let Some(proto) = proto {
                let port = dport.ok_or("--proto needs --dport")?;
                let opts = ConnectOptions {
                    proto: match proto {
                        Proto::Tcp => L4Proto::Tcp,
                        Proto::Udp => L4Proto::Udp,
                    },
                    wait_s: p.wait.min(10),
                    sport,
                    seed,
                };
                if all_branches {
                    return branches(
                        |c| connect_with(w.clone(), ns, dst, port, &opts, c),
                        |r| {
                            (
                                r.lines.clone(),
                                r.reached.map(|(a, p)| format!("{a}:{p}")),
                                r.exit,
                            )
                        },
                    );
                }
                let r = connect(w, ns, dst, port, &opts);
                if let Some(capture) = capture_bytes(format, &r.trace) {
                    write_capture(output.as_deref(), &capture)?;
                    return Ok(r.exit as u8);
                }
                match format {
                    TraceFormat::Pcap | TraceFormat::Pcapng => {}
                    TraceFormat::Json => println!(
                        "{}",
                        serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
                    ),
                    TraceFormat::Text => {
                        print!("{}", text::render_trace(&r.trace, topts));
                        println!();
                        println!("iptables rules evaluated: {}", r.rules_evaluated);
                        for l in &r.lines {
                            println!("{l}");
                        }
                    }
                }
                return Ok(r.exit as u8);
            }
            let mut o = p.options();
            o.seed = seed;
            if all_branches {
                return branches(
                    |c| ping_with(w.clone(), ns, dst, &o, c),
                    |r| (r.lines.clone(), r.seen_from.map(|a| a.to_string()), r.exit),
                );
            }
            let r = ping(w, ns, dst, &o);
            if let Some(capture) = capture_bytes(format, &r.trace) {
                write_capture(output.as_deref(), &capture)?;
                for l in &r.lines {
                    eprintln!("{l}");
                }
                return Ok(r.exit as u8);
            }
            match format {
                TraceFormat::Pcap | TraceFormat::Pcapng => {}
                TraceFormat::Json => print!("{}", json::trace_json(&from, dst, &r)),
                TraceFormat::Text => {
                    print!("{}", text::render_trace(&r.trace, topts));
                    println!();
                    if r.rules_evaluated > 0 {
                        println!("iptables rules evaluated: {}", r.rules_evaluated);
                    }
                    for l in &r.lines {
                        println!("{l}");
                    }
                }
            }
            Ok(r.exit as u8)
        }
        Cmd::Connect {
            common,
            from,
            dest,
            udp,
            wait,
            trace,
            seed,
        } => {
            let w = world_with(&common)?;
            let ns = w.resolve_ns(&from)?;
            let (addr, port) = dest
                .rsplit_once(':')
                .ok_or_else(|| format!("{dest}: give ADDRESS:PORT"))?;
            let dst = parse_dest(addr)?;
            let port: u16 = port.parse().map_err(|_| format!("{port}: not a port"))?;
            let opts = ConnectOptions {
                proto: if udp { L4Proto::Udp } else { L4Proto::Tcp },
                wait_s: wait,
                sport: None,
                seed,
            };
            let r = connect(w, ns, dst, port, &opts);
            if trace {
                print!(
                    "{}",
                    text::render_trace(&r.trace, text::TextOptions::default())
                );
                println!();
            }
            for l in &r.lines {
                eprintln!("{l}");
            }
            Ok(r.exit as u8)
        }
        Cmd::Curl(args) => curl::run(args),
        Cmd::Show {
            common,
            ns,
            view,
            after_ping,
            after_connect,
            table,
            table_arg,
        } => {
            let mut w = world_with(&common)?;
            if let Some(ap) = after_ping {
                let from = w.resolve_ns(&ap[0])?;
                let dst = parse_dest(&ap[1])?;
                w = ping(w, from, dst, &PingOptions::default()).world;
            }
            if let Some(ac) = after_connect {
                let from = w.resolve_ns(&ac[0])?;
                let (addr, port) = ac[1]
                    .rsplit_once(':')
                    .ok_or("--after-connect takes FROM ADDRESS:PORT")?;
                let dst = parse_dest(addr)?;
                let port: u16 = port.parse().map_err(|_| format!("{port}: not a port"))?;
                w = connect(w, from, dst, port, &ConnectOptions::default()).world;
            }
            let nsid = w.resolve_ns(&ns)?;
            let out = match view {
                View::Addr => show::ip_addr(&w, nsid, None)?,
                View::Link => show::ip_link(&w, nsid, None)?,
                View::Route => show::ip_route(
                    &w,
                    nsid,
                    match table.as_str() {
                        "main" => show::TableSel::Main,
                        "local" => show::TableSel::Local,
                        "all" => show::TableSel::All,
                        t => return Err(format!("--table {t}: hopsim models main, local and all")),
                    },
                ),
                View::Neigh => show::ip_neigh(&w, nsid),
                View::Fdb => show::bridge_fdb(&w, nsid),
                View::Arp => show::arp_n(&w, nsid),
                View::Brctl => {
                    let host = w.netns[nsid].host;
                    hopsim_core::format::shell::Shell {
                        world: &mut w,
                        host,
                    }
                    .run_command(nsid, "brctl show")
                    .stdout
                }
                View::Conntrack => {
                    let t = w.netns[nsid].conntrack.render(0);
                    t.rsplit_once("conntrack v")
                        .map(|(b, _)| b.to_string())
                        .unwrap_or(t)
                }
                View::Sockets => show::sockets(&w, nsid),
                View::Iptables | View::IptablesSave => {
                    let host = w.netns[nsid].host;
                    let cmd = if view == View::Iptables {
                        "iptables -L -n -v".to_string()
                    } else {
                        "iptables-save".to_string()
                    };
                    let cmd = match (&table_arg, view) {
                        (Some(t), View::Iptables) => format!("iptables -t {t} -L -n -v"),
                        (Some(t), _) => format!("iptables-save -t {t}"),
                        _ => cmd,
                    };
                    let r = hopsim_core::format::shell::Shell {
                        world: &mut w,
                        host,
                    }
                    .run_command(nsid, &cmd);
                    if r.status != 0 {
                        return Err(r.stderr.trim_end().to_string());
                    }
                    r.stdout
                }
                View::Sysctl => {
                    let mut s = String::new();
                    for k in [
                        "net.ipv4.ip_forward",
                        "net.ipv4.conf.all.proxy_arp",
                        "net.bridge.bridge-nf-call-iptables",
                    ] {
                        if let Ok(v) = w.sysctl_get(nsid, k) {
                            s.push_str(&v);
                            s.push('\n');
                        }
                    }
                    s
                }
            };
            print!("{out}");
            Ok(0)
        }
        Cmd::Check {
            paths,
            strict,
            verbose,
        } => check(&paths, strict, verbose),
        Cmd::Graph { args } => teach::graph_cmd(&args),
        Cmd::Walk { probe, step } => teach::walk_cmd(&probe, step),
        Cmd::Report { probe, output } => teach::report_cmd(&probe, &output),
        Cmd::Docs {
            what: _,
            scenarios,
            out,
            check,
        } => teach::docs_cmd(&scenarios, &out, check),
        Cmd::Exec {
            common,
            ns,
            command,
        } => {
            let mut w = world_with(&common)?;
            let nsid = w.resolve_ns(&ns)?;
            let host = w.netns[nsid].host;
            let line: Vec<String> = command
                .iter()
                .map(|a| hopsim_core::format::shell::quote(a))
                .collect();
            let r = hopsim_core::format::shell::Shell {
                world: &mut w,
                host,
            }
            .run_line(nsid, &line.join(" "));
            print!("{}", r.stdout);
            eprint!("{}", r.stderr);
            Ok(r.status.clamp(0, 255) as u8)
        }
        Cmd::Run {
            script: path,
            strict,
        } => {
            let text = hopsim_core::format::read_input(&path).map_err(|e| e.to_string())?;
            let file = path.display().to_string();
            let run = script::run_script(&file, &text, LoadOptions { strict })
                .map_err(|e| e.to_string())?;
            let mut status = 0;
            for s in &run.steps {
                print!("{}", s.result.stdout);
                for l in s.result.stderr.lines() {
                    if s.result.status != 0 && !l.is_empty() {
                        eprintln!("{file}:{}: {l}", s.line);
                    } else {
                        eprintln!("{l}");
                    }
                }
                status = s.result.status;
            }
            Ok(status.clamp(0, 255) as u8)
        }
        Cmd::KernelCheck {
            scripts,
            generated,
            seed,
            verbose,
        } => kernel_check(&scripts, generated, seed, verbose),
        Cmd::Compile { file } => {
            let text = hopsim_core::format::read_input(&file).map_err(|e| e.to_string())?;
            if !hopsim_core::cluster::is_cluster_text(&text) {
                return Err(format!(
                    "{}: not a cluster file (no top-level `cluster:` key; see docs/cluster.md)",
                    file.display()
                ));
            }
            let out =
                hopsim_core::cluster::compile_to_yaml(&file, &text).map_err(|e| e.to_string())?;
            print!("{out}");
            Ok(0)
        }
        Cmd::Import { script: path } => {
            let t = load(&Common {
                file: path.clone(),
                strict: false,
                with: vec![],
            })?;
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("imported");
            print!(
                "{}",
                export::to_yaml(&t.world, name, t.source.as_deref(), &t.expects)
            );
            Ok(0)
        }
    }
}

fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for e in entries {
                if e.is_dir() {
                    out.extend(collect(&[e])?);
                } else if matches!(
                    e.extension().and_then(|x| x.to_str()),
                    Some("yaml" | "yml" | "sh")
                ) {
                    out.push(e);
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn check(paths: &[PathBuf], strict: bool, verbose: bool) -> Result<u8, String> {
    if paths.is_empty() {
        return Err("check: give files or folders".into());
    }
    let files = collect(paths)?;
    let (mut passed, mut failed, mut broken) = (0, 0, 0);
    for f in &files {
        let t = match load_file(Path::new(f), LoadOptions { strict }) {
            Ok(t) => t,
            Err(e) => {
                println!("ERROR {e}");
                broken += 1;
                continue;
            }
        };
        for r in check_topology(&t) {
            if r.passed() {
                passed += 1;
                if verbose {
                    println!("ok    {}:{}: {}", f.display(), r.line, r.title);
                }
            } else {
                failed += 1;
                println!("FAIL  {}:{}: {}", f.display(), r.line, r.title);
                for p in &r.problems {
                    println!("        {p}");
                }
                println!("      the program printed:");
                for l in &r.output {
                    println!("        | {l}");
                }
            }
        }
    }
    println!(
        "{passed} passed, {failed} failed{}",
        if broken > 0 {
            format!(", {broken} files did not load")
        } else {
            String::new()
        }
    );
    Ok(if failed > 0 || broken > 0 { 1 } else { 0 })
}

fn kernel_check(
    scripts: &[PathBuf],
    generated: usize,
    seed: u64,
    verbose: bool,
) -> Result<u8, String> {
    use hopsim_kernel_check::compare::{cases_from_script, compare, run_sim, Tally};
    use hopsim_kernel_check::{generate_many, preflight, run_real, RealOpts};
    if let Err(e) = preflight() {
        eprintln!("SKIPPED: the kernel check cannot run here: {e}");
        return Ok(2);
    }
    let mut cases: Vec<(String, Vec<String>, String, Vec<hopsim_kernel_check::Probe>)> = Vec::new();
    for f in scripts {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        for c in cases_from_script(&f.display().to_string(), &text)? {
            cases.push((c.label, vec!["scenario".into()], c.script, c.probes));
        }
    }
    for c in generate_many(seed, generated) {
        let groups = c.label.split(',').map(str::to_string).collect();
        cases.push((format!("seed {:#x}", c.seed), groups, c.script, c.probes));
    }
    let mut tally = Tally::default();
    let mut disagreements = 0;
    for (label, groups, script, probes) in &cases {
        let real = match run_real(script, probes, &RealOpts::default()) {
            Ok(r) => r,
            Err(e) => {
                println!("ERROR {label}: {e}");
                disagreements += 1;
                continue;
            }
        };
        let sim = run_sim(script, probes)?;
        let cmp = compare(
            &format!("{label} [{}]", groups.join(",")),
            script,
            probes,
            &real,
            &sim,
        );
        let g: Vec<&str> = groups.iter().map(String::as_str).collect();
        tally.add(&cmp, &g);
        if !cmp.agrees() {
            disagreements += 1;
            print!("DISAGREE {}", cmp.explain(script));
        } else if verbose {
            println!("agree    {label} [{}]", groups.join(","));
            for p in cmp.probes.iter().filter(|p| !p.same_text()) {
                println!("  text differs for {}:", p.probe);
                for l in p.real_text.lines() {
                    println!("    kernel | {l}");
                }
                for l in p.sim_text.lines() {
                    println!("    hopsim | {l}");
                }
            }
        }
    }
    print!("{}", tally.report());
    Ok(if disagreements > 0 { 1 } else { 0 })
}

/// `--all-branches`: every outcome the random draws allow, with its probability.
fn branches<T>(
    run: impl FnMut(Box<dyn Chance>) -> T,
    key: impl Fn(&T) -> (Vec<String>, Option<String>, i32),
) -> Result<u8, String> {
    let all = enumerate_branches(1000, run);
    // Group identical outcomes.
    type Key = (Vec<String>, Option<String>, i32);
    let mut groups: Vec<(Key, f64, usize)> = Vec::new();
    for b in &all {
        let k = key(&b.run);
        match groups.iter_mut().find(|g| g.0 == k) {
            Some(g) => {
                g.1 += b.probability;
                g.2 += 1;
            }
            None => groups.push((k, b.probability, 1)),
        }
    }
    println!(
        "{} branch(es), {} distinct outcome(s):",
        all.len(),
        groups.len()
    );
    for ((lines, seen, exit), p, n) in &groups {
        println!();
        println!(
            "probability {:.6} ({} branch{}){}:",
            p,
            n,
            if *n == 1 { "" } else { "es" },
            seen.as_ref()
                .map(|s| format!(", reached {s}"))
                .unwrap_or_default()
        );
        for l in lines {
            println!("  {l}");
        }
        println!("  exit {exit}");
    }
    Ok(0)
}

/// The capture file for the pcap formats, `None` for text and JSON.
fn capture_bytes(format: TraceFormat, trace: &hopsim_core::trace::Trace) -> Option<Vec<u8>> {
    match format {
        TraceFormat::Pcap => Some(hopsim_core::render::pcap::pcap(trace)),
        TraceFormat::Pcapng => Some(hopsim_core::render::pcap::pcapng(trace)),
        TraceFormat::Text | TraceFormat::Json => None,
    }
}

/// Write a capture to `-o FILE`; refuse to dump binary on a terminal.
fn write_capture(output: Option<&std::path::Path>, bytes: &[u8]) -> Result<(), String> {
    use std::io::{IsTerminal, Write};
    match output {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, bytes).map_err(|e| format!("{}: {e}", p.display()))
        }
        _ => {
            let mut out = std::io::stdout();
            if out.is_terminal() {
                return Err(
                    "a capture file is binary: give -o FILE (or redirect the output)".into(),
                );
            }
            pipe::written(out.write_all(bytes))
        }
    }
}
