#!/bin/bash
# source: 001_9b5d2ab96a70997f.txt (## Docker Networking, lines 543-556: docker run --network host nginx)
# also 004_6c75805a685e7017.txt (204. Prerequisite - Docker Networking > - 호스트 네트워크, lines 189-192)
# With --network host the container is not given a namespace: nginx runs in the host's own
# namespace. Here nginx is `nc -lk -p 80` in the host, and the outside client is a namespace on a
# veth pair from the host's eth0 (192.168.1.10).
#
# The second nginx is NOT reproduced with a second `nc -lk -p 80 &`: Debian's OpenBSD netcat sets
# SO_REUSEPORT on its listening socket, so on Linux a second (and third) `nc -l -p 80` binds the same
# port without error (checked: `ss -ltnp` lists two nc on 0.0.0.0:80). nginx does not set
# SO_REUSEPORT by default, and its second instance fails with
#   nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)
# (a plain bind() to 0.0.0.0:80, even with SO_REUSEADDR, gets errno 98 here). See NETFILTER-NOTES.md.

ip netns add client
ip link add eth0 type veth peer name eth0 netns client
ip addr add 192.168.1.10/24 dev eth0
ip link set eth0 up
ip -n client addr add 192.168.1.11/24 dev eth0
ip -n client link set eth0 up

# docker run --network host nginx  (nginx listens on the host's port 80)
nc -lk -p 80 &
ss

# Document: the application is reachable at 192.168.1.10:80
# expect: {connect: client -> 192.168.1.10:80, exit: 0, prints: ["Connection to 192.168.1.10 80 port [tcp/http] succeeded!"], seen-from: 192.168.1.11}
# expect: {connect: host -> 127.0.0.1:80, exit: 0, prints: ["Connection to 127.0.0.1 80 port [tcp/http] succeeded!"]}
# expect: {connect: client -> 192.168.1.10:8080, exit: 1, prints: ["nc: connect to 192.168.1.10 port 8080 (tcp) failed: Connection refused"]}
