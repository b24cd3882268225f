#!/bin/bash
# source: 001_9b5d2ab96a70997f.txt (## Network Namespaces > ### 외부 LAN 연결에 Linux Bridge 연결 활성화 - 192.168.1.0, lines 463-495)
# also 004_6c75805a685e7017.txt (+ Bridge Network / + Local Host / + NAT, lines 133-175: host 192.168.1.2, second host 192.168.1.3)
# First the vnet-bridge setup (red and blue on v-net-0, 192.168.15.5/24 on the bridge), then the
# host's LAN: the document's host has eth0 192.168.1.2 and another host 192.168.1.3 on that LAN.
# Here the LAN is a veth pair: eth0 in the host, eth0 in a namespace host2 (the second host).
# The host forwards (ip_forward=1): the document assumes it, 004 lists it among the checks.
# Expectations are checked on the state this script ends in (route + MASQUERADE); the earlier
# steps are reached with `with:` lines that undo them.

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

# The LAN 192.168.1.0/24: the host's eth0 (192.168.1.2) and the second host (192.168.1.3)
ip netns add host2
ip link add eth0 type veth peer name eth0 netns host2
ip addr add 192.168.1.2/24 dev eth0
ip link set eth0 up
ip -n host2 addr add 192.168.1.3/24 dev eth0
ip -n host2 link set eth0 up
sysctl -w net.ipv4.ip_forward=1

# Document: ip netns exec blue route   (net-tools; `ip route` shows the same table)
ip netns exec blue ip route
# Document: ip netns exec blue ping 192.168.1.3 -> "Connect: Network is unreachable"
# expect: {ping: blue -> 192.168.1.3, with: ["host: iptables -t nat -D POSTROUTING -s 192.168.15.0/24 -j MASQUERADE", "blue: ip route del 192.168.1.0/24 via 192.168.15.5"], exit: 2, prints: ["ping: connect: Network is unreachable"], because: "blue has no route to 192.168.1.0/24 yet"}

# Document's line as written: "router" is not an ip object, so it fails and adds nothing:
#   Object "router" is unknown, try "ip help".
ip netns exec blue ip router add 192.168.1.0/24 via 192.168.15.5
# ... what it means:
ip netns exec blue ip route add 192.168.1.0/24 via 192.168.15.5
# Document: ping again -> no reply: host2 has no route back to 192.168.15.0/24
# expect: {ping: blue -> 192.168.1.3, with: ["host: iptables -t nat -D POSTROUTING -s 192.168.15.0/24 -j MASQUERADE"], options: "-c 1 -W 1", exit: 1, seen-from: 192.168.15.2, because: "host2 sees 192.168.15.2 and cannot answer it"}

iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE
# Document: ping again -> 64 bytes from 192.168.1.3: icmp_seq=1 ttl=63
# expect: {ping: blue -> 192.168.1.3, exit: 0, ttl: 63, prints: ["64 bytes from 192.168.1.3: icmp_seq=1 ttl=63"], seen-from: 192.168.1.2}
# expect: {ping: host -> 192.168.1.3, exit: 0, ttl: 64}
# 004's other option: a route on the second host instead of NAT
# expect: {ping: blue -> 192.168.1.3, with: ["host: iptables -t nat -D POSTROUTING -s 192.168.15.0/24 -j MASQUERADE", "host2: ip route add 192.168.15.0/24 via 192.168.1.2"], exit: 0, ttl: 63, seen-from: 192.168.15.2}
# expect: {ping: blue -> 192.168.1.3, with: ["host: sysctl -w net.ipv4.ip_forward=0"], options: "-c 1 -W 1", exit: 1, drop: IP_INADDRERRORS}
