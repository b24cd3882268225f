#!/bin/bash
# source: 001_9b5d2ab96a70997f.txt (## Network Namespaces > ### 생호 통신을 위한 여러 네을스페이스 활성화, lines 388-445; ### 호스트 시스템과 브리지 간의 통신 활성화, lines 447-461)
# also 004_6c75805a685e7017.txt (+ Virtual Network / + Bridge Network: four namespaces 192.168.15.1-4, host 192.168.15.5)
# The document's commands in order, made to work (netns-doc-typos.sh has them as written):
#   - addresses with /24 (document's Note 1); blue gets 192.168.15.2 (the document writes .1)
#   - the bridge ends veth-*-br are set up (document 001 never does; 004 says "finally bring the devices up")
#   - the document only builds red and blue; orange and gray are "the other two" of document 004
# The document first deletes the old red-blue cable (ip -n red link del veth-red); here there is none.

ip netns add red
ip netns add blue
ip netns add orange
ip netns add gray

ip link add v-net-0 type bridge
ip link set dev v-net-0 up

ip link add veth-red type veth peer name veth-red-br
ip link add veth-blue type veth peer name veth-blue-br
ip link add veth-orange type veth peer name veth-orange-br
ip link add veth-gray type veth peer name veth-gray-br

ip link set veth-red netns red
ip link set veth-red-br master v-net-0

ip link set veth-blue netns blue
ip link set veth-blue-br master v-net-0

ip link set veth-orange netns orange
ip link set veth-orange-br master v-net-0

ip link set veth-gray netns gray
ip link set veth-gray-br master v-net-0

ip -n red addr add 192.168.15.1/24 dev veth-red
ip -n blue addr add 192.168.15.2/24 dev veth-blue
ip -n orange addr add 192.168.15.3/24 dev veth-orange
ip -n gray addr add 192.168.15.4/24 dev veth-gray

ip -n red link set veth-red up
ip -n blue link set veth-blue up
ip -n orange link set veth-orange up
ip -n gray link set veth-gray up

ip link set veth-red-br up
ip link set veth-blue-br up
ip link set veth-orange-br up
ip link set veth-gray-br up

# Document: give the bridge an address so the host can reach the namespaces
ip addr add 192.168.15.5/24 dev v-net-0

# Expectations are checked on the state this script ends in (or on a copy changed by `with:`).
# expect: {ping: red -> 192.168.15.2, exit: 0, ttl: 64, prints: ["64 bytes from 192.168.15.2: icmp_seq=1 ttl=64"]}
# expect: {ping: blue -> 192.168.15.3, exit: 0, ttl: 64}
# expect: {ping: orange -> 192.168.15.4, exit: 0, ttl: 64}
# expect: {ping: gray -> 192.168.15.1, exit: 0, ttl: 64}
# expect: {ping: host -> 192.168.15.2, exit: 0, ttl: 64, prints: ["64 bytes from 192.168.15.2: icmp_seq=1 ttl=64"], because: "v-net-0 has 192.168.15.5/24"}
# expect: {ping: blue -> 192.168.15.5, exit: 0, ttl: 64}
# expect: {ping: host -> 192.168.15.2, with: ["host: ip addr del 192.168.15.5/24 dev v-net-0"], exit: 2, prints: ["ping: connect: Network is unreachable"], because: "before v-net-0 has an address the host has no route to the namespaces"}
