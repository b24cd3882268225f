# KERNEL_FACTS 7 as a differential case: a kube-proxy-style ClusterIP (statistic mode
# random) whose endpoints and client sit on one bridge; br_netfilter decides whether the
# endpoint's reply is un-DNATed.
ip link add br0 type bridge
ip addr add 11.11.11.1/24 dev br0
ip link set br0 up
sysctl -w net.ipv4.ip_forward=1
ip netns add ep1
ip netns add ep2
ip netns add ep3
ip netns add client
ip link add v1 type veth peer name eth0 netns ep1
ip link add v2 type veth peer name eth0 netns ep2
ip link add v3 type veth peer name eth0 netns ep3
ip link add v4 type veth peer name eth0 netns client
ip link set v1 master br0
ip link set v2 master br0
ip link set v3 master br0
ip link set v4 master br0
ip link set v1 up
ip link set v2 up
ip link set v3 up
ip link set v4 up
ip -n ep1 addr add 11.11.11.11/24 dev eth0
ip -n ep2 addr add 11.11.11.12/24 dev eth0
ip -n ep3 addr add 11.11.11.13/24 dev eth0
ip -n client addr add 11.11.11.100/24 dev eth0
ip -n ep1 link set eth0 up
ip -n ep2 link set eth0 up
ip -n ep3 link set eth0 up
ip -n client link set eth0 up
ip -n ep1 route add default via 11.11.11.1
ip -n ep2 route add default via 11.11.11.1
ip -n ep3 route add default via 11.11.11.1
ip -n client route add default via 11.11.11.1
ip netns exec ep1 nc -lk -p 80 &
ip netns exec ep2 nc -lk -p 80 &
ip netns exec ep3 nc -lk -p 80 &
iptables -t nat -N KUBE-SERVICES
iptables -t nat -N KUBE-SVC-TEST
iptables -t nat -N KUBE-SEP-1
iptables -t nat -N KUBE-SEP-2
iptables -t nat -N KUBE-SEP-3
iptables -t nat -A PREROUTING -j KUBE-SERVICES
iptables -t nat -A OUTPUT -j KUBE-SERVICES
iptables -t nat -A KUBE-SERVICES -d 10.96.0.10/32 -p tcp --dport 80 -j KUBE-SVC-TEST
iptables -t nat -A KUBE-SVC-TEST -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-1
iptables -t nat -A KUBE-SVC-TEST -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-2
iptables -t nat -A KUBE-SVC-TEST -j KUBE-SEP-3
iptables -t nat -A KUBE-SEP-1 -p tcp -j DNAT --to-destination 11.11.11.11:80
iptables -t nat -A KUBE-SEP-2 -p tcp -j DNAT --to-destination 11.11.11.12:80
iptables -t nat -A KUBE-SEP-3 -p tcp -j DNAT --to-destination 11.11.11.13:80
# expect: {connect: client -> 10.96.0.10:80, exit: 0, seen-from: 11.11.11.100}
# expect: {connect: client -> 10.96.0.10:80, with: ["host: sysctl -w net.bridge.bridge-nf-call-iptables=0"], exit: 1}
# expect: {connect: host -> 10.96.0.10:80, exit: 1}
# expect: {connect: host -> 10.96.0.10:80, with: ["host: ip route add 10.96.0.0/12 dev br0"], exit: 0, seen-from: 11.11.11.1}
# expect: {connect: client -> 10.96.0.10:81, options: "-W 3", exit: 1}
