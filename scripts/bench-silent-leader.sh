#!/usr/bin/env bash
# Failover when the leader goes silent without closing any connection (SIGSTOP: the same effect on its
# peers as a partition), raftd next to etcd 3.4 at equal timeouts (150-300 ms), alternating trials.
# A benchmark, not a test: run it on an idle machine and read the ratio.
#
#   RAFTCTL=.build/release/raftctl TRIALS=10 scripts/bench-silent-leader.sh
#
# Uses the shared kit (../shared/bench: cluster.sh, failover_probe.py, raftstatus.py). Each trial pauses the
# leader (kill -STOP), launches a write every 10 ms at the survivors until one is acknowledged, then resumes
# the old leader (kill -CONT) and waits for the cluster to be whole. Prints a markdown table and a RESULT line.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BENCH="${BENCH_DIR:-$HERE/../../shared/bench}"
export RAFTCTL="$(readlink -f "${RAFTCTL:-$HERE/../.build/release/raftctl}")"
TRIALS="${TRIALS:-10}"
WORK="${WORK:-/tmp/bench-silent}"
ETCD_PORT_BASE="${ETCD_PORT_BASE:-24300}"
RAFT_BASE_PORT="${RAFT_BASE_PORT:-24500}"

rm -rf "$WORK" && mkdir -p "$WORK"
export RAFTCTL_CLUSTER_DIR="$WORK/raft"
etcdc() { ETCD_DIR="$WORK/etcd" ETCD_PORT_BASE="$ETCD_PORT_BASE" PROFILE=raft "$BENCH/cluster.sh" "$@"; }
cleanup() {
    etcdc stop >/dev/null 2>&1 || true
    "$RAFTCTL" down --purge >/dev/null 2>&1 || true
}
trap cleanup EXIT

etcdc start >/dev/null 2>&1
"$RAFTCTL" up --nodes 3 --base-port "$RAFT_BASE_PORT" >/dev/null

: >"$WORK/trials.jsonl"
for t in $(seq 1 "$TRIALS"); do
    # etcd
    etcdc wait-healthy 1 2 3 >/dev/null 2>&1
    sleep 2
    read -r n url pid <<<"$(etcdc leader)"
    surv=""
    for m in 1 2 3; do [[ "$m" == "$n" ]] || surv+="$(etcdc url "$m"),"; done
    python3 "$BENCH/failover_probe.py" --api etcd --kill-cmd "kill -STOP $pid" --old-leader-url "$url" \
        --survivors "${surv%,}" --restart-cmd "kill -CONT $pid" --health-url "$url/health" \
        --label profile=etcd --label trial="$t" >>"$WORK/trials.jsonl" 2>>"$WORK/probe.log" || true
    # raftd
    python3 "$BENCH/raftstatus.py" wait-ready --timeout 30 >/dev/null 2>&1 || true
    sleep 2
    status="$("$RAFTCTL" status --json)"
    read -r id pid url <<<"$(python3 -c 'import json,sys; v=json.loads(sys.argv[1]); n=[x for x in v["nodes"] if x["id"]==v["leader"]][0]; print(n["id"], n["pid"], n["clientURL"])' "$status")"
    surv="$(python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print(",".join(x["clientURL"] for x in v["nodes"] if x["id"]!=v["leader"]))' "$status")"
    python3 "$BENCH/failover_probe.py" --api v1 --kill-cmd "kill -STOP $pid" --old-leader-id "$id" \
        --old-leader-url "$url" --survivors "$surv" --restart-cmd "kill -CONT $pid" \
        --ready-cmd "python3 $BENCH/raftstatus.py ready $id" \
        --label profile=raftd --label trial="$t" >>"$WORK/trials.jsonl" 2>>"$WORK/probe.log" || true
    echo "trial $t done" >&2
done

python3 - "$WORK/trials.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def values(profile):
    return sorted(r["failover_ms"] for r in rows if r.get("profile") == profile and r.get("failover_ms") is not None)
etcd, raft = values("etcd"), values("raftd")
if not etcd or not raft:
    sys.exit(f"no successful trials (etcd {len(etcd)}, raftd {len(raft)}); see probe.log")
me, mr = statistics.median(etcd), statistics.median(raft)
print("| leader paused (SIGSTOP) → first acknowledged write | etcd | raftd | ratio raftd/etcd |")
print("|---|---|---|---|")
print(f"| median ms [min–max] | {me:.0f} [{etcd[0]:.0f}–{etcd[-1]:.0f}] | {mr:.0f} [{raft[0]:.0f}–{raft[-1]:.0f}] | {mr / me:.2f} |")
print(f"| trials | {len(etcd)} | {len(raft)} | |")
print(f"RESULT silent_failover_ms_etcd={me:.0f} silent_failover_ms_raftd={mr:.0f} silent_failover_ratio={mr / me:.2f}")
EOF
