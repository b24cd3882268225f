#!/bin/bash
# source: 001_9b5d2ab96a70997f.txt (## Network Namespaces, lines 287-461: ### Connecting network interfaces, the v-net-0 bridge, ### 호스트 시스템과 브리지 간의 통신 활성화)
# The document's commands exactly as written, slips included. Loading this script shows what
# each slip does:
#   line "ip -n blue addr add 192.168.15.2 dev veth-red": veth-red is in red, not blue ->
#       Cannot find device "veth-red" (exit 1); blue gets no address at all
#   the addresses have no netmask -> /32, no connected route (the document's own Note 1)
#   in the bridge part both ends get 192.168.15.1 (blue's should be 192.168.15.2)
#   veth-red-br and veth-blue-br are enslaved to v-net-0 but never set up
# Expectations are checked on the state the script ends in (the bridge part).

ip netns add red
ip netns add blue

ip link add veth-red type veth peer name veth-blue

ip link set veth-red netns red
ip link set veth-blue netns blue

ip -n red addr add 192.168.15.1 dev veth-red
ip -n blue addr add 192.168.15.2 dev veth-red

ip -n red link set veth-red up
ip -n blue link set veth-blue up

# Document: ip netns exec red ping 192.168.15.2
#   here: "ping: connect: Network is unreachable" (exit 2): red has only 192.168.15.1/32 and
#   blue has no address. The cable is deleted below, so this is not an expectation.
ip netns exec red arp
ip netns exec blue arp

ip link add v-net-0 type bridge

ip link set dev v-net-0 up

ip -n red link del veth-red

ip link add veth-red type veth peer name veth-red-br
ip link add veth-blue type veth peer name veth-blue-br

ip link set veth-red netns red
ip link set veth-red-br master v-net-0

ip link set veth-blue netns blue
ip link set veth-blue-br master v-net-0

ip -n red addr add 192.168.15.1 dev veth-red
ip -n blue addr add 192.168.15.1 dev veth-blue

ip -n red link set veth-red up
ip -n blue link set veth-blue up

ip addr add 192.168.15.5/24 dev v-net-0

# Document: ping 192.168.15.5 (from the host)
# expect: {ping: host -> 192.168.15.5, with: ["host: ip link set lo up"], exit: 0, ttl: 64, because: "the host's own address, delivered through lo (up on any real host; down in a fresh namespace)"}
# expect: {ping: red -> 192.168.15.5, exit: 2, prints: ["ping: connect: Network is unreachable"], because: "red has 192.168.15.1/32 only: no route to 192.168.15.0/24"}
# expect: {ping: blue -> 192.168.15.5, exit: 2, prints: ["ping: connect: Network is unreachable"]}
# expect: {ping: blue -> 192.168.15.1, options: "-c 1 -W 1", exit: 1, because: "blue was given 192.168.15.1 too: for blue it is a local address, delivered through its lo, which is down"}
# expect: {ping: host -> 192.168.15.1, options: "-c 1 -W 1", exit: 1, because: "veth-red-br and veth-blue-br are down, so v-net-0 has no port to send the ARP request through"}
# expect: {ping: host -> 192.168.15.1, options: "-c 1 -W 5", exit: 1, because: "ARP fails after 3 probes, but the ICMP host-unreachable the host sends itself goes through its lo, which is down here: still no output"}
# expect: {ping: host -> 192.168.15.1, with: ["host: ip link set lo up"], options: "-c 1 -W 5", exit: 1, prints: ["From 192.168.15.5 icmp_seq=1 Destination Host Unreachable"], because: "with lo up (as on a real host) the neighbour failure is reported after 3 probes"}
# expect: {ping: host -> 192.168.15.1, with: ["host: ip link set veth-red-br up", "host: ip link set veth-blue-br up"], options: "-c 1 -W 1", exit: 1, because: "with the ports up both red and blue answer ARP for 192.168.15.1; whichever gets the request has no route back to 192.168.15.5 (/32 only)"}
# expect: {ping: red -> 192.168.15.2, with: ["host: ip link set veth-red-br up", "host: ip link set veth-blue-br up", "red: ip addr del 192.168.15.1/32 dev veth-red", "red: ip addr add 192.168.15.1/24 dev veth-red", "blue: ip addr del 192.168.15.1/32 dev veth-blue", "blue: ip addr add 192.168.15.2/24 dev veth-blue"], exit: 0, ttl: 64, because: "all three slips fixed: ports up, /24, blue is .2"}
# expect: {ping: host -> 192.168.15.2, with: ["host: ip link set veth-red-br up", "host: ip link set veth-blue-br up", "red: ip addr del 192.168.15.1/32 dev veth-red", "red: ip addr add 192.168.15.1/24 dev veth-red", "blue: ip addr del 192.168.15.1/32 dev veth-blue", "blue: ip addr add 192.168.15.2/24 dev veth-blue"], exit: 0, ttl: 64}
