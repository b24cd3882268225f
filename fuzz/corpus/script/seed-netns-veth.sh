#!/bin/bash
# source: 001_9b5d2ab96a70997f.txt (## Network Namespaces > ### Creating network namespaces / ### Connecting network interfaces, lines 287-386)
# The document's commands in order, with its two slips corrected (see netns-doc-typos.sh for
# them as written): the addresses get /24, as the document's own Note 1 (line 533) says, and
# blue's address goes on veth-blue, not veth-red.

ip netns add red
ip netns add blue

ip link add veth-red type veth peer name veth-blue
ip link set veth-red netns red
ip link set veth-blue netns blue

ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n blue addr add 192.168.15.2/24 dev veth-blue

ip -n red link set veth-red up
ip -n blue link set veth-blue up

# Document: ip netns exec red ping 192.168.15.2
# expect: {ping: red -> 192.168.15.2, exit: 0, ttl: 64, prints: ["64 bytes from 192.168.15.2: icmp_seq=1 ttl=64"]}
# expect: {ping: blue -> 192.168.15.1, exit: 0, ttl: 64}
# expect: {ping: red -> 192.168.15.1, options: "-c 1 -W 1", exit: 1, because: "own address goes through lo, which is down in a new namespace"}
# expect: {ping: host -> 192.168.15.2, exit: 2, prints: ["ping: connect: Network is unreachable"], because: "the host is not on the cable and has no route to 192.168.15.0/24"}

# Document: the ARP table of each namespace (the entries appear once a ping has run)
ip netns exec red arp
ip netns exec blue arp
# Document: the host's arp knows nothing about red and blue
arp
