#!/bin/bash
# source: 002_30f671631574bd74.txt (1. 컨테이너 네트워크 원리 > ■ 네트워크 (가상)인터페이스를 사용하여 네트워크 네임스페이스 연결하고 IP를 할당, lines 161-177; ■ ping 통신, lines 199-220)
# The document's commands in order.

# 네트워크 네임스페이스 생성
ip netns add RED
ip netns add BLUE

# veth를 네트워크네임스페이스에 연결
ip link add veth1 type veth peer name veth2
ip link set veth1 netns RED
ip link set veth2 netns BLUE

# ip할당
ip netns exec RED ip addr add 11.11.11.2/24 dev veth1
ip netns exec BLUE ip addr add 11.11.11.3/24 dev veth2

# 인터페이스 활성화
ip netns exec RED ip link set dev veth1 up
ip netns exec BLUE ip link set dev veth2 up

# Document: ip netns exec RED ip -c -br addr show / ip netns exec BLUE ip -c -br addr show
#   (-c colour and -br brief are not among the script commands of docs/format.md; plain `ip addr show` instead)
ip netns exec RED ip addr show
ip netns exec BLUE ip addr show

# Document: ip netns exec RED ping 11.11.11.3 -c 2   (RED -> BLUE)
# expect: {ping: RED -> 11.11.11.3, options: "-c 2", exit: 0, ttl: 64, prints: ["64 bytes from 11.11.11.3: icmp_seq=1 ttl=64", "64 bytes from 11.11.11.3: icmp_seq=2 ttl=64"]}
# Document: ip netns exec BLUE ping 11.11.11.2 -c 2  (BLUE -> RED)
# expect: {ping: BLUE -> 11.11.11.2, options: "-c 2", exit: 0, ttl: 64, prints: ["64 bytes from 11.11.11.2: icmp_seq=1 ttl=64", "64 bytes from 11.11.11.2: icmp_seq=2 ttl=64"]}
# expect: {ping: RED -> 11.11.11.2, options: "-c 1 -W 1", exit: 1, because: "own address via lo, which is DOWN (as the document's ip -br addr shows)"}
# expect: {ping: RED -> 127.0.0.1, exit: 2, prints: ["ping: connect: Network is unreachable"]}
