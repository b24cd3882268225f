#!/usr/bin/env bash
# Time the same topology script in real network namespaces and in hopsim.
#
#   scripts/compare-namespaces.sh SCRIPT FROM DEST [RUNS]
#   e.g. scripts/compare-namespaces.sh scenarios/netns-veth.sh red 192.168.15.2 20
#
# Real side (needs root and unshare): per run, a fresh network + mount namespace with its
# own tmpfs on /run/netns (nothing touches the machine's namespaces), the script as bash
# runs it (set-up), one `ping -c 1 -W 1 DEST` in FROM, and the deletion of every namespace
# (tear-down); the whole run is timed. hopsim side: `hopsim ping SCRIPT --from FROM DEST`
# (load + build + one traced ping + output), timed the same way. Prints both means and
# the ratio. HOPSIM (default target/release/hopsim) names the binary.
set -euo pipefail
script=${1:?usage: $0 SCRIPT FROM DEST [RUNS]}
from=${2:?usage: $0 SCRIPT FROM DEST [RUNS]}
dest=${3:?usage: $0 SCRIPT FROM DEST [RUNS]}
runs=${4:-10}
hopsim=${HOPSIM:-target/release/hopsim}
[ -x "$hopsim" ] || { echo "$hopsim not found: cargo build --release -p hopsim" >&2; exit 2; }
script=$(realpath "$script")

now_ns() { date +%s%N; }

real_once() {
    # `ip netns exec` needs /run/netns; the private tmpfs keeps the script's namespaces
    # inside this mount namespace, and they die with it.
    unshare --net --mount --propagation private bash -c '
        set -u
        mkdir -p /run/netns && mount -t tmpfs none /run/netns
        ip link set lo up
        bash "$1" >/dev/null 2>&1 || true
        if [ "$2" = host ]; then ping -c 1 -W 1 "$3" >/dev/null 2>&1
        else ip netns exec "$2" ping -c 1 -W 1 "$3" >/dev/null 2>&1; fi
        rc=$?
        ip -all netns delete 2>/dev/null || true
        exit $rc
    ' _ "$script" "$from" "$dest"
}

if ! unshare --net true 2>/dev/null; then
    echo "real namespaces are not permitted here (unshare --net failed): hopsim side only" >&2
    real_mean=""
else
    real_rc=0
    t0=$(now_ns)
    for _ in $(seq "$runs"); do real_once || real_rc=$?; done
    t1=$(now_ns)
    real_mean=$(( (t1 - t0) / runs / 1000 ))
fi

sim_rc=0
t0=$(now_ns)
for _ in $(seq "$runs"); do "$hopsim" ping "$script" --from "$from" "$dest" >/dev/null 2>&1 || sim_rc=$?; done
t1=$(now_ns)
sim_mean=$(( (t1 - t0) / runs / 1000 ))

echo "$(basename "$script"): ping from $from to $dest, $runs runs"
if [ -n "$real_mean" ]; then
    echo "  real namespaces (set-up + ping + tear-down): ${real_mean} us per run, ping exit $real_rc"
fi
echo "  hopsim ping (load + trace + output):         ${sim_mean} us per run, ping exit $sim_rc"
if [ -n "$real_mean" ] && [ "$sim_mean" -gt 0 ]; then
    awk -v r="$real_mean" -v s="$sim_mean" 'BEGIN { printf "  ratio: real / hopsim = %.1f\n", r / s }'
fi
