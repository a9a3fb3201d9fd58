"""Alerts on the local stack: rules made through the API, events sent by the real Python SDK,
the e-mails read from the emulator's SES mailbox."""

import subprocess
import sys
import time

import pytest
import requests

from helpers import new_tag
from test_api import Client, session_cookie

# Sends COUNT errors of one issue (its fingerprint is the message) to a DSN; argv: dsn message count
APP = r"""
import sys, sentry_sdk
dsn, message, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sentry_sdk.init(dsn=dsn, release="shop@2")
for _ in range(count):
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = [message]
        try:
            raise RuntimeError(message)
        except RuntimeError as e:
            sentry_sdk.capture_exception(e)
sentry_sdk.flush(10)
"""


def send(dsn, message, count=1):
    out = subprocess.run([sys.executable, "-c", APP, dsn, message, str(count)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def mails(stack, text):
    data = requests.get(stack["AWS_ENDPOINT_URL"] + "/_ministack/ses/messages", timeout=10).json()
    return [m for msgs in data["messages"].values() for m in msgs if text in m["Subject"]]


def wait_for_mails(stack, text, count, timeout=60.0):
    deadline = time.monotonic() + timeout
    while len(found := mails(stack, text)) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{len(found)} of {count} mails about {text!r} after {timeout}s")
        time.sleep(0.5)
    return found


def new_project(stack, owner, name):
    """A new project of the demo organization (rules are read by the processor once a minute:
    a new project's rules are all there by its first event); its slug and DSN."""
    created = owner.call("POST", f"organizations/{stack['ORG']}/projects/", {"name": name})
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    return slug, owner.get(f"projects/{stack['ORG']}/{slug}/keys/").json()[0]["dsn"]["public"]


@pytest.fixture(scope="module")
def shop(stack):
    """A new project (with its default rule) and the owner's session."""
    login = requests.post(stack["API"] + "auth/login/", json={"email": stack["LOGIN"], "password": stack["PASSWORD"]}, timeout=30)
    assert login.status_code == 200, login.text
    owner = Client(stack["API"], cookie=session_cookie(login))
    tag = new_tag()
    slug, dsn = new_project(stack, owner, f"alerts {tag}")
    return owner, slug, dsn, tag


def test_rules_fire_once_per_issue_and_window(stack, shop):
    owner, slug, dsn, tag = shop
    rules_path = f"projects/{stack['ORG']}/{slug}/rules/"
    [default] = owner.get(rules_path).json()
    assert default["conditions"] == [{"id": "first_seen"}, {"id": "regression"}]
    # Rules are read by the processor once a minute: make them all before the first event.
    burst = owner.call("POST", rules_path, {
        "name": "Bursts", "frequency": 60,
        "conditions": [{"id": "event_frequency", "value": 3, "interval_minutes": 60}],
        "filters": [{"id": "level", "at_least": "error"}],
        "actions": [{"id": "email", "addresses": [f"oncall-{tag}@example.test"]}],
    })
    assert burst.status_code == 201, burst.text
    bad = owner.call("POST", rules_path, {"name": "x", "conditions": [{"id": "never"}], "actions": [{"id": "email"}], "frequency": 5})
    assert bad.status_code == 400

    # A burst of 10 events of one new issue: one mail to the members (new issue), one to
    # on-call (past 3 events), nothing more.
    send(dsn, f"burst {tag}", 10)
    new_issue = wait_for_mails(stack, f"burst {tag}", 2)
    time.sleep(3)  # anything more would have arrived by now
    found = mails(stack, f"burst {tag}")
    assert len(found) == 2, [(m["To"], m["Subject"]) for m in found]
    to = sorted(tuple(m["To"]) for m in found)
    assert to == sorted([(stack["LOGIN"],), (f"oncall-{tag}@example.test",)])
    members_mail = next(m for m in new_issue if m["To"] == [stack["LOGIN"]])
    assert members_mail["Subject"] == f"[{slug}] ERROR: RuntimeError: burst {tag}"
    assert "a new issue" in members_mail["BodyText"] and "Release: shop@2" in members_mail["BodyText"]
    assert "/organizations/" in members_mail["BodyText"] and "Mute this alert" in members_mail["BodyText"]
    oncall = next(m for m in found if m["To"] != [stack["LOGIN"]])
    assert "more than 3 events in 60 minutes" in oncall["BodyText"]

    # The issue page's "notified at".
    issues = owner.get(f"projects/{stack['ORG']}/{slug}/issues/", query=f'"burst {tag}"').json()
    notified = owner.until(f"issues/{issues[0]['id']}/notifications/", lambda r: len(r.json()) == 2, "notification records").json()
    assert {n["ruleName"] for n in notified} == {default["name"], "Bursts"}

    # Another issue is another notification of the default rule.
    send(dsn, f"second {tag}")
    wait_for_mails(stack, f"second {tag}", 1)


class Receiver:
    """A local HTTP endpoint that records what is POSTed to it (the notifier runs on this host)."""

    def __init__(self):
        import http.server
        import threading

        self.calls = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_webhooks_slack_and_signed_generic(stack, shop):
    import hashlib
    import hmac
    import json

    owner, _, _, tag = shop
    slug, dsn = new_project(stack, owner, f"hooks {tag}")
    receiver = Receiver()
    try:
        rule = owner.call("POST", f"projects/{stack['ORG']}/{slug}/rules/", {
            "name": "To chat and to the pager", "frequency": 30,
            "conditions": [{"id": "first_seen"}],
            "actions": [
                {"id": "webhook", "url": f"{receiver.url}/slack", "format": "slack"},
                {"id": "webhook", "url": f"{receiver.url}/generic", "format": "generic", "secret": "s3cret"},
            ],
        })
        assert rule.status_code == 201, rule.text
        send(dsn, f"hooked <b>{tag}</b>")
        deadline = time.monotonic() + 60
        while len(receiver.calls) < 2:
            assert time.monotonic() < deadline, receiver.calls
            time.sleep(0.2)
        calls = {path: (headers, body) for path, headers, body in receiver.calls}
        slack = json.loads(calls["/slack"][1])
        assert slack["text"] == f"[{slug}] ERROR: RuntimeError: hooked &lt;b&gt;{tag}&lt;/b&gt;"
        assert "/organizations/" in slack["blocks"][0]["text"]["text"]
        headers, body = calls["/generic"]
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers.get("x-errata-signature") == expected, headers
        generic = json.loads(body)
        assert generic["rule"]["name"] == "To chat and to the pager"
        assert generic["issue"]["title"] == f"RuntimeError: hooked <b>{tag}</b>"
        assert generic["reason"] == "a new issue"
    finally:
        receiver.close()


def test_a_regression_alerts(stack, shop):
    owner, _, _, tag = shop
    slug, dsn = new_project(stack, owner, f"regress {tag}")
    rules_path = f"projects/{stack['ORG']}/{slug}/rules/"
    [default] = owner.get(rules_path).json()
    assert owner.call("DELETE", f"{rules_path}{default['id']}/").status_code == 204
    rule = owner.call("POST", rules_path, {
        "name": "Regressions", "frequency": 1, "conditions": [{"id": "regression"}],
        "actions": [{"id": "email", "addresses": [f"regress-{tag}@example.test"]}],
    })
    assert rule.status_code == 201, rule.text
    send(dsn, f"comes back {tag}")
    issues_path = f"projects/{stack['ORG']}/{slug}/issues/"
    [issue] = owner.until(issues_path, lambda r: len(r.json()) == 1, "the issue").json()
    assert owner.call("PUT", f"issues/{issue['id']}/", {"status": "resolved"}).status_code == 200
    time.sleep(1.1)  # a later event than the resolution
    send(dsn, f"comes back {tag}")
    [mail] = wait_for_mails(stack, f"comes back {tag}", 1)
    assert mail["To"] == [f"regress-{tag}@example.test"]
    assert "a regression" in mail["BodyText"]
