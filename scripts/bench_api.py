"""API latency on the local stack with a big project: N issues (default 10,000), spread over
the last 30 days, sent through ingest and the processor like any event. Then the issue list is
timed for the queries people run (first pages, filters, text, sorts, a second page), and the
event-store queries (sparklines, tag search, tags of an issue) cold and cached.

    tests/.venv/bin/python scripts/bench_api.py [N] [REPEAT] [PROJECT]     (after `make up`)

Each run makes its own project, so runs do not disturb each other or the demo project; give
the slug of an earlier run's project as PROJECT to measure it again without sending.
"""

import concurrent.futures
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import boto3
import requests

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(line.split("=", 1) for line in (ROOT / ".errata" / "local.env").read_text().splitlines() if "=" in line)
DAY = 86_400


def envelope(i, now, tag):
    """One error event of its own group (fingerprint), seen some time in the last 30 days."""
    ts = now - random.uniform(0, 29.5 * DAY)
    event = {
        "event_id": uuid.uuid4().hex,
        "timestamp": ts,
        "platform": "python",
        "level": random.choice(["error", "error", "error", "warning", "fatal"]),
        "environment": random.choice(["production", "production", "staging"]),
        "release": f"shop@{random.randint(1, 40)}",
        "fingerprint": [f"group-{tag}-{i}"],
        "tags": {"customer": random.choice(["gold", "silver", "bronze"]), "region": f"r{random.randint(1, 6)}"},
        "exception": {"values": [{"type": f"Error{i % 97}", "value": f"failure number {i} in {tag}"}]},
        "user": {"id": str(random.randint(1, 5000))},
    }
    header = json.dumps({"event_id": event["event_id"], "sent_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})
    body = json.dumps(event)
    return f'{header}\n{{"type":"event","length":{len(body)}}}\n{body}\n'.encode()


def send(url, headers, n, tag):
    now = time.time()
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=16))

    def post(i):
        for _ in range(5):
            r = session.post(url, data=envelope(i, now, tag), headers=headers, timeout=30)
            if r.status_code == 200:
                return
            time.sleep(0.5)
        raise SystemExit(f"event {i}: {r.status_code} {r.text}")

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(post, range(n)))


