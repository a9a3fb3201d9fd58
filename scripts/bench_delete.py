"""Deleting a large issue on the local stack: N events of one group (every tenth with an
attachment) are sent through ingest, then the issue is deleted through the API and timed: how
long the request took, how many events it purged (the rest is left to the hourly maintenance
run), and how long until the issue's events and attachments are all gone.

    tests/.venv/bin/python scripts/bench_delete.py [N]        (after `make up`; N default 2000)

Each run makes its own project, so runs do not disturb each other or the demo project.
"""

import concurrent.futures
import json
import sys
import time
import uuid
from pathlib import Path

import boto3
import requests

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(line.split("=", 1) for line in (ROOT / ".errata" / "local.env").read_text().splitlines() if "=" in line)


def envelope(i, tag):
    event_id = uuid.uuid4().hex
    event = {"event_id": event_id, "message": f"one big issue {tag}", "level": "error", "fingerprint": [f"big-{tag}"]}
    parts = [json.dumps({"event_id": event_id}), json.dumps({"type": "event"}), json.dumps(event)]
    if i % 10 == 0:
        parts += [json.dumps({"type": "attachment", "length": 5, "filename": "a.txt"}), "hello"]
    return ("\n".join(parts) + "\n").encode()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    api = ENV["API"]
    auth = {"Authorization": f"Bearer {ENV['TOKEN']}"}
    tag = uuid.uuid4().hex[:8]
    project = requests.post(f"{api}organizations/{ENV['ORG']}/projects/", json={"name": f"delete-{tag}"}, headers=auth, timeout=30).json()
    key = requests.get(f"{api}projects/{ENV['ORG']}/{project['slug']}/keys/", headers=auth, timeout=30).json()[0]
    # A new key's default rate limit (1,000 a minute) would refuse the burst: lift it.
    lifted = requests.put(f"{api}projects/{ENV['ORG']}/{project['slug']}/keys/{key['id']}/", json={"rateLimit": None},
                          headers=auth, timeout=30)
    assert lifted.status_code == 200, lifted.text
    url = ENV["DSN"].replace(f"{ENV['KEY']}@", "").rsplit("/", 1)[0] + f"/api/{project['id']}/envelope/"
    headers = {"X-Sentry-Auth": f"Sentry sentry_key={key['public']}, sentry_version=7"}
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=16))
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        for r in pool.map(lambda i: session.post(url, data=envelope(i, tag), headers=headers, timeout=30), range(n)):
            assert r.status_code == 200, r.text
    issues = f"{api}projects/{ENV['ORG']}/{project['slug']}/issues/"
    deadline = time.monotonic() + 600
    while True:
        found = requests.get(issues, headers=auth, timeout=30).json()
        if found and int(found[0]["count"]) >= n:
            break
        assert time.monotonic() < deadline, f"the issue never reached {n} events: {found}"
        time.sleep(1)
    issue_id = found[0]["id"]

    started = time.monotonic()
    resp = requests.delete(f"{api}issues/{issue_id}/", headers=auth, timeout=60)
    request_s = time.monotonic() - started
    assert resp.status_code == 202, resp.text
    aws = {"endpoint_url": ENV["AWS_ENDPOINT_URL"], "region_name": "us-east-1",
           "aws_access_key_id": "test", "aws_secret_access_key": "test"}
    dynamodb = boto3.client("dynamodb", **aws)
    table = next(t for t in dynamodb.list_tables()["TableNames"] if "ErrataIssues" in t)
    marker = lambda: "Item" in dynamodb.get_item(TableName=table, Key={"pk": {"S": "PURGE"}, "sk": {"S": f"{project['id']}#{issue_id}"}})
    left = marker()
    runs = 0
    lam = boto3.client("lambda", **aws)
    while marker():
        # What the request left: the hourly run (the processor's compaction payload) finishes
        # it, as many runs as it takes; invoked back to back here.
        lam.invoke(FunctionName=ENV["PROCESSOR_FUNCTION"], Payload=json.dumps({"compact": {}}).encode())
        runs += 1
        assert runs < 100, "the purge does not finish"
    total_s = time.monotonic() - started
    s3 = boto3.client("s3", **aws)
    remaining = s3.list_objects_v2(Bucket=ENV["EVENTS_BUCKET"], Prefix=f"attachments/{project['id']}/").get("KeyCount", 0)
    print(f"issue of {n} events ({n // 10} attachments): DELETE answered in {request_s:.2f} s "
          f"({f'the rest by {runs} maintenance run(s)' if left else 'everything purged within the request'}); "
          f"all gone after {total_s:.2f} s, {n / total_s:.0f} events/s; attachments left: {remaining}")
    assert remaining == 0


if __name__ == "__main__":
    main()
