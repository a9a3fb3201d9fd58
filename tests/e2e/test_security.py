"""Attacks on the local stack, each refused: a tenant that forges references to another
tenant's stored objects (an attachment, a minidump); webhooks aimed inside the network (the
metadata service, loopback, a name that resolves to a private address); password guessing; and
the first-run route without the deploy's secret."""

import json
import time
import uuid

import pytest
import requests

from helpers import auth_header, ingest_url, new_tag, post
from test_api import Client, invite_link, mails_to, session_cookie, sign_in


def wait_mail(stack, address, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not mails_to(stack, address):
        assert time.monotonic() < deadline, f"no e-mail to {address}"
        time.sleep(0.5)
    return mails_to(stack, address)[-1]


@pytest.fixture(scope="module")
def tenants(stack):
    """Two organizations: the demo one (the victim) and a new one whose only member is an
    attacker who signed up by invitation and holds nothing but their own org's DSN."""
    owner = sign_in(stack, stack["LOGIN"], stack["PASSWORD"])
    tag = new_tag()
    org = owner.call("POST", "organizations/", {"name": f"Attacker {tag}"})
    assert org.status_code == 201, org.text
    slug = org.json()["slug"]
    project = owner.call("POST", f"organizations/{slug}/projects/", {"name": "Evil", "platform": "python"})
    assert project.status_code == 201, project.text
    key = owner.get(f"projects/{slug}/evil/keys/").json()[0]
    email = f"attacker-{tag}@example.test"
    assert owner.call("POST", f"organizations/{slug}/members/", {"email": email, "role": "owner"}).status_code == 201
    token = invite_link(wait_mail(stack, email)).rsplit("/", 1)[1]
    accepted = requests.post(stack["API"] + "accept-invite/", json={"token": token, "password": "attacker password", "name": "Mallory"}, timeout=30)
    assert accepted.status_code == 200, accepted.text
    attacker = Client(stack["API"], cookie=session_cookie(accepted))
    # The demo owner leaves: the attacker's organization is theirs alone.
    assert owner.call("DELETE", f"organizations/{slug}/members/{stack['LOGIN']}/").status_code == 204
    assert attacker.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/").status_code == 404
    return {"owner": owner, "attacker": attacker, "org": slug, "project": "evil",
            "project_id": key["projectId"], "key": key["public"]}


def envelope(event_id, event, *attachments):
    parts = [json.dumps({"event_id": event_id}), json.dumps({"type": "event"}), json.dumps(event)]
    for name, data, kind in attachments:
        parts += [json.dumps({"type": "attachment", "length": len(data), "filename": name, "attachment_type": kind}), data.decode()]
    return ("\n".join(parts) + "\n").encode()


def stored_event(client, org, project, event_id, timeout=60.0):
    path = f"projects/{org}/{project}/events/{event_id}/"
    deadline = time.monotonic() + timeout
    while True:
        resp = client.get(path)
        if resp.status_code == 200:
            return resp.json()
        assert time.monotonic() < deadline, f"event {event_id} never stored: {resp.status_code} {resp.text}"
        time.sleep(0.3)


def test_forged_attachment_and_minidump_references_reach_nothing_of_another_tenant(stack, api, tenants):
    # The victim: an event with a secret attachment, and a minidump upload, in the demo project.
    secret = f"secret-{new_tag()}".encode()
    victim_id = uuid.uuid4().hex
    body = envelope(victim_id, {"message": f"victim {new_tag()}"}, ("secret.txt", secret, "event.attachment"))
    assert post(ingest_url(stack, "envelope"), data=body, headers=auth_header(stack["KEY"])).status_code == 200
    dump = post(ingest_url(stack, "minidump") + f"?sentry_key={stack['KEY']}",
                files={"upload_file_minidump": ("crash.dmp", b"MDMP\x93\xa7\x00\x00" + b"\x00" * 24)})
    assert dump.status_code == 200, dump.text
    dump_id = dump.json()["id"].replace("-", "")
    owner, org = tenants["owner"], stack["ORG"]
    stored_event(owner, org, stack["PROJECT"], victim_id)
    own = owner.get(f"projects/{org}/{stack['PROJECT']}/events/{victim_id}/attachments/").json()
    assert [a["name"] for a in own] == ["secret.txt"], own
    # The victim reads it: the reference the attacker forges below is a real one.
    mine = owner.get(f"projects/{org}/{stack['PROJECT']}/events/{victim_id}/attachments/0/", download="1")
    assert (mine.status_code, mine.content) == (200, secret)
    pid = stack["PROJECT_ID"]
    secret_key = f"attachments/{pid}/{victim_id}/1-secret.txt"
    dump_key = f"attachments/{pid}/{dump_id}/0-crash.dmp"

    # The attacker's events name those objects as their own attachments.
    forged_id, minidump_id = uuid.uuid4().hex, uuid.uuid4().hex
    forged = {"message": "forged attachment", "attachments": [
        {"name": "x", "type": "event.attachment", "size": 10, "key": secret_key}]}
    forged_dump = {"platform": "native", "attachments": [{"name": "c.dmp", "type": "event.minidump", "key": dump_key}],
                   "exception": {"values": [{"type": "Minidump", "value": "forged",
                                             "mechanism": {"type": "minidump", "handled": False}}]}}
    url = ingest_url(stack, "envelope", tenants["project_id"])
    for event_id, event in [(forged_id, forged), (minidump_id, forged_dump)]:
        resp = post(url, data=envelope(event_id, event), headers=auth_header(tenants["key"]))
        assert resp.status_code == 200, resp.text

    attacker, evil = tenants["attacker"], (tenants["org"], tenants["project"])
    stored_event(attacker, *evil, forged_id)
    base = f"projects/{evil[0]}/{evil[1]}/events/{forged_id}/attachments/"
    assert attacker.get(base).json() == []
    for query in [{}, {"download": "1"}]:
        resp = attacker.get(f"{base}0/", **query)
        assert resp.status_code == 404, resp.text
        assert secret not in resp.content
    # The forged minidump was never walked: the event is stored as sent, no dump read into it.
    event = stored_event(attacker, *evil, minidump_id)
    exception = [e for e in event["entries"] if e["type"] == "exception"][0]["data"]["values"][0]
    assert exception["value"] == "forged", exception
    assert "data" not in (exception["mechanism"] or {}), exception
    assert attacker.get(f"projects/{evil[0]}/{evil[1]}/events/{minidump_id}/attachments/").json() == []


def test_webhooks_inside_the_network_are_refused_and_allowed_ones_are_delivered(stack, tenants):
    attacker, org, project = tenants["attacker"], tenants["org"], tenants["project"]
    rule = {"name": "exfiltrate", "conditions": [{"id": "first_seen"}], "frequency": 5}
    for url, says in [
        ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "never allowed"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data/", "never allowed"),
        ("http://2852039166/latest/meta-data/", "never allowed"),
        ("http://127.0.0.1:4566/_ministack/reset", "loopback"),
        ("http://localhost:4566/", "loopback"),
        ("ftp://example.com/", "http(s) URL"),
    ]:
        resp = attacker.call("POST", f"projects/{org}/{project}/rules/", {**rule, "actions": [{"id": "webhook", "url": url}]})
        assert resp.status_code == 400, f"{url}: {resp.status_code} {resp.text}"
        assert says in resp.json()["detail"], f"{url}: {resp.text}"
    # The one network this stack allows (its tests' receivers) is delivered to.
    import http.server
    import threading
    calls = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            calls.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.2:{server.server_address[1]}/hook"
        resp = attacker.call("POST", f"projects/{org}/{project}/rules/",
                             {**rule, "actions": [{"id": "webhook", "url": url, "secret": "write-only"}]})
        assert resp.status_code == 201, resp.text
        assert "write-only" not in resp.text and resp.json()["actions"][0]["secretSet"] is True
        # The processor reads a project's rules at most once a minute: new issues until one
        # is seen under the new rule.
        deadline = time.monotonic() + 150
        while not calls:
            assert time.monotonic() < deadline, "the allowed webhook was never called"
            event = envelope(uuid.uuid4().hex, {"message": f"hook {new_tag()}", "level": "error"})
            sent = post(ingest_url(stack, "envelope", tenants["project_id"]), data=event, headers=auth_header(tenants["key"]))
            assert sent.status_code == 200, sent.text
            time.sleep(5)
    finally:
        server.shutdown()


def test_fifty_wrong_passwords_are_refused_and_the_account_is_slowed_not_locked(stack, tenants):
    # A member of the test's own organization: the demo organization's members get its alerts.
    email = f"guessed-{new_tag()}@example.test"
    owner, org = tenants["attacker"], tenants["org"]
    assert owner.call("POST", f"organizations/{org}/members/", {"email": email, "role": "member"}).status_code == 201
    token = invite_link(wait_mail(stack, email)).rsplit("/", 1)[1]
    accepted = requests.post(stack["API"] + "accept-invite/", json={"token": token, "password": "the right password"}, timeout=30)
    assert accepted.status_code == 200, accepted.text
    statuses = []
    for i in range(50):
        resp = requests.post(stack["API"] + "auth/login/", json={"email": email, "password": f"guess {i}"}, timeout=30)
        statuses.append(resp.status_code)
        if resp.status_code == 429:
            assert 0 < int(resp.headers["Retry-After"]) <= 900, resp.headers
    assert statuses[:10] == [401] * 10, statuses
    assert set(statuses[10:]) == {429}, statuses
    # Even the right password waits until the window ends: the guesser learns nothing.
    right = requests.post(stack["API"] + "auth/login/", json={"email": email, "password": "the right password"}, timeout=30)
    assert right.status_code == 429, right.text
    # The organization's owners see the failed sign-ins in the audit log.
    log = owner.get(f"organizations/{org}/audit-logs/", event="user.login-failed", per_page="100").json()
    assert sum(1 for r in log["rows"] if r["actor"]["email"] == email) == 10, log


def test_first_run_setup_needs_the_deploys_secret(stack):
    body = {"email": f"root-{new_tag()}@example.test", "password": "a long password",
            "organization": {"slug": "root"}, "project": {"slug": "root"}}
    for secret in [None, "wrong", stack["SETUP_SECRET"].lower()]:
        sent = body if secret is None else {**body, "setupSecret": secret}
        resp = requests.post(stack["API"] + "setup/", json=sent, timeout=30)
        assert resp.status_code == 403, resp.text
        assert "setup secret" in resp.json()["detail"]
    # With it, this stack answers that it is set up already (make up used it).
    resp = requests.post(stack["API"] + "setup/", json={**body, "setupSecret": stack["SETUP_SECRET"]}, timeout=30)
    assert resp.status_code == 409, resp.text
    # A form post from another site is refused before anything is read.
    resp = requests.post(stack["API"] + "auth/login/", data={"email": stack["LOGIN"], "password": stack["PASSWORD"]}, timeout=30)
    assert resp.status_code == 403 and "application/json" in resp.text, resp.text


def test_a_deleted_issue_does_not_come_back_with_its_old_events(stack, api, tenants):
    owner, org, project = tenants["owner"], stack["ORG"], stack["PROJECT"]
    message = f"delete me {new_tag()}"
    first = uuid.uuid4().hex
    body = envelope(first, {"message": message, "level": "error"}, ("old.txt", b"old attachment", "event.attachment"))
    assert post(ingest_url(stack, "envelope"), data=body, headers=auth_header(stack["KEY"])).status_code == 200
    event = stored_event(owner, org, project, first)
    issue_id = event["groupID"]
    assert owner.get(f"projects/{org}/{project}/events/{first}/attachments/0/", download="1").content == b"old attachment"

    assert owner.call("DELETE", f"issues/{issue_id}/").status_code == 202
    assert owner.get(f"issues/{issue_id}/").status_code == 404
    assert owner.get(f"projects/{org}/{project}/events/{first}/").status_code == 404
    assert owner.get(f"projects/{org}/{project}/events/{first}/attachments/0/", download="1").status_code == 404
    # The same envelope again (an SDK retry) stays gone: the event is known, not counted anew.
    assert post(ingest_url(stack, "envelope"), data=body, headers=auth_header(stack["KEY"])).status_code == 200

    # The same group later: the issue starts again (its id is the group's) with the new event only.
    second = uuid.uuid4().hex
    again = envelope(second, {"message": message, "level": "error"})
    assert post(ingest_url(stack, "envelope"), data=again, headers=auth_header(stack["KEY"])).status_code == 200
    assert stored_event(owner, org, project, second)["groupID"] == issue_id
    events = owner.get(f"issues/{issue_id}/events/").json()
    assert [e["eventID"] for e in events] == [second], events
    assert owner.get(f"issues/{issue_id}/").json()["count"] == "1"
    assert owner.get(f"projects/{org}/{project}/events/{first}/").status_code == 404
