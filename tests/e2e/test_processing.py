"""Processing end to end with the real Python SDK: fingerprints, the issue lifecycle
(resolve → regressed), event pages, and the Parquet event store queried through Athena."""

import json
import os
import subprocess
import sys
import textwrap
import time

import boto3
import pytest

from helpers import new_tag, wait_for_issues

# A user's app: exceptions, optionally fingerprinted, plus transactions.
APP = textwrap.dedent(
    """
    import sys, sentry_sdk
    dsn, tag, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    sentry_sdk.init(dsn=dsn, release=sys.argv[4] if len(sys.argv) > 4 else "proc@1.0", traces_sample_rate=1.0)

    def fail(kind):
        raise type(kind + tag, (Exception,), {})("payment failed")

    if mode == "fingerprint":
        for kind in ("CardDeclined", "GatewayTimeout"):
            with sentry_sdk.new_scope() as scope:
                scope.fingerprint = ["payments", tag]
                try:
                    fail(kind)
                except Exception as e:
                    sentry_sdk.capture_exception(e)
        # Same types without the fingerprint: grouped by their own stack traces.
        for kind in ("CardDeclined", "GatewayTimeout"):
            try:
                fail(kind)
            except Exception as e:
                sentry_sdk.capture_exception(e)
    else:
        count = int(mode)
        for _ in range(count):
            try:
                fail("Counted")
            except Exception as e:
                sentry_sdk.capture_exception(e)
        for _ in range(2):
            with sentry_sdk.start_transaction(op="task", name="tx-" + tag):
                pass
    sentry_sdk.flush(timeout=10)
    """
)


