"""End-to-end latency on the local stack: the real Python SDK captures an exception, and the
clock runs until the issue is visible through the API. Prints p50/p95/max over N events.

    tests/.venv/bin/python scripts/bench_e2e.py [N]      (after `make up`; `make bench` runs it)
"""

import random
import statistics
import sys
import time
from pathlib import Path

import requests
import sentry_sdk

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(line.split("=", 1) for line in (ROOT / ".errata" / "local.env").read_text().splitlines() if "=" in line)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    sentry_sdk.init(dsn=ENV["DSN"], release="bench@1", default_integrations=False)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ENV['TOKEN']}"
    issues = f"{ENV['API']}projects/{ENV['ORG']}/{ENV['PROJECT']}/issues/"
    latencies = []
    for i in range(n):
        tag = "".join(random.choice("ghjkmnpqrstvwxyz") for _ in range(12))
        started = time.monotonic()
        try:
            raise type(f"Bench{tag}", (Exception,), {})(f"latency probe {tag}")
        except Exception as e:  # noqa: BLE001 - the exception is the payload
            sentry_sdk.capture_exception(e)
        sentry_sdk.flush(timeout=10)
        deadline = started + 30
        while time.monotonic() < deadline:
            found = session.get(issues, params={"query": f"is:unresolved {tag}"}, timeout=10).json()
            if found:
                latencies.append(time.monotonic() - started)
                break
            time.sleep(0.02)
        else:
            sys.exit(f"event {i} ({tag}) was not visible after 30 s")
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    print(f"SDK capture → issue visible in the API, {n} events, one at a time:")
    print(f"  p50 {statistics.median(latencies):.2f} s   p95 {p95:.2f} s   max {latencies[-1]:.2f} s")


if __name__ == "__main__":
    main()
