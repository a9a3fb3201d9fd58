"""The foundation's vertical slice: the real Python sentry-sdk sends exceptions to the DSN
`make up` printed; the issues come back out of the API in Sentry's shapes."""

import subprocess
import sys
import textwrap
import time
import uuid

import requests

from helpers import new_tag

# Runs in a child process so the SDK is set up exactly as a user's app would do it.
APP = textwrap.dedent(
    """
    import sys, time, sentry_sdk
    dsn, tag = sys.argv[1], sys.argv[2]
    sentry_sdk.init(dsn=dsn, release="e2e@1.0.0", environment="e2e")

    Boom = type("Boom" + tag, (Exception,), {})
    Other = type("Other" + tag, (Exception,), {})

    def divide():
        raise Boom("division went wrong")

    def lookup():
        raise Other("no such key")

    for fn in (divide, divide, lookup):
        try:
            fn()
        except Exception as e:
            sentry_sdk.capture_exception(e)
    print(time.time())
    sentry_sdk.flush(timeout=10)
    """
)


def issues_titled(api, project_path, tag):
    resp = api.get(f"projects/{project_path}/issues/", query=tag, limit=100)
    assert resp.status_code == 200, resp.text
    return [i for i in resp.json() if tag in i["title"]]


def test_identical_exceptions_group_into_one_issue(stack, api):
    tag = new_tag()
    project_path = f"{stack['ORG']}/{stack['PROJECT']}"
    started = time.time()
    out = subprocess.run([sys.executable, "-c", APP, stack["DSN"], tag], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    captured_at = float(out.stdout.strip().splitlines()[-1])

    def both_counted():
        found = issues_titled(api, project_path, tag)
        counts = sorted(int(i["count"]) for i in found)
        return found if counts == [1, 2] else None

    issues = api.wait_for(both_counted, "two issues with counts 2 and 1")
    visible_after = time.time() - captured_at
    print(f"\ncapture_exception → issue visible in the API: {visible_after:.2f}s (whole run {time.time() - started:.2f}s)")

    by_count = {int(i["count"]): i for i in issues}
    boom, other = by_count[2], by_count[1]
    assert boom["title"] == f"Boom{tag}: division went wrong"
    assert other["title"] == f"Other{tag}: no such key"
    assert boom["culprit"] == "__main__ in divide"
    for issue in (boom, other):
        assert issue["status"] == "unresolved"
        assert issue["level"] == "error"
        assert issue["platform"] == "python"
        assert issue["project"]["slug"] == stack["PROJECT"]
        assert issue["firstSeen"] <= issue["lastSeen"]
    assert boom["id"] != other["id"]

    # The latest event of the issue, with the stack trace the SDK sent.
    event = api.get(f"issues/{boom['id']}/events/latest/").json()
    assert event["groupID"] == boom["id"]
    exception = next(e for e in event["entries"] if e["type"] == "exception")
    frames = exception["data"]["values"][0]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "divide"
    assert frames[-1]["context"], "source context lines travel with the frame"
    assert {"key": "release", "value": "e2e@1.0.0"} in event["tags"]
    assert {"key": "environment", "value": "e2e"} in event["tags"]
    assert event["sdk"]["name"] == "sentry.python"


def test_redelivered_envelope_is_not_counted_twice(stack, api):
    """The SDK retries on network errors: the same event id twice must count once."""
    tag = new_tag()
    event_id = uuid.uuid4().hex
    key = stack["KEY"]
    envelope = (
        f'{{"event_id":"{event_id}"}}\n{{"type":"event"}}\n'
        f'{{"event_id":"{event_id}","message":"retried {tag}","level":"warning","platform":"python"}}\n'
    ).encode()
    url = stack["DSN"].replace(f"{key}@", "").rsplit("/", 1)[0] + f"/api/{stack['PROJECT_ID']}/envelope/"
    for _ in range(2):
        resp = requests.post(url, data=envelope, headers={"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"}, timeout=10)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"id": event_id}
    project_path = f"{stack['ORG']}/{stack['PROJECT']}"
    [issue] = api.wait_for(lambda: issues_titled(api, project_path, tag), "the retried event's issue")
    time.sleep(1.5)  # give a second delivery time to be (wrongly) counted
    [issue] = issues_titled(api, project_path, tag)
    assert issue["count"] == "1"
    assert issue["level"] == "warning"


def test_ingest_rejects_bad_keys_with_sentry_errors(stack):
    base = stack["DSN"].replace(f"{stack['KEY']}@", "").rsplit("/", 1)[0]
    url = f"{base}/api/{stack['PROJECT_ID']}/envelope/"
    resp = requests.post(url, data=b'{}\n{"type":"event"}\n{}\n', headers={"X-Sentry-Auth": "Sentry sentry_key=" + "0" * 32}, timeout=10)
    assert resp.status_code == 401
    assert resp.headers["X-Sentry-Error"] == "unknown DSN key"
    resp = requests.post(url, data=b"{}\n", timeout=10)
    assert resp.status_code == 401


def test_api_requires_a_valid_token(stack):
    resp = requests.get(stack["API"] + f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/", timeout=10)
    assert resp.status_code == 401
    resp = requests.get(stack["API"] + f"projects/{stack['ORG']}/{stack['PROJECT']}/issues/", headers={"Authorization": "Bearer errata_" + "0" * 64}, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["detail"] == "Invalid token"