def count(reader, list_url):
    """Every issue of the project, by pages of 100."""
    total, cursor = 0, None
    while True:
        r = reader.get(list_url, params={"query": "", "limit": 100, **({"cursor": cursor} if cursor else {})}, timeout=60)
        total += len(r.json())
        nxt = [p for p in r.headers["Link"].split(", <") if 'rel="next"' in p][0]
        if 'results="true"' not in nxt:
            return total
        cursor = nxt.rsplit('cursor="', 1)[1].rstrip('"')


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p))]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    api = ENV["API"]
    login = requests.post(api + "auth/login/", json={"email": ENV["LOGIN"], "password": ENV["PASSWORD"]}, timeout=30)
    login.raise_for_status()
    cookie = login.headers["Set-Cookie"].split(";")[0]
    owner = requests.Session()
    owner.headers.update({"Cookie": cookie, "Content-Type": "application/json"})
    tag = "".join(random.choice("ghjkmnpqrstvwxyz") for _ in range(8))
    if len(sys.argv) > 3:
        project = owner.get(f"{api}projects/{ENV['ORG']}/{sys.argv[3]}/", timeout=30).json()
    else:
        project = owner.post(f"{api}organizations/{ENV['ORG']}/projects/", json={"name": f"bench {tag}"}, timeout=30).json()
    slug, pid = project["slug"], project["id"]
    key = owner.get(f"{api}projects/{ENV['ORG']}/{slug}/keys/", timeout=30).json()[0]["public"]
    # A new key's default rate limit (1,000 a minute) would refuse the burst: lift it.
    lifted = owner.put(f"{api}projects/{ENV['ORG']}/{slug}/keys/{key}/", json={"rateLimit": None}, timeout=30)
    assert lifted.status_code == 200, lifted.text
    url = f"{api.removesuffix('api/0/')}api/{pid}/envelope/"
    headers = {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7", "Content-Type": "application/x-sentry-envelope"}

    list_url = f"{api}projects/{ENV['ORG']}/{slug}/issues/"
    reader = requests.Session()
    reader.headers["Authorization"] = f"Bearer {ENV['TOKEN']}"
    started = time.monotonic()
    if len(sys.argv) <= 3:
        print(f"Sending {n} events, one new issue each, over 30 days, to project {slug} …", flush=True)
        send(url, headers, n, tag)
        print(f"  sent in {time.monotonic() - started:.0f} s", flush=True)
    # Wait for the processor to drain the queue, then count once.
    outputs = json.loads((ROOT / ".errata" / "outputs.json").read_text())["errata"]
    sqs = boto3.client("sqs", endpoint_url=ENV["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    while True:
        attrs = sqs.get_queue_attributes(QueueUrl=outputs["EnvelopeQueueUrl"], AttributeNames=["All"])["Attributes"]
        if int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 0:
            break
        time.sleep(5)
    stored = count(reader, list_url)
    print(f"  {stored} issues stored after {time.monotonic() - started:.0f} s", flush=True)
    if stored < n:
        sys.exit(f"only {stored} of {n} issues")

    # A tenth resolved, like a project in use.
    first = reader.get(list_url, params={"limit": 100, "sort": "freq"}, timeout=30).json()
    ids = [i["id"] for i in first]
    reader.put(list_url, params={"id": ids}, json={"status": "resolved"}, timeout=30)

    cursor = reader.get(list_url, params={"limit": 25}, timeout=30).headers["Link"].rsplit('cursor="', 1)[1].rstrip('"')
    slow = max(5, repeat // 10)
    queries = [
        ("first page (is:unresolved, by last seen)", {}, repeat),
        ("filtered: level:error environment:production", {"query": "is:unresolved level:error environment:production"}, repeat),
        ("filtered: !level:warning firstRelease:shop@7", {"query": "is:unresolved !level:warning firstRelease:shop@7"}, slow),
        ("text: \"failure number 12\"", {"query": 'is:unresolved "failure number 12"'}, slow),
        ("is:resolved", {"query": "is:resolved"}, repeat),
        ("sort=new", {"sort": "new"}, repeat),
        ("sort=freq (ranks the period's issues)", {"sort": "freq"}, slow),
        ("second page (cursor)", {"cursor": cursor}, repeat),
    ]
    print(f"\nIssue list, {stored} issues in the project, limit 25 (ms):")
    print(f"  {'query':48} {'runs':>5} {'p50':>7} {'p95':>7} {'max':>7}  results")
    for name, params, runs in queries:
        times, found = [], 0
        for _ in range(runs):
            t = time.monotonic()
            r = reader.get(list_url, params={"limit": 25, **params}, timeout=60)
            times.append((time.monotonic() - t) * 1000)
            assert r.status_code == 200, r.text
            found = len(r.json())
        print(f"  {name:48} {runs:5} {statistics.median(times):7.1f} {percentile(times, 0.95):7.1f} {max(times):7.1f}  {found}")

    # The hourly schedule compacts today's and yesterday's partitions; these events span 30
    # days, so compact them all once, as the schedule would have over those days.
    days = [time.strftime("%Y-%m-%d", time.gmtime(time.time() - d * DAY)) for d in range(32)]
    lam = boto3.client("lambda", endpoint_url=ENV["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    t = time.monotonic()
    files = 0
    for day in days:  # one day per invocation, within the function's timeout
        done = lam.invoke(FunctionName=outputs["ProcessorFunction"], Payload=json.dumps({"compact": {"days": [day]}}).encode())
        files += json.loads(done["Payload"].read()).get("files_in", 0)
    print(f"\nCompacted {files} Parquet files into one per partition in {time.monotonic() - t:.0f} s")
    print("\nEvent-store queries (Athena on the emulator), first call / cached (ms):")
    issue = first[-1]["id"]
    for name, path, params in [
        ("sparklines: statsPeriod=24h", list_url, {"statsPeriod": "24h", "limit": 25}),
        ("sparklines: statsPeriod=14d", list_url, {"statsPeriod": "14d", "limit": 25}),
        ("tag search: customer:gold", list_url, {"query": "is:unresolved customer:gold", "limit": 25}),
        ("issue tags", f"{api}issues/{issue}/tags/", {}),
        ("issue stats 30d", f"{api}issues/{issue}/stats/", {"statsPeriod": "30d"}),
        ("releases", f"{api}projects/{ENV['ORG']}/{slug}/releases/", {}),
    ]:
        samples = []
        for _ in range(2):
            t = time.monotonic()
            while True:
                r = reader.get(path, params=params, timeout=60)
                if r.status_code != 503 and r.headers.get("x-errata-stats") != "pending":
                    break
            samples.append((time.monotonic() - t) * 1000)
            assert r.status_code == 200, r.text
        print(f"  {name:48} {samples[0]:7.0f} / {samples[1]:.0f}")


if __name__ == "__main__":
    main()
