#!/bin/bash
# source: 001_9b5d2ab96a70997f.txt (## Network Namespaces > ### 인터넷에서 네트워크 네을스페이스로의 연결, lines 516-529)
# also 004_6c75805a685e7017.txt (+ Connectivity, lines 177-182: blue serves port 80; port forwarding with iptables)
# vnet-internet's end state (blue routes via 192.168.15.5, MASQUERADE on the host) with the LAN's
# second host, host2 (192.168.1.3), on the host's eth0, and a web server on blue's port 80.
# The document's iptables line is kept as written, followed by each fix, so loading the script
# shows iptables' own error for each form; the last line is the rule that works.
# Expectations are checked on the state this script ends in (the correct DNAT rule in place).

ip netns add red
ip netns add blue
ip link add v-net-0 type bridge
ip link set dev v-net-0 up
ip link add veth-red type veth peer name veth-red-br
ip link add veth-blue type veth peer name veth-blue-br
ip link set veth-red netns red
ip link set veth-red-br master v-net-0
ip link set veth-blue netns blue
ip link set veth-blue-br master v-net-0
ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n blue addr add 192.168.15.2/24 dev veth-blue
ip -n red link set veth-red up
ip -n blue link set veth-blue up
ip link set veth-red-br up
ip link set veth-blue-br up
ip addr add 192.168.15.5/24 dev v-net-0

ip netns add host2
ip link add eth0 type veth peer name eth0 netns host2
ip addr add 192.168.1.2/24 dev eth0
ip link set eth0 up
ip -n host2 addr add 192.168.1.3/24 dev eth0
ip -n host2 link set eth0 up
sysctl -w net.ipv4.ip_forward=1

ip netns exec blue ip route add 192.168.1.0/24 via 192.168.15.5
ip netns exec blue ip route add default via 192.168.15.5
iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE

# blue hosts a web application on port 80 (004)
ip netns exec blue nc -lk -p 80 &

# Document: ping 192.168.15.2 (from outside) -> "Connect: Network is unreachable"
# expect: {ping: host2 -> 192.168.15.2, exit: 2, prints: ["ping: connect: Network is unreachable"]}
# Before any rule: nothing listens on the host's port 80
# expect: {connect: host2 -> 192.168.1.2:80, with: ["host: iptables -t nat -D PREROUTING -p tcp --dport 80 -j DNAT --to-destination 192.168.15.2:80"], exit: 1, prints: ["nc: connect to 192.168.1.2 port 80 (tcp) failed: Connection refused"]}

# Document's line, as written. iptables stops at the first option it does not know:
#   iptables v1.8.9 (nf_tables): unknown option "-a"   (-A appends; there is no -a)   [exit 2]
iptables -t nat -a PREROUTING --dport 80 --to-destination 192.168.15.2:80 -j DNAT
# With -A: --dport belongs to the tcp/udp match, which only -p tcp loads:
#   iptables v1.8.9 (nf_tables): unknown option "--dport"   [exit 2]
iptables -t nat -A PREROUTING --dport 80 --to-destination 192.168.15.2:80 -j DNAT
# With -p tcp: --to-destination belongs to the DNAT target and must come after -j DNAT:
#   iptables v1.8.9 (nf_tables): unknown option "--to-destination"   [exit 2]
iptables -t nat -A PREROUTING -p tcp --dport 80 --to-destination 192.168.15.2:80 -j DNAT
# The rule that works:
iptables -t nat -A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 192.168.15.2:80
iptables -t nat -S

# expect: {connect: host2 -> 192.168.1.2:80, exit: 0, prints: ["Connection to 192.168.1.2 80 port [tcp/http] succeeded!"], seen-from: 192.168.1.3}
# expect: {connect: host -> 192.168.1.2:80, exit: 1, prints: ["nc: connect to 192.168.1.2 port 80 (tcp) failed: Connection refused"], because: "the host's own connections skip PREROUTING"}
# expect: {connect: host -> 192.168.15.2:80, exit: 0, prints: ["Connection to 192.168.15.2 80 port [tcp/http] succeeded!"], seen-from: 192.168.15.5}
# 004's first option, a route on the second host, works without NAT:
# expect: {connect: host2 -> 192.168.15.2:80, with: ["host2: ip route add 192.168.15.0/24 via 192.168.1.2"], exit: 0, prints: ["Connection to 192.168.15.2 80 port [tcp/http] succeeded!"], seen-from: 192.168.1.3}
