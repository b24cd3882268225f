# flannel's vxlan backend by hand (SYSTEM_RULES 4), as a differential case: two nodes on
# one underlay (eth1, 172.25.0.0/24), each with flannel.1 (VNI 1, UDP 8472, nolearning,
# its subnet's base address as a /32), a cni0 bridge (mtu 1450) with one pod, and for the
# other node the three entries flanneld programs: a permanent neighbour for the remote
# flannel.1's address, a permanent FDB entry sending that MAC to the remote node, and an
# onlink route for the remote subnet. The probes cover the path (two routed hops: ttl 62),
# the overlay MTU, what each entry is for, and marks surviving the encapsulation.
ip netns add node1
ip netns add node2
ip netns add pod1
ip netns add pod2
ip -n node1 link add eth1 type veth peer name eth1 netns node2
ip -n node1 addr add 172.25.0.10/24 dev eth1
ip -n node2 addr add 172.25.0.20/24 dev eth1
ip -n node1 link set eth1 up
ip -n node2 link set eth1 up
ip -n node1 link set lo up
ip -n node2 link set lo up
ip netns exec node1 sysctl -w net.ipv4.ip_forward=1
ip netns exec node2 sysctl -w net.ipv4.ip_forward=1
ip -n node1 link add flannel.1 type vxlan id 1 local 172.25.0.10 dev eth1 dstport 8472 nolearning
ip -n node2 link add flannel.1 type vxlan id 1 local 172.25.0.20 dev eth1 dstport 8472 nolearning
ip -n node1 link set flannel.1 address 6a:5e:21:0b:9c:3e
ip -n node2 link set flannel.1 address 2e:7f:77:3d:f2:fd
# A VXLAN device may not exceed its lower device's MTU less 50: both answer
# "RTNETLINK answers: Invalid argument" (a setup line that fails on purpose).
ip -n node1 link set flannel.1 mtu 1500
ip -n node1 addr add 10.244.0.0/32 dev flannel.1
ip -n node2 addr add 10.244.1.0/32 dev flannel.1
ip -n node1 link set flannel.1 up
ip -n node2 link set flannel.1 up
ip -n node1 link add cni0 type bridge
ip -n node2 link add cni0 type bridge
ip -n node1 link set cni0 mtu 1450
ip -n node2 link set cni0 mtu 1450
ip -n node1 addr add 10.244.0.1/24 dev cni0
ip -n node2 addr add 10.244.1.1/24 dev cni0
ip -n node1 link set cni0 up
ip -n node2 link set cni0 up
ip -n node1 link add veth1 type veth peer name eth0 netns pod1
ip -n node2 link add veth2 type veth peer name eth0 netns pod2
ip -n node1 link set veth1 mtu 1450
ip -n node2 link set veth2 mtu 1450
ip -n pod1 link set eth0 mtu 1450
ip -n pod2 link set eth0 mtu 1450
ip -n node1 link set veth1 master cni0
ip -n node2 link set veth2 master cni0
ip -n node1 link set veth1 up
ip -n node2 link set veth2 up
ip -n pod1 addr add 10.244.0.2/24 dev eth0
ip -n pod2 addr add 10.244.1.2/24 dev eth0
ip -n pod1 link set eth0 up
ip -n pod2 link set eth0 up
ip -n pod1 link set lo up
ip -n pod2 link set lo up
ip -n pod1 route add default via 10.244.0.1 dev eth0
ip -n pod2 route add default via 10.244.1.1 dev eth0
ip -n node1 neigh add 10.244.1.0 dev flannel.1 lladdr 2e:7f:77:3d:f2:fd nud permanent
ip netns exec node1 bridge fdb add 2e:7f:77:3d:f2:fd dev flannel.1 dst 172.25.0.20 self permanent
ip -n node1 route add 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink
ip -n node2 neigh add 10.244.0.0 dev flannel.1 lladdr 6a:5e:21:0b:9c:3e nud permanent
ip netns exec node2 bridge fdb add 6a:5e:21:0b:9c:3e dev flannel.1 dst 172.25.0.10 self permanent
ip -n node2 route add 10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink
# expect: {ping: pod1 -> 10.244.1.2, exit: 0, ttl: 62}
# expect: {ping: pod2 -> 10.244.0.2, exit: 0, ttl: 62}
# expect: {ping: node1 -> 10.244.1.2, exit: 0, ttl: 63}
# expect: {ping: pod1 -> 10.244.1.0, exit: 0, ttl: 63}
# expect: {ping: pod1 -> 10.244.1.2, options: "-c 1 -t 2 -W 1", exit: 1, prints: ["From 10.244.1.0 icmp_seq=1 Time to live exceeded"]}
# expect: {ping: pod1 -> 10.244.1.2, options: "-c 1 -M do -s 1422", exit: 0, ttl: 62}
# expect: {ping: pod1 -> 10.244.1.2, options: "-c 1 -W 1 -M do -s 1423", exit: 1, prints: ["ping: local error: message too long, mtu=1450"]}
# expect: {ping: pod1 -> 10.244.1.2, with: ["pod1: ip link set eth0 mtu 1500", "node1: ip link set veth1 mtu 1500", "node1: ip link set cni0 mtu 1500"], options: "-c 2 -W 1 -M do -s 1472", exit: 1, prints: ["From 10.244.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)", "ping: local error: message too long, mtu=1450"]}
# expect: {ping: pod1 -> 10.244.1.2, with: ["pod1: ip link set eth0 mtu 1500", "node1: ip link set veth1 mtu 1500", "node1: ip link set cni0 mtu 1500"], options: "-c 1 -M dont -s 1422", exit: 0, ttl: 62}
# expect: {ping: pod1 -> 10.244.1.2, with: ["pod1: ip link set eth0 mtu 1500", "node1: ip link set veth1 mtu 1500", "node1: ip link set cni0 mtu 1500", "node1: iptables -A FORWARD -j DROP"], options: "-c 1 -W 1 -M do -s 1472", exit: 1, prints: ["From 10.244.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)"]}
# expect: {ping: pod1 -> 10.244.1.2, with: ["node1: bridge fdb del 2e:7f:77:3d:f2:fd dev flannel.1"], options: "-c 1 -W 1", exit: 1}
# expect: {ping: pod1 -> 10.244.1.2, with: ["node1: ip neigh del 10.244.1.0 dev flannel.1"], options: "-c 1 -W 5", exit: 1, prints: ["From 10.244.0.1 icmp_seq=1 Destination Host Unreachable"]}
# expect: {ping: pod1 -> 10.244.1.2, with: ["node2: ip link set flannel.1 down"], options: "-c 1 -W 1", exit: 1}
# expect: {ping: pod1 -> 10.244.1.2, with: ["node2: ip link del flannel.1", "node2: ip link add flannel.1 type vxlan id 2 local 172.25.0.20 dev eth1 dstport 8472 nolearning", "node2: ip link set flannel.1 address 2e:7f:77:3d:f2:fd", "node2: ip addr add 10.244.1.0/32 dev flannel.1", "node2: ip link set flannel.1 up"], options: "-c 1 -W 1", exit: 1}
# expect: {ping: pod1 -> 10.244.1.2, with: ["node1: iptables -A FORWARD -j MARK --set-mark 0x10000", "node1: iptables -A OUTPUT -p udp --dport 8472 -m mark ! --mark 0x10000/0x10000 -j DROP"], exit: 0, ttl: 62}
# expect: {ping: pod1 -> 10.244.1.2, with: ["node1: iptables -A OUTPUT -p udp --dport 8472 -m mark ! --mark 0x10000/0x10000 -j DROP"], options: "-c 1 -W 1", exit: 1}
