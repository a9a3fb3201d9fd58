"""Checks a load run (`errata-load … --out MANIFEST`) against what the stack stored: each
group's issue counts exactly the events acknowledged for it (duplicates counted once, invalid
ones not at all), no issue outside the acknowledged groups, and every dead-letter queue empty.
Polls until the counts settle (processing is asynchronous) or the time runs out.

    tests/.venv/bin/python scripts/load_reconcile.py MANIFEST [TIMEOUT_SECONDS]
"""

import json
import sys
import time
from pathlib import Path

import boto3
import requests

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(line.split("=", 1) for line in (ROOT / ".errata" / "local.env").read_text().splitlines() if "=" in line)


def stored_counts(session, release):
    """Issue type → event count, over every page of the run's issues."""
    counts, url = {}, f"{ENV['API']}projects/{ENV['ORG']}/{ENV['PROJECT']}/issues/"
    params = {"query": f"release:{release}", "limit": "100", "statsPeriod": ""}
    while True:
        resp = session.get(url, params=params, timeout=60)
        if resp.status_code == 503:  # an event-store query still running
            time.sleep(2)
            continue
        resp.raise_for_status()
        for issue in resp.json():
            kind = issue["metadata"].get("type") or issue["title"].split(":")[0]
            counts[kind] = counts.get(kind, 0) + int(issue["count"])
        nxt = resp.links.get("next")
        if not nxt or nxt.get("results") != "true":
            return counts
        params = {**params, "cursor": nxt["cursor"]}


def dead_letters():
    sqs = boto3.client("sqs", endpoint_url=ENV["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    out = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        if "dlq" in url.lower() or "deadletter" in url.lower():
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            out[url.rsplit("/", 1)[-1]] = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    return out


def main():
    manifest = json.loads(Path(sys.argv[1]).read_text())
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 900
    expected = manifest["acked_per_group"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ENV['TOKEN']}"
    deadline, started = time.monotonic() + timeout, time.monotonic()
    while True:
        stored = stored_counts(session, manifest["release"])
        total = sum(stored.values())
        if stored == expected or time.monotonic() > deadline:
            break
        print(f"  {time.monotonic() - started:.0f} s: {total} of {manifest['acked']} events counted in {len(stored)} issues", flush=True)
        time.sleep(10)
    settled = time.monotonic() - started
    missing = {g: n - stored.get(g, 0) for g, n in expected.items() if stored.get(g, 0) < n}
    extra = {g: stored.get(g, 0) - expected.get(g, 0) for g in stored if stored.get(g, 0) > expected.get(g, 0)}
    dlqs = dead_letters()
    print(f"reconciled load run {manifest['release']} ({settled:.0f} s after sending ended):")
    print(f"  acknowledged {manifest['acked']} events in {len(expected)} groups; stored {total} in {len(stored)} issues")
    print(f"  lost: {sum(missing.values())} {dict(list(missing.items())[:5]) if missing else ''}")
    print(f"  counted twice or unexpected: {sum(extra.values())} {dict(list(extra.items())[:5]) if extra else ''}")
    print(f"  invalid requests answered as expected: {manifest['unexpected'] == 0} ({manifest['unexpected']} not)")
    print(f"  dead-letter queues: {dlqs}")
    ok = not missing and not extra and manifest["unexpected"] == 0 and not any(dlqs.values())
    print("OK: nothing lost, nothing counted twice" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
