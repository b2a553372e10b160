#!/usr/bin/env python3
"""Benchmarks raftctl's own targets (never a test: run on an idle machine, read the medians).

  scripts/bench-raftctl.py [--raftctl .build/release/raftctl] [--trials 10] [--dir /tmp/raftctl-bench]

Measures, each over several trials:
  up      `raftctl up` of a fresh 3-node cluster until it returns (a leader is elected)   target < 1 s
  status  one `raftctl status --json` call                                               target < 50 ms
  kill    `raftctl kill <leader>` until a new leader commits a write (`raftctl put`
          returning 0), then `raftctl start` the node again                              target < 400 ms
Prints a markdown table and a final `RESULT ...` line.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time


def run(raftctl, env, *args, check=True):
    started = time.monotonic()
    done = subprocess.run([raftctl, *args], env=env, capture_output=True, text=True)
    elapsed_ms = (time.monotonic() - started) * 1000
    if check and done.returncode != 0:
        sys.exit(f"raftctl {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done, elapsed_ms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--raftctl", default=".build/release/raftctl")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--dir", default="/tmp/raftctl-bench")
    options = parser.parse_args()
    raftctl = os.path.abspath(options.raftctl)
    env = dict(os.environ, RAFTCTL_CLUSTER_DIR=options.dir)

    up_ms, status_ms, kill_ms = [], [], []
    for trial in range(options.trials):
        run(raftctl, env, "down", "--purge", check=False)
        shutil.rmtree(options.dir, ignore_errors=True)
        _, elapsed = run(raftctl, env, "up")
        up_ms.append(elapsed)
        for _ in range(5):
            _, elapsed = run(raftctl, env, "status", "--json")
            status_ms.append(elapsed)
        time.sleep(0.5)
        view = json.loads(run(raftctl, env, "status", "--json")[0].stdout)
        leader = view["leader"]
        started = time.monotonic()
        run(raftctl, env, "kill", leader)
        attempt = 0
        while True:
            attempt += 1
            done, _ = run(raftctl, env, "put", f"failover-{trial}", str(attempt), check=False)
            if done.returncode == 0:
                break
            if time.monotonic() - started > 30:
                sys.exit(f"trial {trial}: no write committed within 30 s: {done.stderr.strip()}")
        kill_ms.append((time.monotonic() - started) * 1000)
        run(raftctl, env, "start", leader)
    run(raftctl, env, "down", "--purge", check=False)

    def row(name, values, target):
        values = sorted(values)
        return (f"| {name} | {statistics.median(values):.0f} | {values[0]:.0f} | {values[-1]:.0f} | "
                f"{len(values)} | {target} |")

    print("| measurement | median ms | min ms | max ms | runs | target |")
    print("|---|---|---|---|---|---|")
    print(row("`raftctl up` (3 nodes, to an elected leader)", up_ms, "< 1000 ms"))
    print(row("`raftctl status --json`", status_ms, "< 50 ms"))
    print(row("kill leader → new leader commits a write", kill_ms, "< 400 ms"))
    print(f"RESULT up_ms={statistics.median(up_ms):.0f} status_ms={statistics.median(status_ms):.0f} "
          f"kill_to_write_ms={statistics.median(kill_ms):.0f}")


if __name__ == "__main__":
    main()
