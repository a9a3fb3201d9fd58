"""A noisy neighbour on the local stack: while one organization sends oversized envelopes,
sessions items with thousands of aggregates, events its own pathological fingerprint rules and
filters must chew on, and has an alert whose webhook answers after 9 seconds, another
organization's 100 ordinary events are all stored and counted exactly, its alert is delivered,
and no dead-letter queue holds any of its messages."""

import http.server
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import requests

from helpers import auth_header, new_tag, post
from test_api import sign_in

# What the quiet tenant's events must all be counted within, from the first one sent.
BOUND_SECONDS = 180


class Receiver:
    """A webhook receiver on 127.0.0.2 (the network the local stack allows) that answers
    after `delay` seconds and counts the calls."""

    def __init__(self, delay):
        self.calls = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(delay)
                receiver.calls.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def tenant(owner, name, webhook):
    """A new organization with one project, an alert to `webhook` on new issues, and its
    key's rate limit lifted (the default would otherwise refuse part of the noise)."""
    org = owner.call("POST", "organizations/", {"name": name})
    assert org.status_code == 201, org.text
    slug = org.json()["slug"]
    project = owner.call("POST", f"organizations/{slug}/projects/", {"name": "app"}).json()
    rule = {"name": "hook", "frequency": 5, "conditions": [{"id": "first_seen"}],
            "actions": [{"id": "webhook", "url": webhook, "format": "generic"}]}
    assert owner.call("POST", f"projects/{slug}/app/rules/", rule).status_code == 201
    key = owner.get(f"projects/{slug}/app/keys/").json()[0]
    assert owner.call("PUT", f"projects/{slug}/app/keys/{key['id']}/", {"rateLimit": None}).status_code == 200
    return {"org": slug, "project_id": project["id"], "key": key["public"]}


def envelope(event, *items):
    event_id = uuid.uuid4().hex
    parts = [json.dumps({"event_id": event_id}), json.dumps({"type": "event"}), json.dumps({"event_id": event_id, **event})]
    for header, payload in items:
        parts += [json.dumps(header), payload]
    return ("\n".join(parts) + "\n").encode()


def dead_letters(stack):
    """Every message body in the stack's dead-letter queues (read without taking them)."""
    sqs = boto3.client("sqs", endpoint_url=stack["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    bodies = []
    for url in sqs.list_queues().get("QueueUrls", []):
        if "dlq" not in url.lower():
            continue
        for _ in range(20):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
            bodies += [m["Body"] for m in got]
            if len(got) < 10:
                break
    return bodies


def test_a_noisy_neighbour_does_not_slow_fail_or_starve_another_tenant(stack):
    owner = sign_in(stack, stack["LOGIN"], stack["PASSWORD"])
    slow, fast = Receiver(delay=9), Receiver(delay=0)
    try:
        noisy = tenant(owner, f"Noisy {new_tag()}", slow.url)
        quiet = tenant(owner, f"Quiet {new_tag()}", fast.url)
        # The noisy tenant's own rules, built to backtrack over its events.
        trap = "*" + "a" * 400 + "b"
        settings = {"fingerprintingRules": f'function:"{trap}" -> never'}
        assert owner.call("PUT", f"projects/{noisy['org']}/app/", settings).status_code == 200
        short_trap = "*" + "a" * 190 + "b"  # filter patterns are at most 200 characters
        filters = {"patterns": [short_trap] * 100}
        assert owner.call("PUT", f"projects/{noisy['org']}/app/filters/error-messages/", filters).status_code == 200
        base = stack["DSN"].replace(f"{stack['KEY']}@", "").rsplit("/", 1)[0]
        url = lambda t: f"{base}/api/{t['project_id']}/envelope/"

        long = "a" * 8_000
        heavy = {"exception": {"values": [{"type": "Heavy", "value": long, "stacktrace": {"frames": [
            {"function": f"{long}{i}", "in_app": True} for i in range(100)]}}]}}
        aggregates = [{"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60 * i)), "exited": 1}
                      for i in range(5_000)]
        sessions = json.dumps({"aggregates": aggregates, "attrs": {"release": "noisy@1"}})
        noise = (
            [envelope({"message": f"big {i}"}, ({"type": "attachment", "length": 5_000_000, "filename": "big.bin"}, "x" * 5_000_000))
             for i in range(6)]
            + [envelope({**heavy, "message": f"heavy {i}"}) for i in range(20)]
            + [b'{}\n{"type":"sessions"}\n' + sessions.encode() + b"\n" for _ in range(10)]
            + [envelope({"message": f"new issue {new_tag()}"}) for _ in range(20)]  # 20 slow webhooks
        )

        def send(target, body):
            for _ in range(5):
                resp = post(url(target), data=body, headers=auth_header(target["key"]))
                if resp.status_code == 200:
                    return
                time.sleep(0.5)
            raise AssertionError(f"{resp.status_code} {resp.text}")

        tag = new_tag()
        quiet_events = [envelope({"message": f"quiet {tag} {'vwxyz'[i % 5]}", "level": "error"}) for i in range(100)]
        with ThreadPoolExecutor(8) as pool:
            noisy_sent = [pool.submit(send, noisy, body) for body in noise]
            time.sleep(2)  # the noise is under way
            started = time.monotonic()
            for future in [pool.submit(send, quiet, body) for body in quiet_events]:
                future.result()
            sent_s = time.monotonic() - started
            for future in noisy_sent:
                future.result()

        issues = f"projects/{quiet['org']}/app/issues/"
        while True:
            found = owner.get(issues, query=f'"quiet {tag}"').json()
            counted = sum(int(i["count"]) for i in found)
            if counted >= 100 and len(found) == 5:
                break
            assert time.monotonic() - started < BOUND_SECONDS, f"{counted} of 100 counted after {BOUND_SECONDS} s: {found}"
            time.sleep(1)
        counted_s = time.monotonic() - started
        print(f"\nquiet tenant: 100 events sent in {sent_s:.1f} s, all counted {counted_s:.1f} s after the first, "
              f"while the noisy tenant sent {len(noise)} envelopes")
        assert counted == 100, "counted exactly once each"

        while not fast.calls:
            assert time.monotonic() - started < BOUND_SECONDS, "the quiet tenant's alert was never delivered"
            time.sleep(1)
        assert any(f"quiet {tag}".encode() in c for c in fast.calls)

        # The noisy tenant's slow webhooks (9 s each, side by side) are delivered too, and only
        # then are the dead-letter queues read: nothing of the quiet tenant's is in them.
        while len(slow.calls) < 20:
            assert time.monotonic() - started < 2 * BOUND_SECONDS, f"{len(slow.calls)} slow webhooks delivered"
            time.sleep(1)
        print(f"noisy tenant: {len(slow.calls)} webhooks answered after 9 s each, by {time.monotonic() - started:.0f} s")
        letters = dead_letters(stack)
        mine = [b for b in letters if f'"project_id":{quiet["project_id"]}' in b.replace(" ", "")]
        assert mine == [], mine
    finally:
        slow.close()
        fast.close()
