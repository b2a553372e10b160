#!/usr/bin/env python3
"""scale-vs-etcd.py — raftd next to etcd with a million keys in the store, in one run.

Starts a 3-node raftd cluster (`raftctl up`) and a 3-member etcd cluster (../shared/bench/cluster.sh, the
Raft-paper timeouts of vs-etcd.sh), preloads each with the same keys through wrk (scripts/scale/preload.lua:
KEYS keys of SIZE bytes, 64 connections), then measures each in turn, the other idle:

  rss          VmRSS of every node after the load has settled (median and max)
  disk         bytes in every node's data directory (median)
  put c=N      PUT throughput and p99 at N connections, fresh keys, with the preloaded keys in the store
  restart      a follower stopped cleanly, then started: time until a linearizable GET on it answers 200
  catch-up     (once with no load, once under load) a follower's data lost and the member replaced (raftd: `raftctl replace-node`; etcd: member
               remove, wipe, member add, start with --initial-cluster-state existing): time until the new
               member has applied everything the leader had committed when it started (raftd: until
               replace-node returns, the member caught up and promoted); peak RSS of the leader (VmHWM, reset
               before) over its RSS before, and the new member's RSS and peak. Under load: a PUT load of 64
               connections running throughout, and its throughput and p99 while the catch-up happens

Usage:
  scripts/scale-vs-etcd.py --raftctl .build/release/raftctl [--keys 1000000] [--size 256] [--nodes 5] [--work /tmp/scale]

Needs etcd 3.4 and etcdctl (Debian etcd-server, etcd-client), wrk, curl. Prints a markdown table with the
raftd/etcd ratio of every row and a last line `RESULT …`. Takes about 15 minutes with a million keys.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse

signal.signal(signal.SIGINT, signal.SIG_DFL)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--raftctl", required=True)
ap.add_argument("--bench", default=os.path.join(ROOT, "..", "shared", "bench"))
ap.add_argument("--work", default="/tmp/scale-vs-etcd")
ap.add_argument("--keys", type=int, default=1_000_000)
ap.add_argument("--size", type=int, default=256)
ap.add_argument("--conns", default="64,256")
ap.add_argument("--duration", type=int, default=10)
ap.add_argument("--systems", default="etcd,raftd")
ap.add_argument("--nodes", type=int, default=3, help="cluster size of both (etcd: cluster.sh for 3, else started here)")
a = ap.parse_args()
a.raftctl = os.path.abspath(a.raftctl)
a.bench = os.path.abspath(a.bench)
CLUSTER_SH = os.path.join(a.bench, "cluster.sh")
PUT_LUA = {"etcd": os.path.join(a.bench, "wrk", "put.lua"), "raftd": os.path.join(a.bench, "wrk", "put-v1.lua")}
PRELOAD_LUA = os.path.join(ROOT, "scripts", "scale", "preload.lua")
RAFT_DIR = os.path.join(a.work, "raft")
ETCD_DIR = os.path.join(a.work, "etcd")
ENV = dict(os.environ, RAFTCTL_CLUSTER_DIR=RAFT_DIR, ETCD_DIR=ETCD_DIR, PROFILE="raft", HEALTH_TIMEOUT="120")


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def run(args, check=True, timeout=600, **kw):
    p = subprocess.run(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: rc={p.returncode}: {p.stderr.strip()[-500:]} {p.stdout[-300:]}")
    return p


def proc_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError as e:
        log(f"cannot reset the peak RSS of {pid}: {e}")


def du(path):
    total = 0
    for base, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                pass
    return total


def http_ok(url, method="GET", path="/", body=None, headers=None, timeout=1.0):
    u = urllib.parse.urlparse(url)
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        r.read()
        c.close()
        return 200 <= r.status < 300
    except OSError:
        return False


# ---- the two systems behind one interface -------------------------------------------------------------------

class System:
    """What both systems answer the same way; each subclass reads its own status."""

    def follower(self):
        return next(n for n in self.nodes() if n.get("role") == "follower")

    def url(self, node):
        return node["clientURL"]

    def pid(self, node):
        return node["pid"]


class Raftd(System):
    name = "raftd"

    def start(self):
        run([a.raftctl, "down", "--purge"], check=False, timeout=120)
        run([a.raftctl, "up", "--nodes", str(a.nodes), "--cluster-dir", RAFT_DIR, "--base-port", "24500"], timeout=300)
        self.wait(lambda: self.leader() is not None, "a leader")

    def stop(self):
        run([a.raftctl, "down"], check=False, timeout=120)

    def status(self):
        out = run([a.raftctl, "status", "--json"], check=False, timeout=30).stdout
        i = out.find("{")
        return json.JSONDecoder().raw_decode(out[i:])[0] if i >= 0 else {"nodes": []}

    def nodes(self):
        return self.status()["nodes"]

    def leader(self):
        for n in self.nodes():
            if n.get("role") == "leader" and n.get("process") == "running":
                return n
        return None

    def data_dirs(self):
        return [os.path.join(RAFT_DIR, d) for d in sorted(os.listdir(RAFT_DIR))
                if os.path.isdir(os.path.join(RAFT_DIR, d))]

    def read_ok(self, node):
        return http_ok(self.url(node), path="/v1/kv/pre-00000000")

    def stop_node(self, node):
        run([a.raftctl, "stop", node["id"]])

    def start_node(self, node):
        run([a.raftctl, "start", node["id"]])

    def node_by_id(self, id):
        return next((n for n in self.nodes() if n["id"] == id), None)

    def committed(self, node):
        return node.get("commitIndex") or 0

    def applied_of(self, id):
        n = self.node_by_id(id)
        return (n or {}).get("appliedIndex") or 0

    def replace(self, node):
        """Returns (the new member's id, its pid), once it runs; the catch-up is awaited by the caller."""
        proc = subprocess.Popen([a.raftctl, "replace-node", node["id"], "--wait", "600s"], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.replacing = proc
        return node["id"]

    def caught_up(self, id, target):
        # `raftctl replace-node` returns once the new member holds everything committed and is a voter again.
        return self.replacing.poll() is not None

    def replace_done(self, id):
        out = self.replacing.communicate(timeout=900)[0]
        log("raftctl replace-node:", out.strip()[-300:])
        return self.replacing.returncode == 0

    def pid_of(self, id):
        n = self.node_by_id(id)
        return (n or {}).get("pid")

    def wait(self, cond, what, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if cond():
                    return
            except Exception:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"raftd: timed out waiting for {what}")


class Etcd(System):
    """Three members through the shared kit's cluster.sh; any other count started here with cluster.sh's flags
    (the `raft` profile: 30 ms heartbeats, 150 ms election timeout), on ports from 25379 on."""
    name = "etcd"

    def __init__(self):
        self.own = a.nodes != 3
        self.pids = {}

    def ports(self, n):
        return 25379 + 10 * (n - 1), 25380 + 10 * (n - 1)

    def member_url(self, n):
        if self.own:
            return f"http://127.0.0.1:{self.ports(n)[0]}"
        return run([CLUSTER_SH, "url", str(n)]).stdout.strip()

    def member_pid(self, n):
        if self.own:
            return self.pids.get(n, 0)
        return int(run([CLUSTER_SH, "pid", str(n)]).stdout.strip() or 0)

    def endpoints(self):
        if self.own:
            return ",".join(self.member_url(n) for n in range(1, a.nodes + 1))
        return run([CLUSTER_SH, "endpoints"]).stdout.strip()

    def start_member(self, n, extra=()):
        if not self.own:
            env = dict(ENV, ETCD_EXTRA_ARGS=" ".join(extra))
            subprocess.run([CLUSTER_SH, "start-member", str(n)], env=env, check=True, capture_output=True, timeout=60)
            return
        name = f"bench{n}"
        client, peer = (f"http://127.0.0.1:{port}" for port in self.ports(n))
        initial = ",".join(f"bench{m}=http://127.0.0.1:{self.ports(m)[1]}" for m in range(1, a.nodes + 1))
        os.makedirs(os.path.join(ETCD_DIR, "data"), exist_ok=True)
        # etcd turns every ETCD_* variable into a flag: keep this script's own out of its environment.
        env = {k: v for k, v in ENV.items() if not k.startswith("ETCD_")}
        logf = open(os.path.join(a.work, f"etcd-{name}.log"), "a")
        proc = subprocess.Popen(
            ["etcd", "--name", name, "--data-dir", os.path.join(ETCD_DIR, "data", name),
             "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
             "--initial-advertise-peer-urls", peer, "--initial-cluster", initial, "--initial-cluster-token",
             "scale-vs-etcd", "--initial-cluster-state", "new", "--heartbeat-interval", "30", "--election-timeout",
             "150", "--logger", "zap", "--log-outputs", "stderr", "--log-level", "info", *extra],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.pids[n] = proc.pid

    def start(self):
        self.stop()
        if not self.own:
            run([CLUSTER_SH, "start"], timeout=300)
            return
        shutil.rmtree(ETCD_DIR, ignore_errors=True)
        for n in range(1, a.nodes + 1):
            self.start_member(n)
        deadline = time.monotonic() + 120
        while not all(http_ok(self.member_url(n), path="/health") for n in range(1, a.nodes + 1)):
            if time.monotonic() > deadline:
                raise RuntimeError("etcd: the members did not become healthy")
            time.sleep(0.2)

    def stop(self):
        if not self.own:
            run([CLUSTER_SH, "stop"], check=False)
            return
        for pid in self.pids.values():
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        for pid in self.pids.values():
            for _ in range(100):
                try:
                    os.waitpid(pid, os.WNOHANG)
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        self.pids = {}

    def endpoint_status(self):
        out = run(["etcdctl", "--endpoints", self.endpoints(), "endpoint", "status", "-w", "json"], check=False,
                  timeout=30).stdout
        return json.loads(out or "[]")

    def members(self):
        return [{"id": n, "clientURL": self.member_url(n), "pid": self.member_pid(n)} for n in range(1, a.nodes + 1)]

    def nodes(self):
        statuses = {s["Endpoint"]: s["Status"] for s in self.endpoint_status()}
        out = []
        for m in self.members():
            s = statuses.get(m["clientURL"])
            if s:
                m["role"] = "leader" if s["leader"] == s["header"]["member_id"] else "follower"
                m["commitIndex"] = s.get("raftIndex", 0)
                m["appliedIndex"] = s.get("raftAppliedIndex", s.get("raftIndex", 0))
                m["memberID"] = s["header"]["member_id"]
            out.append(m)
        return out

    def leader(self):
        return next((n for n in self.nodes() if n.get("role") == "leader"), None)

    def data_dirs(self):
        base = os.path.join(ETCD_DIR, "data")
        return [os.path.join(base, d) for d in sorted(os.listdir(base))]

    def read_ok(self, node):
        key = "cHJlLTAwMDAwMDAw"  # base64("pre-00000000")
        return http_ok(self.url(node), "POST", "/v3/kv/range", json.dumps({"key": key}),
                       {"Content-Type": "application/json"})

    def stop_node(self, node):
        pid = node["pid"]
        os.kill(pid, signal.SIGTERM)
        for _ in range(300):
            if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)

    def start_node(self, node):
        self.start_member(node["id"])

    def committed(self, node):
        return node.get("commitIndex") or 0

    def applied_of(self, id):
        out = run(["etcdctl", "--endpoints", self.member_url(id), "endpoint", "status", "-w", "json"], check=False,
                  timeout=10).stdout
        s = json.loads(out or "[]")
        return s[0]["Status"].get("raftAppliedIndex", 0) if s else 0

    def replace(self, node):
        n = node["id"]
        eps = self.endpoints()
        member_id = format(node["memberID"], "x")
        listing = json.loads(run(["etcdctl", "--endpoints", eps, "member", "list", "-w", "json"]).stdout)
        mine = next(m for m in listing["members"] if format(m["ID"], "x") == member_id)
        name, peer_urls = mine["name"], mine["peerURLs"]
        self.stop_node(node)
        run(["etcdctl", "--endpoints", eps, "member", "remove", member_id])
        shutil.rmtree(os.path.join(ETCD_DIR, "data", name), ignore_errors=True)
        run(["etcdctl", "--endpoints", eps, "member", "add", name, "--peer-urls", ",".join(peer_urls)])
        self.start_member(n, ["--initial-cluster-state", "existing"])
        return n

    def caught_up(self, id, target):
        return self.applied_of(id) >= target

    def replace_done(self, id):
        return True

    def pid_of(self, id):
        return self.member_pid(id)


# ---- measurements --------------------------------------------------------------------------------------------

def parse_wrk(out):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": float(rps.group(1)) if rps else None,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": errors.group(1) if errors else "",
        "raw": out,
    }


def wrk(url, lua, conns, duration, script_args, threads=2, timeout=None):
    args = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}", "--latency", "--timeout", "5s", "-s", lua, url,
            "--"] + script_args
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    return parse_wrk(p.stdout)


