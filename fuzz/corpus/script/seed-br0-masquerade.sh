#!/bin/bash
# source: 002_30f671631574bd74.txt (1. 컨테이너 네트워크 원리 > 외부 통신은 어떻게 할까요?, lines 358-370)
# The bridge of br0-forward-drop (lines 236-266) after the talk's FORWARD fix (lines 325-330), then
# the talk's three commands for the outside. The talk gives no outside address: here the host's eth0
# (192.168.1.1/24) is a veth pair to a namespace ext (192.168.1.2), which has no route to 11.11.11.0/24.
# Expectations are checked on the state this script ends in.

ip link add br0 type bridge
ip addr add 11.11.11.1/24 dev br0
ip netns add RED
ip netns add BLUE
ip link add veth1 type veth peer name veth2
ip link add veth3 type veth peer name veth4
ip link set veth1 netns RED
ip link set veth3 netns BLUE
ip link set veth2 master br0
ip link set veth4 master br0
ip netns exec RED ip addr add 11.11.11.2/24 dev veth1
ip netns exec BLUE ip addr add 11.11.11.3/24 dev veth3
ip link set br0 up
ip link set veth2 up
ip link set veth4 up
ip netns exec RED ip link set dev veth1 up
ip netns exec BLUE ip link set dev veth3 up

# ■ iptables Forward 설정 (the policy is ACCEPT already in a fresh host; the talk's machine had DROP)
iptables --policy FORWARD ACCEPT
echo 1 > /proc/sys/net/ipv4/ip_forward

# The outside
ip netns add ext
ip link add eth0 type veth peer name eth0 netns ext
ip addr add 192.168.1.1/24 dev eth0
ip link set eth0 up
ip -n ext addr add 192.168.1.2/24 dev eth0
ip -n ext link set eth0 up

# - 디폴트게이트웨이를 가상 브릿지로 설정 / - host에서는 iptables Masquerade 설정
ip netns exec RED ip route add default via 11.11.11.1
ip netns exec BLUE ip route add default via 11.11.11.1
iptables -t nat -A POSTROUTING -s 11.11.11.0/24 -j MASQUERADE

# expect: {ping: RED -> 192.168.1.2, exit: 0, ttl: 63, prints: ["64 bytes from 192.168.1.2: icmp_seq=1 ttl=63"], seen-from: 192.168.1.1}
# expect: {ping: BLUE -> 192.168.1.2, exit: 0, ttl: 63, seen-from: 192.168.1.1}
# expect: {ping: RED -> 192.168.1.2, with: ["host: iptables -t nat -D POSTROUTING -s 11.11.11.0/24 -j MASQUERADE"], options: "-c 1 -W 1", exit: 1, seen-from: 11.11.11.2, because: "ext has no route back to 11.11.11.0/24"}
# expect: {ping: RED -> 192.168.1.2, with: ["RED: ip route del default via 11.11.11.1"], exit: 2, prints: ["ping: connect: Network is unreachable"]}
# expect: {ping: host -> 192.168.1.2, exit: 0, ttl: 64, seen-from: 192.168.1.1}
# The talk's rule has no "! -o br0": bridged RED -> BLUE is masqueraded to br0's address
# expect: {ping: RED -> 11.11.11.3, exit: 0, ttl: 64, seen-from: 11.11.11.1}
