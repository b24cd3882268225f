# A VXLAN device as a bridge port, the shape scenarios/weave.yaml gives Weave's fastdp
# (SYSTEM_RULES 5), as a differential case: three nodes on one underlay switch, each
# with a bridge `weave` (mtu 1376, an address in 10.244.0.0/16) holding a pod and the
# VXLAN device vxlan-6784 (UDP 6784, learning on), whose FDB has one default entry
# (00:00:00:00:00:00) per other node. The pods share one L2 segment across the nodes:
# ARP is flooded to every peer (head-end replication), answers are learned, and a pod
# reaches a pod on another node with ttl 64.
ip link add sw type bridge
ip link set sw up
ip netns add n1
ip netns add n2
ip netns add n3
ip netns add p1
ip netns add p2
ip netns add p3
ip link add sw-n1 type veth peer name eth0 netns n1
ip link add sw-n2 type veth peer name eth0 netns n2
ip link add sw-n3 type veth peer name eth0 netns n3
ip link set sw-n1 master sw
ip link set sw-n2 master sw
ip link set sw-n3 master sw
ip link set sw-n1 up
ip link set sw-n2 up
ip link set sw-n3 up
ip -n n1 addr add 192.33.199.6/24 dev eth0
ip -n n2 addr add 192.33.199.9/24 dev eth0
ip -n n3 addr add 192.33.199.12/24 dev eth0
ip -n n1 link set eth0 up
ip -n n2 link set eth0 up
ip -n n3 link set eth0 up
ip -n n1 link set lo up
ip -n n2 link set lo up
ip -n n3 link set lo up
ip -n n1 link add weave type bridge
ip -n n2 link add weave type bridge
ip -n n3 link add weave type bridge
ip -n n1 link set weave mtu 1376
ip -n n2 link set weave mtu 1376
ip -n n3 link set weave mtu 1376
ip -n n1 addr add 10.244.0.1/16 dev weave
ip -n n2 addr add 10.244.192.0/16 dev weave
ip -n n3 addr add 10.244.128.0/16 dev weave
ip -n n1 link add vxlan-6784 type vxlan id 1 dstport 6784 dev eth0
ip -n n2 link add vxlan-6784 type vxlan id 1 dstport 6784 dev eth0
ip -n n3 link add vxlan-6784 type vxlan id 1 dstport 6784 dev eth0
ip -n n1 link set vxlan-6784 mtu 1376
ip -n n2 link set vxlan-6784 mtu 1376
ip -n n3 link set vxlan-6784 mtu 1376
ip -n n1 link set vxlan-6784 master weave
ip -n n2 link set vxlan-6784 master weave
ip -n n3 link set vxlan-6784 master weave
ip netns exec n1 bridge fdb append 00:00:00:00:00:00 dev vxlan-6784 dst 192.33.199.9
ip netns exec n1 bridge fdb append 00:00:00:00:00:00 dev vxlan-6784 dst 192.33.199.12
ip netns exec n2 bridge fdb append 00:00:00:00:00:00 dev vxlan-6784 dst 192.33.199.6
ip netns exec n2 bridge fdb append 00:00:00:00:00:00 dev vxlan-6784 dst 192.33.199.12
ip netns exec n3 bridge fdb append 00:00:00:00:00:00 dev vxlan-6784 dst 192.33.199.6
ip netns exec n3 bridge fdb append 00:00:00:00:00:00 dev vxlan-6784 dst 192.33.199.9
ip -n n1 link set vxlan-6784 up
ip -n n2 link set vxlan-6784 up
ip -n n3 link set vxlan-6784 up
ip -n n1 link set weave up
ip -n n2 link set weave up
ip -n n3 link set weave up
ip -n n1 link add vethwepl1 type veth peer name eth0 netns p1
ip -n n2 link add vethwepl2 type veth peer name eth0 netns p2
ip -n n3 link add vethwepl3 type veth peer name eth0 netns p3
ip -n n1 link set vethwepl1 mtu 1376
ip -n n2 link set vethwepl2 mtu 1376
ip -n n3 link set vethwepl3 mtu 1376
ip -n p1 link set eth0 mtu 1376
ip -n p2 link set eth0 mtu 1376
ip -n p3 link set eth0 mtu 1376
ip -n n1 link set vethwepl1 master weave
ip -n n2 link set vethwepl2 master weave
ip -n n3 link set vethwepl3 master weave
ip -n n1 link set vethwepl1 up
ip -n n2 link set vethwepl2 up
ip -n n3 link set vethwepl3 up
ip -n p1 addr add 10.244.0.2/16 dev eth0
ip -n p2 addr add 10.244.192.1/16 dev eth0
ip -n p3 addr add 10.244.128.1/16 dev eth0
ip -n p1 link set eth0 up
ip -n p2 link set eth0 up
ip -n p3 link set eth0 up
ip -n p1 link set lo up
ip -n p2 link set lo up
ip -n p3 link set lo up
ip -n p1 route add default via 10.244.0.1 dev eth0
ip -n p2 route add default via 10.244.192.0 dev eth0
ip -n p3 route add default via 10.244.128.0 dev eth0
# expect: {ping: p1 -> 10.244.192.1, exit: 0, ttl: 64}
# expect: {ping: p1 -> 10.244.128.1, exit: 0, ttl: 64}
# expect: {ping: p2 -> 10.244.128.1, exit: 0, ttl: 64}
# expect: {ping: p3 -> 10.244.0.2, options: "-c 2", exit: 0, ttl: 64}
# expect: {ping: n1 -> 10.244.192.1, exit: 0, ttl: 64}
# expect: {ping: p1 -> 10.244.192.0, exit: 0, ttl: 64}
# expect: {ping: p1 -> 10.244.192.1, options: "-c 1 -M do -s 1348", exit: 0, ttl: 64}
# expect: {ping: p1 -> 10.244.192.1, options: "-c 1 -W 1 -M do -s 1349", exit: 1, prints: ["ping: local error: message too long, mtu=1376"]}
# expect: {ping: p1 -> 10.244.192.1, with: ["n1: bridge fdb del 00:00:00:00:00:00 dev vxlan-6784 dst 192.33.199.9"], options: "-c 1 -W 5", exit: 1, prints: ["From 10.244.0.2 icmp_seq=1 Destination Host Unreachable"]}
# expect: {ping: p1 -> 10.244.128.1, with: ["n1: bridge fdb del 00:00:00:00:00:00 dev vxlan-6784 dst 192.33.199.9"], exit: 0, ttl: 64}
# expect: {ping: p1 -> 10.244.192.1, with: ["n2: ip link set vxlan-6784 nomaster"], options: "-c 1 -W 5", exit: 1, prints: ["From 10.244.0.2 icmp_seq=1 Destination Host Unreachable"]}
# expect: {ping: p1 -> 10.244.192.1, with: ["n2: ip link set vxlan-6784 down"], options: "-c 1 -W 5", exit: 1, prints: ["From 10.244.0.2 icmp_seq=1 Destination Host Unreachable"]}
