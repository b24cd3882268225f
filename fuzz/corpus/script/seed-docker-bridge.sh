#!/bin/bash
# source: 000_da61a720e50aaa75.txt (Docker Bridge Mode / Container Networking 실습, lines 68-292)
# The document runs `for ((i=0; i<2; i++)) do docker run -d --name alpine$i alpine; done` and
# shows the result (ip addr, brctl show, ip neigh). These are the ip commands that build the
# same thing - what Docker does for each container (also described in 001, ## Docker Networking):
# a namespace, a veth pair with one end in it as eth0 and the other on docker0, an address,
# a default route. Names, addresses and MACs are the document's. Docker would also set
# ip_forward=1 and add iptables rules; one-bridge traffic needs neither.
# Creates docker0 in the namespace it runs in: use a scratch namespace or a host without Docker.

ip link add docker0 type bridge
ip link set docker0 address 02:42:e0:ef:c5:b6
ip addr add 172.17.0.1/16 brd + dev docker0
ip link set docker0 up

# alpine0: eth0@if55 <-> 55: veth6c83a45@if54
ip netns add alpine0
ip link add veth6c83a45 type veth peer name eth0 netns alpine0
ip link set veth6c83a45 address c6:ac:23:74:6f:91
ip link set veth6c83a45 master docker0
ip link set veth6c83a45 up
ip -n alpine0 link set eth0 address 02:42:ac:11:00:02
ip -n alpine0 addr add 172.17.0.2/16 dev eth0
ip -n alpine0 link set lo up
ip -n alpine0 link set eth0 up
ip -n alpine0 route add default via 172.17.0.1

# alpine1: eth0@if57 <-> 57: veth232dd87@if56
ip netns add alpine1
ip link add veth232dd87 type veth peer name eth0 netns alpine1
ip link set veth232dd87 address 0e:2f:6d:55:21:3d
ip link set veth232dd87 master docker0
ip link set veth232dd87 up
ip -n alpine1 link set eth0 address 02:42:ac:11:00:03
ip -n alpine1 addr add 172.17.0.3/16 dev eth0
ip -n alpine1 link set lo up
ip -n alpine1 link set eth0 up
ip -n alpine1 route add default via 172.17.0.1

# Document: ip addr show (host), ip addr show (in each container), brctl show
ip addr show
ip -n alpine0 addr show
ip -n alpine1 addr show
bridge fdb show

# Document (in alpine0): ping -c 2 172.17.0.3, then ip neigh shows 172.17.0.3 lladdr 02:42:ac:11:00:03
# expect: {ping: alpine0 -> 172.17.0.3, options: "-c 2", exit: 0, ttl: 64, prints: ["64 bytes from 172.17.0.3: icmp_seq=1 ttl=64", "64 bytes from 172.17.0.3: icmp_seq=2 ttl=64"]}
# expect: {ping: alpine1 -> 172.17.0.2, exit: 0, ttl: 64}
# expect: {ping: alpine0 -> 172.17.0.1, exit: 0, ttl: 64}
# expect: {ping: host -> 172.17.0.3, exit: 0, ttl: 64}
# expect: {ping: alpine0 -> 127.0.0.1, exit: 0, ttl: 64}