def run_app(stack, tag, mode, release=None):
    args = [sys.executable, "-c", APP, stack["DSN"], tag, mode] + ([release] if release else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def wait_for_count(api, stack, tag, count):
    """Waits until the one issue matching `tag` has counted `count` events; returns it."""
    return api.wait_for(
        lambda: (lambda f: f[0] if f and f[0]["count"] == str(count) else None)(wait_for_issues(api, stack, tag, 1)),
        f"{count} events counted",
    )


def put(api, path, body, **params):
    return api.session.put(f"{api.base}/{path}", json=body, params=params, timeout=30)


def test_fingerprint_groups_across_types_and_default_grouping_splits(stack, api):
    tag = new_tag()
    run_app(stack, tag, "fingerprint")
    issues = wait_for_issues(api, stack, tag, 3)
    counts = sorted(int(i["count"]) for i in issues)
    assert counts == [1, 1, 2], issues
    grouped = next(i for i in issues if i["count"] == "2")
    events = api.get(f"issues/{grouped['id']}/events/").json()
    titles = sorted(e["title"] for e in events)
    assert titles == [f"CardDeclined{tag}: payment failed", f"GatewayTimeout{tag}: payment failed"]


def test_resolved_issue_regresses_on_a_new_event(stack, api):
    tag = new_tag()
    run_app(stack, tag, "1")
    [issue] = wait_for_issues(api, stack, tag, 1)
    assert (issue["status"], issue["substatus"], issue["firstRelease"]["version"]) == ("unresolved", "new", "proc@1.0")

    resp = put(api, f"issues/{issue['id']}/", {"status": "resolved"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "resolved"
    resolved = api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/", query=f"is:resolved {tag}").json()
    assert [i["id"] for i in resolved] == [issue["id"]]

    time.sleep(0.05)  # the next event is clearly after the resolve
    run_app(stack, tag, "1", release="proc@1.1")

    def regressed():
        found = api.get(f"issues/{issue['id']}/").json()
        return found if found["status"] == "unresolved" else None

    found = api.wait_for(regressed, "the resolved issue to reopen")
    assert found["substatus"] == "regressed"
    assert found["count"] == "2"
    assert found["lastRelease"]["version"] == "proc@1.1"
    listed = api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/", query=f"is:regressed {tag}").json()
    assert [i["id"] for i in listed] == [issue["id"]]
    oldest = api.get(f"issues/{issue['id']}/events/oldest/").json()
    latest = api.get(f"issues/{issue['id']}/events/latest/").json()
    assert oldest["eventID"] != latest["eventID"]
    assert {"key": "release", "value": "proc@1.1"} in latest["tags"]
    # Each event is also readable by id under its project.
    by_id = api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/events/{oldest['eventID']}/").json()
    assert by_id["groupID"] == issue["id"]


def athena(stack, sql, timeout=60.0):
    """Runs `sql` through the Athena API (start → poll → results); returns rows as lists."""
    client = aws(stack, "athena")
    qid = client.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": stack["ATHENA_DATABASE"]},
        WorkGroup=stack["ATHENA_WORKGROUP"],
    )["QueryExecutionId"]
    deadline = time.monotonic() + timeout
    while True:
        state = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"Athena query still {state['State']} after {timeout}s: {sql}")
        time.sleep(0.2)
    assert state["State"] == "SUCCEEDED", state
    rows = client.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return [[c.get("VarCharValue") for c in r["Data"]] for r in rows[1:]]


def test_athena_counts_events_and_transactions_in_parquet(stack, api):
    tag = new_tag()
    run_app(stack, tag, "5")
    issue = wait_for_count(api, stack, tag, 5)
    pid = int(stack["PROJECT_ID"])
    [[events, users]] = athena(
        stack,
        f"SELECT count(DISTINCT event_id), count(DISTINCT user_hash) FROM events "
        f"WHERE project_id = {pid} AND issue_id = {issue['id']}",
    )
    assert int(events) == int(issue["count"]) == 5

    def transactions():
        rows = athena(
            stack,
            f"SELECT count(DISTINCT event_id), min(duration_ms) FROM events WHERE project_id = {pid} "
            f"AND event_type = 'transaction' AND \"transaction\" = 'tx-{tag}'",
        )
        return rows if rows[0][0] == "2" else None

    [[count, duration]] = api.wait_for(transactions, "two transaction rows")
    assert float(duration) >= 0
    # Tags and partitions: the release tag, and today's partition holds the rows.
    [[release_rows]] = athena(
        stack,
        f"SELECT count(*) FROM events WHERE project_id = {pid} AND issue_id = {issue['id']} "
        f"AND tags['release'] = 'proc@1.0' AND dt = '{time.strftime('%Y-%m-%d', time.gmtime())}'",
    )
    assert int(release_rows) >= 5


def aws(stack, service):
    return boto3.client(
        service,
        endpoint_url=stack["AWS_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_compaction_merges_partition_files_and_drops_duplicate_rows(stack, api):
    """What the hourly schedule sends: merge the small per-batch files; counts do not change."""
    tag = new_tag()
    run_app(stack, tag, "3")
    wait_for_count(api, stack, tag, 3)
    pid = int(stack["PROJECT_ID"])
    day = time.strftime("%Y-%m-%d", time.gmtime())
    s3 = aws(stack, "s3")
    bucket = stack["EVENTS_BUCKET"]
    prefix = f"parquet/events/project_id={pid}/dt={day}/"

    def files():
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]

    before = files()
    assert len(before) > 1, "every batch wrote its own file"
    count_sql = f"SELECT count(*), count(DISTINCT event_id) FROM events WHERE project_id = {pid} AND dt = '{day}'"
    [[_, distinct_before]] = athena(stack, count_sql)

    resp = aws(stack, "lambda").invoke(FunctionName=stack["PROCESSOR_FUNCTION"], Payload=b'{"compact": {}}')
    result = resp["Payload"].read().decode()
    assert "FunctionError" not in resp, result
    done = json.loads(result)
    assert done["files_in"] >= len(before) and done["files_out"] >= 1, done
    after = files()
    assert len(after) == 1 and "compacted-" in after[0], after
    [[rows_after, distinct_after]] = athena(stack, count_sql)
    assert distinct_after == distinct_before
    assert rows_after == distinct_after, "duplicate rows from redeliveries are gone"
