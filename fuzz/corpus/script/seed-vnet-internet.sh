#!/bin/bash
# source: 001_9b5d2ab96a70997f.txt (## Network Namespaces > ### 네트워크 네을스페이스에서 인터넷으로의 연결, lines 497-514)
# also 004_6c75805a685e7017.txt (+ NAT, line 176: a default gateway pointing at the host)
# vnet-external's end state (blue routes 192.168.1.0/24 via 192.168.15.5, the host masquerades),
# with the host's eth0 (192.168.1.2) cabled to its router "internet" (192.168.1.1), which also
# holds 8.8.8.8 (on its lo) and knows only 192.168.1.0/24. The host's default route points
# at it. Expectations are checked on the state this script ends in (default route in blue).

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

# The host's uplink and "the internet"
ip netns add internet
ip link add eth0 type veth peer name eth0 netns internet
ip addr add 192.168.1.2/24 dev eth0
ip link set eth0 up
ip -n internet addr add 192.168.1.1/24 dev eth0
ip -n internet link set eth0 up
# 8.8.8.8 sits on the internet's lo (a dummy device would do too, but the kernels this is
# checked on have no dummy module).
ip -n internet addr add 8.8.8.8/32 dev lo
ip -n internet link set lo up
ip route add default via 192.168.1.1
sysctl -w net.ipv4.ip_forward=1

# vnet-external's fix
ip netns exec blue ip route add 192.168.1.0/24 via 192.168.15.5
iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -j MASQUERADE

# Document: ip netns exec blue ping 8.8.8.8 -> "Connect: Network is unreachable"
# expect: {ping: blue -> 8.8.8.8, with: ["blue: ip route del default via 192.168.15.5"], exit: 2, prints: ["ping: connect: Network is unreachable"]}
# Document: ip netns exec blue route
ip netns exec blue ip route
# Document: add the default route
ip netns exec blue ip route add default via 192.168.15.5
# Document: ping 8.8.8.8 -> 64 bytes from 8.8.8.8: icmp_seq=1 ttl=63
# expect: {ping: blue -> 8.8.8.8, exit: 0, ttl: 63, prints: ["64 bytes from 8.8.8.8: icmp_seq=1 ttl=63"], seen-from: 192.168.1.2}
# expect: {ping: host -> 8.8.8.8, exit: 0, ttl: 64}
# expect: {ping: blue -> 8.8.8.8, with: ["host: iptables -t nat -D POSTROUTING -s 192.168.15.0/24 -j MASQUERADE"], options: "-c 1 -W 1", exit: 1, seen-from: 192.168.15.2, because: "without NAT the internet has no way back to 192.168.15.0/24"}
# expect: {ping: red -> 8.8.8.8, exit: 2, prints: ["ping: connect: Network is unreachable"], because: "only blue got the default route"}
