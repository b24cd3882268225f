#!/bin/bash
# source: 001_9b5d2ab96a70997f.txt (## Switching and Routing, "다음 시나리오: A를 C에 어떻게 연결하시겠습니까?", lines 68-106)
# A (192.168.1.5) - B (192.168.1.6 | 192.168.2.6) - C (192.168.2.5), as three namespaces.
# The document draws A, B and C and shows only the ping, the two routes and the
# ip_forward change; the cabling and addresses below are the drawing's, as commands.

ip netns add A
ip netns add B
ip netns add C
ip -n A link add eth0 type veth peer name eth0 netns B
ip -n B link add eth1 type veth peer name eth0 netns C
ip -n A addr add 192.168.1.5/24 dev eth0
ip -n B addr add 192.168.1.6/24 dev eth0
ip -n B addr add 192.168.2.6/24 dev eth1
ip -n C addr add 192.168.2.5/24 dev eth0
ip -n A link set eth0 up
ip -n B link set eth0 up
ip -n B link set eth1 up
ip -n C link set eth0 up

# Document: (on A) ping 192.168.2.5  ->  connect: network is unreachable
#   (checked below by the expectation that deletes A's route again)

# Document: on A
ip netns exec A ip route add 192.168.2.0/24 via 192.168.1.6
# Document: on C
ip netns exec C ip route add 192.168.1.0/24 via 192.168.2.6

# Document: A can now send to C but gets no reply: Linux does not forward by default.
#   (checked below with B's forwarding switched off again)
# The document says "on host C"; the forwarding box is B.
ip netns exec B sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
# Document: cat /proc/sys/net/ipv4/ip_forward  ->  1
ip netns exec B sysctl net.ipv4.ip_forward

# Every expectation below is checked on the state this script ends in (or on a copy changed by `with:`).
# expect: {ping: A -> 192.168.2.5, exit: 0, ttl: 63, prints: ["64 bytes from 192.168.2.5: icmp_seq=1 ttl=63"]}
# expect: {ping: C -> 192.168.1.5, exit: 0, ttl: 63}
# expect: {ping: A -> 192.168.2.5, with: ["A: ip route del 192.168.2.0/24 via 192.168.1.6"], exit: 2, prints: ["ping: connect: Network is unreachable"], because: "the document's first step: no route on A"}
# expect: {ping: A -> 192.168.2.5, with: ["B: sysctl -w net.ipv4.ip_forward=0"], options: "-c 1 -W 1", exit: 1, drop: IP_INADDRERRORS, because: "B with ip_forward=0 drops silently, no ICMP"}
# expect: {ping: A -> 192.168.2.5, with: ["B: sysctl -w net.ipv4.ip_forward=0", "C: echo 1 > /proc/sys/net/ipv4/ip_forward"], options: "-c 1 -W 1", exit: 1, drop: IP_INADDRERRORS, because: "forwarding on C (as the document says) does not help; B is the router"}
# expect: {ping: A -> 192.168.2.5, with: ["C: ip route del 192.168.1.0/24 via 192.168.2.6"], options: "-c 1 -W 1", exit: 1, because: "C has no way back: silent loss"}
