#!/bin/bash
# source: 004_6c75805a685e7017.txt (211. Pod Networking, lines 339-345)
# The section describes, without commands, a bridge network on every node built by a script
# of `ip link add` (the virtual cable) and `ip addr` commands, run once per container. These are
# those commands, with the catalogue's addresses (SCENARIOS.md, row pod-routes: v-net-0
# 10.244.1.1/24 ... on each node, `ip route add 10.244.2.0/24 via <node2 ip>`).
# Each node is a namespace standing for a VM (node1 192.168.1.11, node2 .12, node3 .13, chosen);
# their eth0s meet on a bridge in the namespace lan, which stands for the LAN switch.
# Each pod is a namespace too, cabled to its node's v-net-0 with 004's naming (veth-red in the
# pod, veth-red-br on the bridge): red and blue on node1, orange on node2, gray on node3.
# Expectations are checked on the state the script ends in (every route in place); the earlier
# steps are reached with `with:` lines that delete routes.

# The LAN between the nodes
ip netns add lan
ip -n lan link add sw type bridge
ip -n lan link set sw up
ip netns add node1
ip netns add node2
ip netns add node3
ip -n lan link add port1 type veth peer name eth0 netns node1
ip -n lan link add port2 type veth peer name eth0 netns node2
ip -n lan link add port3 type veth peer name eth0 netns node3
ip -n lan link set port1 master sw
ip -n lan link set port2 master sw
ip -n lan link set port3 master sw
ip -n lan link set port1 up
ip -n lan link set port2 up
ip -n lan link set port3 up

# Each node: its LAN address, a bridge with the first address of its pod network, forwarding
ip -n node1 link set lo up
ip -n node1 addr add 192.168.1.11/24 dev eth0
ip -n node1 link set eth0 up
ip -n node1 link add v-net-0 type bridge
ip -n node1 link set dev v-net-0 up
ip -n node1 addr add 10.244.1.1/24 dev v-net-0
ip netns exec node1 sysctl -w net.ipv4.ip_forward=1

ip -n node2 link set lo up
ip -n node2 addr add 192.168.1.12/24 dev eth0
ip -n node2 link set eth0 up
ip -n node2 link add v-net-0 type bridge
ip -n node2 link set dev v-net-0 up
ip -n node2 addr add 10.244.2.1/24 dev v-net-0
ip netns exec node2 sysctl -w net.ipv4.ip_forward=1

ip -n node3 link set lo up
ip -n node3 addr add 192.168.1.13/24 dev eth0
ip -n node3 link set eth0 up
ip -n node3 link add v-net-0 type bridge
ip -n node3 link set dev v-net-0 up
ip -n node3 addr add 10.244.3.1/24 dev v-net-0
ip netns exec node3 sysctl -w net.ipv4.ip_forward=1

# The per-container script, run for each pod: create the cable, attach its ends,
# assign the IP address and the route to the bridge, bring the interfaces up.
# (A pod's lo is up, as the CNI loopback plugin leaves it.)
ip netns add red
ip -n node1 link add veth-red type veth peer name veth-red-br
ip -n node1 link set veth-red netns red
ip -n node1 link set veth-red-br master v-net-0
ip -n red addr add 10.244.1.2/24 dev veth-red
ip -n red link set veth-red up
ip -n red link set lo up
ip -n node1 link set veth-red-br up
ip -n red route add default via 10.244.1.1

ip netns add blue
ip -n node1 link add veth-blue type veth peer name veth-blue-br
ip -n node1 link set veth-blue netns blue
ip -n node1 link set veth-blue-br master v-net-0
ip -n blue addr add 10.244.1.3/24 dev veth-blue
ip -n blue link set veth-blue up
ip -n blue link set lo up
ip -n node1 link set veth-blue-br up
ip -n blue route add default via 10.244.1.1

ip netns add orange
ip -n node2 link add veth-orange type veth peer name veth-orange-br
ip -n node2 link set veth-orange netns orange
ip -n node2 link set veth-orange-br master v-net-0
ip -n orange addr add 10.244.2.2/24 dev veth-orange
ip -n orange link set veth-orange up
ip -n orange link set lo up
ip -n node2 link set veth-orange-br up
ip -n orange route add default via 10.244.2.1

ip netns add gray
ip -n node3 link add veth-gray type veth peer name veth-gray-br
ip -n node3 link set veth-gray netns gray
ip -n node3 link set veth-gray-br master v-net-0
ip -n gray addr add 10.244.3.2/24 dev veth-gray
ip -n gray link set veth-gray up
ip -n gray link set lo up
ip -n node3 link set veth-gray-br up
ip -n gray route add default via 10.244.3.1

# Pods on one node already reach each other through v-net-0
# expect: {ping: red -> 10.244.1.3, exit: 0, ttl: 64}
# Before any route between the nodes: node1 answers "Destination Net Unreachable" (checked)
# expect: {ping: red -> 10.244.2.2, with: ["node1: ip route del 10.244.2.0/24 via 192.168.1.12"], options: "-c 1 -W 2", exit: 1, prints: ["From 10.244.1.1 icmp_seq=1 Destination Net Unreachable"], drop: IP_INNOROUTES}

# The routes: on every node, every other node's pod network through that node
ip -n node1 route add 10.244.2.0/24 via 192.168.1.12
ip -n node1 route add 10.244.3.0/24 via 192.168.1.13
# With node1's routes only, the reply dies at node2 (it sends net unreachable to orange) (checked)
# expect: {ping: red -> 10.244.2.2, with: ["node2: ip route del 10.244.1.0/24 via 192.168.1.11"], options: "-c 1 -W 2", exit: 1, seen-from: 10.244.1.2, drop: IP_INNOROUTES}
# ... but node1 itself gets through: its source is 192.168.1.11, on node2's LAN (checked)
# expect: {ping: node1 -> 10.244.2.2, with: ["node2: ip route del 10.244.1.0/24 via 192.168.1.11"], exit: 0, ttl: 63, seen-from: 192.168.1.11}
ip -n node2 route add 10.244.1.0/24 via 192.168.1.11
ip -n node2 route add 10.244.3.0/24 via 192.168.1.13
ip -n node3 route add 10.244.1.0/24 via 192.168.1.11
ip -n node3 route add 10.244.2.0/24 via 192.168.1.12

# The catalogue's probe: a pod on node1 pings a pod on node2, two routers on the way (checked)
# expect: {ping: red -> 10.244.2.2, exit: 0, ttl: 62, prints: ["64 bytes from 10.244.2.2: icmp_seq=1 ttl=62"], seen-from: 10.244.1.2}
# expect: {ping: red -> 10.244.3.2, exit: 0, ttl: 62}
# expect: {ping: gray -> 10.244.1.3, exit: 0, ttl: 62}
# expect: {ping: orange -> 10.244.3.2, exit: 0, ttl: 62}
# Every node needs them: without node3's way back, gray is lost while orange still answers (checked)
# expect: {ping: red -> 10.244.3.2, with: ["node3: ip route del 10.244.1.0/24 via 192.168.1.11"], options: "-c 1 -W 1", exit: 1, seen-from: 10.244.1.2}
# A node that does not forward drops silently (checked: IpInAddrErrors 1)
# expect: {ping: red -> 10.244.2.2, with: ["node2: sysctl -w net.ipv4.ip_forward=0"], options: "-c 1 -W 1", exit: 1, drop: IP_INADDRERRORS}
ip -n node1 route
ip -n node2 route
ip -n node3 route
