# A host NATing between a bridge (RED) and an outside namespace (ext): KERNEL_FACTS 5 and 6
# as a differential case (DNAT, OUTPUT DNAT, forwarding off, REJECT kinds, TCP reset, UDP),
# and the source address each destination sees (seen-from: MASQUERADE, SNAT, port ranges,
# DNAT with MASQUERADE). ext has no route to 11.11.11.0/24.
ip link add br0 type bridge
ip addr add 11.11.11.1/24 dev br0
ip link set br0 up
ip netns add RED
ip link add veth-red type veth peer name veth-red-br
ip link set veth-red netns RED
ip link set veth-red-br master br0
ip link set veth-red-br up
ip -n RED addr add 11.11.11.2/24 dev veth-red
ip -n RED link set veth-red up
ip -n RED route add default via 11.11.11.1
ip netns add ext
ip link add host-ext type veth peer name eth0 netns ext
ip addr add 192.168.1.1/24 dev host-ext
ip link set host-ext up
ip -n ext addr add 192.168.1.2/24 dev eth0
ip -n ext link set eth0 up
sysctl -w net.ipv4.ip_forward=1
ip netns exec RED nc -lk -p 80 &
ip netns exec ext nc -lk -p 80 &
# expect: {connect: ext -> 192.168.1.1:8080, exit: 1}
# expect: {connect: ext -> 192.168.1.1:8080, with: ["host: iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 11.11.11.2:80"], exit: 0, seen-from: 192.168.1.2}
# expect: {connect: ext -> 192.168.1.1:8080, with: ["host: iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 11.11.11.2:80", "host: iptables -t nat -A POSTROUTING -o br0 -j MASQUERADE"], exit: 0, seen-from: 11.11.11.1}
# expect: {connect: host -> 192.168.1.1:8080, with: ["host: iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 11.11.11.2:80"], exit: 1}
# expect: {connect: host -> 192.168.1.1:8080, with: ["host: iptables -t nat -A OUTPUT -p tcp --dport 8080 -j DNAT --to-destination 11.11.11.2:80"], exit: 0, seen-from: 192.168.1.1}
# expect: {connect: ext -> 192.168.1.1:8080, with: ["host: iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 11.11.11.2:80", "RED: ip route del default"], exit: 1}
# expect: {connect: ext -> 192.168.1.1:8080, with: ["host: iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 11.11.11.2:80", "host: sysctl -w net.ipv4.ip_forward=0"], exit: 1}
# expect: {connect: ext -> 192.168.1.1:8081, with: ["host: iptables -t nat -A PREROUTING -p tcp --dport 8081 -j DNAT --to-destination 11.11.11.2:81"], exit: 1}
# expect: {ping: RED -> 192.168.1.2, options: "-c 1 -W 1", exit: 1, seen-from: 11.11.11.2}
# expect: {ping: RED -> 192.168.1.2, with: ["host: iptables -t nat -A POSTROUTING -s 11.11.11.0/24 -j MASQUERADE"], exit: 0, ttl: 63, seen-from: 192.168.1.1}
# expect: {ping: RED -> 192.168.1.2, with: ["host: iptables -t nat -A POSTROUTING -s 11.11.11.0/24 -j SNAT --to-source 192.168.1.1"], exit: 0, ttl: 63, seen-from: 192.168.1.1}
# expect: {connect: RED -> 192.168.1.2:80, options: "-W 1", exit: 1, seen-from: 11.11.11.2}
# expect: {connect: RED -> 192.168.1.2:80, with: ["host: iptables -t nat -A POSTROUTING -s 11.11.11.0/24 -j MASQUERADE"], exit: 0, seen-from: 192.168.1.1}
# expect: {connect: RED -> 192.168.1.2:80, with: ["host: iptables -t nat -A POSTROUTING -s 11.11.11.0/24 -p tcp -j MASQUERADE --to-ports 20000-20099"], exit: 0, seen-from: 192.168.1.1}
# expect: {connect: RED -> 192.168.1.2:80, with: ["host: iptables -t nat -A POSTROUTING -s 11.11.11.0/24 -p tcp -j SNAT --to-source 192.168.1.1:5000"], exit: 0, seen-from: 192.168.1.1}
# expect: {ping: RED -> 192.168.1.2, with: ["host: iptables -P FORWARD DROP"], options: "-c 1 -W 1", exit: 1}
# expect: {ping: RED -> 192.168.1.2, with: ["host: iptables -t nat -A POSTROUTING -s 11.11.11.0/24 -j MASQUERADE", "host: iptables -A FORWARD -p icmp -j REJECT"], exit: 1}
# expect: {ping: RED -> 192.168.1.2, with: ["host: iptables -t nat -A POSTROUTING -s 11.11.11.0/24 -j MASQUERADE", "host: iptables -A FORWARD -p icmp -j REJECT --reject-with icmp-host-prohibited"], exit: 1}
# expect: {connect: ext -> 192.168.1.1:22, with: ["host: iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset"], exit: 1}
# expect: {connect: ext -> 192.168.1.1:22, with: ["host: iptables -A INPUT -p tcp --dport 22 -j DROP"], exit: 1}
# expect: {connect: ext -> 192.168.1.1:53, udp: true, exit: 1}
# expect: {connect: ext -> 192.168.1.1:8080, with: ["host: iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 11.11.11.2:80", "host: iptables -A FORWARD -p tcp -j REJECT --reject-with icmp-host-unreachable"], exit: 1}
# expect: {connect: ext -> 192.168.1.1:8080, with: ["host: iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 11.11.11.2:80", "RED: iptables -A INPUT -p tcp -j REJECT"], exit: 1}
# expect: {connect: ext -> 192.168.1.1:8080, with: ["host: iptables -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 11.11.11.99:80"], options: "-W 4", exit: 1}
