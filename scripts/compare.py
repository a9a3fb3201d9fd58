"""Errata and Bugsink side by side on this machine, in one run: the same load driver
(`errata-load`: concurrent SDK-like clients, mixed sizes, duplicates, invalid requests) sends the
same mix to each, one after the other. For each: ingest throughput and latency as the clients
saw them, how long until every acknowledged event was stored and counted, whether the counts
match what was acknowledged, and the memory of the whole system (peak and idle resident set
of every process it runs: for Errata the local AWS emulator and the Lambda processes it runs;
for Bugsink gunicorn's workers and the snappea worker).

    tests/.venv/bin/python scripts/compare.py [EVENTS] [CLIENTS]     (`make compare`)
"""

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_reconcile import ENV, stored_counts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".errata"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "errata-target"))
LOAD = TARGET / "release" / "errata-load"


def tree(pid):
    """`pid` and all its descendants."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_mb(roots):
    total = 0
    for root in roots:
        for pid in tree(root):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
    return total / 1024


class Sampler(threading.Thread):
    def __init__(self, roots):
        super().__init__(daemon=True)
        self.roots, self.peak, self.samples, self.running = roots, 0.0, [], True

    def run(self):
        while self.running:
            value = rss_mb(self.roots)
            self.peak = max(self.peak, value)
            self.samples.append(value)
            time.sleep(0.5)


def pid_of(path):
    return int(Path(path).read_text().strip())


def run_load(dsn, events, clients, out):
    started = time.monotonic()
    proc = subprocess.run([str(LOAD), dsn, "--events", str(events), "--clients", str(clients), "--out", str(out)],
                          capture_output=True, text=True)
    print(proc.stdout, end="")
    if proc.returncode != 0:
        print(proc.stderr)
    return json.loads(Path(out).read_text()), time.monotonic() - started


def errata_stored(manifest, timeout):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ENV['TOKEN']}"
    deadline = time.monotonic() + timeout
    while True:
        counts = stored_counts(session, manifest["release"])
        if sum(counts.values()) >= manifest["acked"] or time.monotonic() > deadline:
            return counts
        time.sleep(5)


def bugsink_events(release):
    db = sqlite3.connect(f"file:{STATE / 'bugsink' / 'data' / 'db.sqlite3'}?mode=ro", uri=True, timeout=30)
    try:
        [(n,)] = db.execute("SELECT count(*) FROM events_event WHERE release = ?", (release,)).fetchall()
    finally:
        db.close()
    return n


def bugsink_stored(manifest, timeout):
    deadline = time.monotonic() + timeout
    while True:
        n = bugsink_events(manifest["release"])
        if n >= manifest["acked"] or time.monotonic() > deadline:
            return n
        time.sleep(5)


def measure(name, dsn, roots, events, clients, stored):
    idle = rss_mb(roots)
    sampler = Sampler(roots)
    sampler.start()
    manifest, sending = run_load(dsn, events, clients, STATE / f"compare-{name}.json")
    drain_started = time.monotonic()
    count = stored(manifest, 1800)
    drained = time.monotonic() - drain_started
    sampler.running = False
    sampler.join()
    stored_n = sum(count.values()) if isinstance(count, dict) else count
    return {
        "system": name,
        "envelopes_per_second": manifest["envelopes_per_second"],
        "latency_ms": manifest["latency_ms"],
        "sending_s": sending,
        "stored_after_s": drained,
        "acked": manifest["acked"],
        "stored": stored_n,
        "unexpected_answers": manifest["unexpected"],
        "idle_rss_mb": idle,
        "peak_rss_mb": sampler.peak,
        "mean_rss_mb": sum(sampler.samples) / max(len(sampler.samples), 1),
    }


def main():
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    started = subprocess.run(["bash", str(ROOT / "scripts" / "bugsink.sh"), "start"], capture_output=True, text=True, check=True)
    bugsink_dsn = next(line.split("=", 1)[1] for line in started.stdout.splitlines() if line.startswith("BUGSINK_DSN="))
    errata_roots = [pid_of(STATE / "ministack.pid")]
    bugsink_roots = [pid_of(STATE / "bugsink" / "gunicorn.pid"), pid_of(STATE / "bugsink" / "snappea.pid")]
    results = [
        measure("Errata (local stack)", ENV["DSN"], errata_roots, events, clients, errata_stored),
        measure("Bugsink 2.6.2", bugsink_dsn, bugsink_roots, events, clients, bugsink_stored),
    ]
    (STATE / "compare.json").write_text(json.dumps(results, indent=2))
    print(f"\n{events} envelopes from {clients} clients, same mix, same machine ({os.cpu_count()} cores), one after the other:\n")
    print("| system | envelopes/s | p50 / p95 / p99 ms | all stored after | acked → stored | memory idle / peak (mean) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        lat = r["latency_ms"]
        print(f"| {r['system']} | {r['envelopes_per_second']:.0f} | {lat['p50']:.0f} / {lat['p95']:.0f} / {lat['p99']:.0f} | "
              f"{r['sending_s'] + r['stored_after_s']:.0f} s ({r['stored_after_s']:.0f} s after sending) | "
              f"{r['acked']} → {r['stored']} | {r['idle_rss_mb']:.0f} / {r['peak_rss_mb']:.0f} ({r['mean_rss_mb']:.0f}) MB |")


if __name__ == "__main__":
    main()
