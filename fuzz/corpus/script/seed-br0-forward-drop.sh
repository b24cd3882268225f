#!/bin/bash
# source: 002_30f671631574bd74.txt (1. 컨테이너 네트워크 원리 > ■ 가상 브릿지를 이용하여 해결, lines 236-266; ■ ping 통신, lines 287-307; ■ iptables Forward 설정, lines 317-330; ■ 다시 ping통신 시도하면 성공!, lines 332-355)
# The talk's commands in order. Its machine (centos-docker) runs Docker, which had set the filter
# FORWARD policy to DROP; the first iptables line stands for that.
# The talk first deletes the old example (ip netns del RED / ip netns del BLUE); here there is none.
# Expectations are checked on the state this script ends in (after the fix); the failing pings are
# reached with `with:` lines that put the policy back to DROP.

# Docker's FORWARD policy on the talk's machine
iptables -P FORWARD DROP
sysctl net.bridge.bridge-nf-call-iptables

# 네트워크 네임스페이스 생성 (the bridge)
ip link add br0 type bridge
ip addr add 11.11.11.1/24 dev br0

# 네트워크 네임스페이스 생성
ip netns add RED
ip netns add BLUE

# 네트워크 네임스페이스와 브릿지연결
ip link add veth1 type veth peer name veth2
ip link add veth3 type veth peer name veth4
ip link set veth1 netns RED
ip link set veth3 netns BLUE
ip link set veth2 master br0
ip link set veth4 master br0

# ip할당
ip netns exec RED ip addr add 11.11.11.2/24 dev veth1
ip netns exec BLUE ip addr add 11.11.11.3/24 dev veth3

# 인터페이스 활성화
ip link set br0 up
ip link set veth2 up
ip link set veth4 up
ip netns exec RED ip link set dev veth1 up
ip netns exec BLUE ip link set dev veth3 up

# Document: brctl show   (bridge-utils; `bridge link` / `bridge fdb show` show the ports)
bridge fdb show

# Document: ip netns exec RED ping 11.11.11.3 -c 2 -> fails (the talk shows "Destination Host Unreachable";
# here it is a silent drop by the FORWARD policy: 100% packet loss, no "From" line)
# expect: {ping: RED -> 11.11.11.3, with: ["host: iptables --policy FORWARD DROP"], options: "-c 2 -W 1", exit: 1, drop: NETFILTER_DROP}
# expect: {ping: RED -> 11.11.11.1, with: ["host: iptables --policy FORWARD DROP"], exit: 0, ttl: 64, because: "br0's own address: INPUT, not FORWARD"}
# expect: {ping: RED -> 11.11.11.3, with: ["host: iptables --policy FORWARD DROP", "host: sysctl -w net.bridge.bridge-nf-call-iptables=0"], exit: 0, ttl: 64, because: "bridged frames skip iptables"}

# ■ iptables Forward 설정
iptables --policy FORWARD ACCEPT
echo 1 > /proc/sys/net/ipv4/ip_forward
iptables -L FORWARD -n -v

# Document: ip netns exec RED ping 11.11.11.3 -c 2 / ip netns exec BLUE ping 11.11.11.2 -c 2 -> ttl=64
# expect: {ping: RED -> 11.11.11.3, options: "-c 2", exit: 0, ttl: 64, prints: ["64 bytes from 11.11.11.3: icmp_seq=1 ttl=64", "64 bytes from 11.11.11.3: icmp_seq=2 ttl=64"]}
# expect: {ping: BLUE -> 11.11.11.2, options: "-c 2", exit: 0, ttl: 64, prints: ["64 bytes from 11.11.11.2: icmp_seq=1 ttl=64", "64 bytes from 11.11.11.2: icmp_seq=2 ttl=64"]}
# The policy alone is the fix: ip_forward=0 with policy ACCEPT still bridges
# expect: {ping: RED -> 11.11.11.3, with: ["host: sysctl -w net.ipv4.ip_forward=0"], exit: 0, ttl: 64}
# ip_forward=1 alone (policy DROP) does not help
# expect: {ping: RED -> 11.11.11.3, with: ["host: iptables --policy FORWARD DROP"], options: "-c 1 -W 1", exit: 1, drop: NETFILTER_DROP, because: "ip_forward=1 is set, the bridged frames still meet the FORWARD policy"}
