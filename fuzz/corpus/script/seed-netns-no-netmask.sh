#!/bin/bash
# source: 001_9b5d2ab96a70997f.txt (## Network Namespaces > ### Connecting network interfaces, lines 348-377; Note 1, lines 531-537)
# The document's commands in order, addresses as written (no netmask, so each is a /32).
# One slip is corrected: blue's address goes on veth-blue (the document writes veth-red,
# see netns-doc-typos.sh).

ip netns add red
ip netns add blue

ip link add veth-red type veth peer name veth-blue
ip link set veth-red netns red
ip link set veth-blue netns blue

ip -n red addr add 192.168.15.1 dev veth-red
ip -n blue addr add 192.168.15.2 dev veth-blue

ip -n red link set veth-red up
ip -n blue link set veth-blue up

# Document: ip netns exec red ping 192.168.15.2
# expect: {ping: red -> 192.168.15.2, exit: 2, prints: ["ping: connect: Network is unreachable"], because: "192.168.15.1 without /N is a /32: no connected route"}
# expect: {ping: blue -> 192.168.15.1, exit: 2, prints: ["ping: connect: Network is unreachable"]}
# expect: {ping: red -> 192.168.15.2, with: ["red: ip route add 192.168.15.2 dev veth-red"], options: "-c 1 -W 1", exit: 1, because: "blue receives the request but has no route back"}
# expect: {ping: red -> 192.168.15.2, with: ["red: ip route add 192.168.15.2 dev veth-red", "blue: ip route add 192.168.15.1 dev veth-blue"], exit: 0, ttl: 64}
# expect: {ping: red -> 192.168.15.2, with: ["red: ip addr del 192.168.15.1/32 dev veth-red", "red: ip addr add 192.168.15.1/24 dev veth-red", "blue: ip addr del 192.168.15.2/32 dev veth-blue", "blue: ip addr add 192.168.15.2/24 dev veth-blue"], exit: 0, ttl: 64, because: "Note 1: set the netmask"}

# Document: the ARP tables (stay empty here: no ARP is ever sent)
ip netns exec red arp
ip netns exec blue arp