def catch_up(sys_, r, prefix, loaded):
    """Replaces a follower whose data is lost and waits until the new member has caught up; records the time, the
    leader's peak RSS over its RSS before, the new member's RSS and peak, and (loaded) the PUT load's figures."""
    leader = sys_.leader()
    follower = sys_.follower()
    target = sys_.committed(leader)
    leader_pid = sys_.pid(leader)
    leader_rss_before = proc_kib(leader_pid, "VmRSS")
    reset_peak(leader_pid)
    load = None
    if loaded:
        load = subprocess.Popen(
            ["wrk", "-t2", "-c64", "-d600s", "--latency", "--timeout", "5s", "-s", PUT_LUA[sys_.name],
             sys_.url(leader), "--", "mode=unique", f"size={a.size}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
    t0 = time.monotonic()
    new_id = sys_.replace(follower)
    while time.monotonic() < t0 + 900:
        try:
            if sys_.caught_up(new_id, target):
                break
        except Exception:
            pass
        time.sleep(0.05)
    r[prefix + "catchup_s"] = time.monotonic() - t0
    if load:
        load.send_signal(signal.SIGINT)
        r["catchup_load"] = parse_wrk(load.communicate(timeout=60)[0])
    sys_.replace_done(new_id)
    time.sleep(3)
    r[prefix + "leader_peak_over_mb"] = ((proc_kib(leader_pid, "VmHWM") or 0) - (leader_rss_before or 0)) / 1024
    new_pid = sys_.pid_of(new_id)
    if new_pid:
        r[prefix + "new_member_rss_mb"] = (proc_kib(new_pid, "VmRSS") or 0) / 1024
        r[prefix + "new_member_peak_over_mb"] = (
            (proc_kib(new_pid, "VmHWM") or 0) - (proc_kib(new_pid, "VmRSS") or 0)) / 1024
    load_text = ""
    if load:
        load_text = f"; load during it {r['catchup_load']['rps']} req/s p99 {r['catchup_load']['p99_ms']} ms"
    log(f"{sys_.name}: wiped member caught up to index {target} in {r[prefix + 'catchup_s']:.1f} s{load_text}; leader"
        f" peak +{r[prefix + 'leader_peak_over_mb']:.0f} MB; new member RSS"
        f" {r.get(prefix + 'new_member_rss_mb', 0):.0f} MB, peak +{r.get(prefix + 'new_member_peak_over_mb', 0):.0f} MB")


def measure(sys_):
    r = {}
    log(f"== {sys_.name}: starting")
    sys_.start()
    leader = sys_.leader()
    api = "etcd" if sys_.name == "etcd" else "v1"
    log(f"{sys_.name}: preloading {a.keys} keys of {a.size} B into {sys_.url(leader)}")
    marker = os.path.join(a.work, f"preload-{sys_.name}")
    for tid in (0, 1):
        if os.path.exists(f"{marker}-{tid}"):
            os.remove(f"{marker}-{tid}")
    t0 = time.monotonic()
    pre = subprocess.Popen(
        ["wrk", "-t2", "-c64", "-d2h", "--timeout", "10s", "-s", PRELOAD_LUA, sys_.url(leader), "--", f"api={api}",
         f"count={a.keys}", f"size={a.size}", "prefix=pre-", "threads=2", f"marker={marker}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not all(os.path.exists(f"{marker}-{tid}") for tid in (0, 1)):
        if pre.poll() is not None:
            raise RuntimeError(f"{sys_.name}: the preload ended early: {pre.stdout.read()} {pre.stderr.read()}")
        time.sleep(0.1)
    r["preload_s"] = time.monotonic() - t0
    pre.send_signal(signal.SIGINT)
    out = pre.communicate(timeout=60)[0]
    r["preload_failed"] = sum(int(open(f"{marker}-{tid}").read() or 0) for tid in (0, 1))
    log(f"{sys_.name}: preload took {r['preload_s']:.0f} s, {r['preload_failed']} writes failed")
    time.sleep(10)
    nodes = sys_.nodes()
    rss = [proc_kib(sys_.pid(n), "VmRSS") for n in nodes]
    r["rss_mb"] = [x / 1024 for x in rss if x]
    r["disk_mb"] = [du(d) / 1e6 for d in sys_.data_dirs()]
    log(f"{sys_.name}: RSS MB {[round(x) for x in r['rss_mb']]}, disk MB {[round(x) for x in r['disk_mb']]}")

    for conns in [int(c) for c in a.conns.split(",")]:
        leader = sys_.leader()
        res = wrk(sys_.url(leader), PUT_LUA[sys_.name], conns, f"{a.duration}s", ["mode=unique", f"size={a.size}"])
        r[f"put{conns}"] = res
        log(f"{sys_.name}: put c={conns}: {res['rps']} req/s, p99 {res['p99_ms']} ms")

    follower = sys_.follower()
    sys_.stop_node(follower)
    time.sleep(2)
    t0 = time.monotonic()
    sys_.start_node(follower)
    deadline = t0 + 600
    while not sys_.read_ok(follower) and time.monotonic() < deadline:
        time.sleep(0.02)
    r["restart_s"] = time.monotonic() - t0
    log(f"{sys_.name}: restart to a linearizable read: {r['restart_s']:.2f} s")
    time.sleep(5)

    # With no load: the memory a snapshot transfer itself takes on either side. Then under a PUT load.
    catch_up(sys_, r, "idle_", loaded=False)
    time.sleep(5)
    catch_up(sys_, r, "", loaded=True)
    sys_.stop()
    return r


def fmt(x, digits=1):
    if x is None:
        return "na"
    return f"{x:,.{digits}f}" if isinstance(x, float) else str(x)


def main():
    os.makedirs(a.work, exist_ok=True)
    systems = {"etcd": Etcd(), "raftd": Raftd()}
    results = {}
    for name in a.systems.split(","):
        try:
            results[name] = measure(systems[name])
        except Exception:
            systems[name].stop()
            raise
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump({k: {kk: vv for kk, vv in v.items()} for k, v in results.items()}, f, indent=1, default=str)
    e, r = results.get("etcd", {}), results.get("raftd", {})

    def row(label, ev, rv, digits=1):
        ratio = rv / ev if (ev and rv is not None) else None
        print(f"| {label} | {fmt(ev, digits)} | {fmt(rv, digits)} | {fmt(ratio, 2)} |")
        return ratio

    print(f"\n{a.keys:,} keys of {a.size} B, {a.nodes} nodes each (`scripts/scale-vs-etcd.py --nodes {a.nodes}`)\n")
    print("| metric | etcd | raftd | ratio raftd/etcd |")
    print("|---|---|---|---|")
    med = lambda xs: statistics.median(xs) if xs else None
    ratios = {}
    ratios["preload"] = row("preload, 64 connections, s (↓)", e.get("preload_s"), r.get("preload_s"))
    ratios["rss"] = row("RSS per node after the load, MB, median (↓)", med(e.get("rss_mb")), med(r.get("rss_mb")))
    row("RSS per node after the load, MB, max (↓)", max(e.get("rss_mb") or [0]) or None,
        max(r.get("rss_mb") or [0]) or None)
    ratios["disk"] = row("on-disk size per node, MB, median (↓)", med(e.get("disk_mb")), med(r.get("disk_mb")))
    for conns in [int(c) for c in a.conns.split(",")]:
        ratios[f"put{conns}"] = row(f"PUT c={conns} req/s (↑)", (e.get(f"put{conns}") or {}).get("rps"),
                                    (r.get(f"put{conns}") or {}).get("rps"), 0)
        row(f"PUT c={conns} p99 ms (↓)", (e.get(f"put{conns}") or {}).get("p99_ms"),
            (r.get(f"put{conns}") or {}).get("p99_ms"), 2)
    ratios["restart"] = row("restart → linearizable read served, s (↓)", e.get("restart_s"), r.get("restart_s"), 2)
    ratios["idle_catchup"] = row("wiped member replaced and caught up, no load, s (↓)", e.get("idle_catchup_s"),
                                 r.get("idle_catchup_s"))
    row("  leader peak RSS over its RSS before, MB (↓)", e.get("idle_leader_peak_over_mb"),
        r.get("idle_leader_peak_over_mb"))
    row("  new member RSS after catching up, MB (↓)", e.get("idle_new_member_rss_mb"),
        r.get("idle_new_member_rss_mb"))
    row("  new member peak RSS over that, MB (↓)", e.get("idle_new_member_peak_over_mb"),
        r.get("idle_new_member_peak_over_mb"))
    ratios["catchup"] = row("wiped member replaced and caught up, PUT load c=64, s (↓)", e.get("catchup_s"),
                            r.get("catchup_s"))
    row("  PUT c=64 req/s during the catch-up (↑)", (e.get("catchup_load") or {}).get("rps"),
        (r.get("catchup_load") or {}).get("rps"), 0)
    row("  PUT c=64 p99 ms during the catch-up (↓)", (e.get("catchup_load") or {}).get("p99_ms"),
        (r.get("catchup_load") or {}).get("p99_ms"), 2)
    row("  leader peak RSS over its RSS before, MB (↓)", e.get("leader_peak_over_mb"),
        r.get("leader_peak_over_mb"))
    row("  new member RSS after catching up, MB (↓)", e.get("new_member_rss_mb"), r.get("new_member_rss_mb"))
    row("  new member peak RSS over that, MB (↓)", e.get("new_member_peak_over_mb"),
        r.get("new_member_peak_over_mb"))
    print("\nRESULT " + " ".join(f"{k}_ratio={fmt(v, 2)}" for k, v in ratios.items()))


main()
