"""Each ingest route through the DSN (ingest's function URL) on the local stack, the same routes on
the HTTP API (where a custom domain points), and how ingest refuses bad input."""

import base64
import gzip
import json
import subprocess
import uuid
import zlib

import requests

from helpers import new_tag, TARGET, auth_header, ingest_url, post, wait_for_issues

# The smallest file a minidump reader recognizes: the MDMP signature and version, no streams.
MINIDUMP = b"MDMP\x93\xa7\x00\x00" + b"\x00" * 24


def test_store_endpoint_json_and_legacy_body(stack, api):
    tag = new_tag()
    url = ingest_url(stack, "store")
    plain = json.dumps({"message": f"store json {tag}", "level": "info", "platform": "python"}).encode()
    resp = post(url, data=plain, headers={**auth_header(stack["KEY"]), "Content-Type": "application/json"})
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["id"]) == 32
    legacy = base64.b64encode(zlib.compress(json.dumps({"message": f"store legacy {tag}"}).encode()))
    resp = post(url, data=legacy, headers={**auth_header(stack["KEY"]), "Content-Type": "application/octet-stream"})
    assert resp.status_code == 200, resp.text
    [info] = wait_for_issues(api, stack, f"store json {tag}", 1)
    assert info["level"] == "info"
    wait_for_issues(api, stack, f"store legacy {tag}", 1)


def test_dsns_point_at_the_function_url_and_the_http_api_takes_ingest_too(stack, api):
    keys = api.get(f"projects/{stack['ORG']}/{stack['PROJECT']}/keys/")
    assert keys.status_code == 200, keys.text
    assert [k["dsn"]["public"] for k in keys.json() if k["public"] == stack["KEY"]] == [stack["DSN"]]
    assert "/_aws/lambda-url/" in stack["DSN"]
    # A custom domain maps to the HTTP API: its ingest routes take the same envelopes.
    tag = new_tag()
    event_id = uuid.uuid4().hex
    envelope = (json.dumps({"event_id": event_id}) + '\n{"type":"event"}\n'
                + json.dumps({"message": f"via the http api {tag}", "level": "error"}) + "\n").encode()
    resp = post(f"{stack['HTTP_API']}/api/{stack['PROJECT_ID']}/envelope/", data=envelope,
                headers={**auth_header(stack["KEY"]), "Origin": "https://app.example"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == event_id
    wait_for_issues(api, stack, f"via the http api {tag}", 1)
    # Browsers get the function URL's CORS answer, the HTTP API's for the API.
    pre = requests.options(ingest_url(stack, "envelope"), headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-sentry-auth"}, timeout=10)
    assert pre.status_code == 200
    assert pre.headers.get("access-control-allow-origin") == "*"
    assert "x-sentry-auth" in pre.headers.get("access-control-allow-headers", "")


def test_minidump_upload(stack, api):
    tag = new_tag()
    resp = post(
        ingest_url(stack, "minidump") + f"?sentry_key={stack['KEY']}",
        files={"upload_file_minidump": ("crash.dmp", MINIDUMP, "application/octet-stream"), "log": ("app.log", b"boot\n")},
        data={"sentry[release]": f"native@{tag}", "sentry[tags][tag]": tag},
    )
    assert resp.status_code == 200, resp.text
    event_id = resp.json()["id"]

    path = f"projects/{stack['ORG']}/{stack['PROJECT']}/events/{event_id.replace('-', '')}/"
    event = api.wait_for(lambda: (lambda r: r.json() if r.status_code == 200 else None)(api.get(path)), "the minidump's event")
    issue = api.get(f"issues/{event['groupID']}/").json()
    assert issue["level"] == "fatal"
    # The stack walker found no streams in this 32-byte dump: stored anyway, saying why.
    assert issue["title"].startswith("Minidump: Native crash (the minidump could not be read"), issue["title"]
    assert [e["type"] for e in event["errors"]] == ["minidump_invalid"], event["errors"]
    assert {"key": "release", "value": f"native@{tag}"} in event["tags"]
    assert {"key": "tag", "value": tag} in event["tags"]

    refused = post(ingest_url(stack, "minidump") + f"?sentry_key={stack['KEY']}", files={"upload_file_minidump": ("x", b"not a dump")})
    assert refused.status_code == 400
    assert "MDMP" in refused.headers["X-Sentry-Error"]


def test_csp_report(stack, api):
    tag = new_tag()
    report = {"csp-report": {"document-uri": "https://app.example/", "blocked-uri": f"https://evil-{tag}.test/x.js", "effective-directive": "script-src-elem"}}
    url = ingest_url(stack, "security") + f"?sentry_key={stack['KEY']}&sentry_environment=prod"
    for _ in range(2):
        resp = post(url, data=json.dumps(report), headers={"Content-Type": "application/csp-report"})
        assert resp.status_code == 200, resp.text
    [issue] = api.wait_for(
        lambda: (lambda f: f if f and f[0]["count"] == "2" else None)(wait_for_issues(api, stack, f"evil-{tag}.test", 1)),
        "both reports counted on one issue",
    )
    assert issue["title"] == f"Blocked 'script' from 'evil-{tag}.test'"
    assert issue["culprit"] == "https://app.example/"


def test_large_envelope_travels_through_s3(stack, api):
    tag = new_tag()
    event_id = uuid.uuid4().hex
    attachment = b"x" * (400 * 1024)
    event = json.dumps({"event_id": event_id, "message": f"large envelope {tag}"}).encode()
    body = (
        json.dumps({"event_id": event_id}).encode() + b"\n"
        + json.dumps({"type": "event", "length": len(event)}).encode() + b"\n" + event + b"\n"
        + json.dumps({"type": "attachment", "length": len(attachment), "filename": "big.bin"}).encode() + b"\n" + attachment + b"\n"
    )
    resp = post(ingest_url(stack, "envelope"), data=gzip.compress(body), headers={**auth_header(stack["KEY"]), "Content-Encoding": "gzip"})
    assert resp.status_code == 200, resp.text
    [issue] = wait_for_issues(api, stack, f"large envelope {tag}", 1)
    event = api.get(f"issues/{issue['id']}/events/latest/").json()
    assert event["eventID"] == event_id


def test_decompression_bomb_is_413_and_bad_encoding_415(stack):
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    assert len(bomb) < 100 * 1024
    resp = post(ingest_url(stack, "envelope"), data=bomb, headers={**auth_header(stack["KEY"]), "Content-Encoding": "gzip"})
    assert resp.status_code == 413
    assert "larger than" in resp.headers["X-Sentry-Error"]
    resp = post(ingest_url(stack, "envelope"), data=b"{}\n", headers={**auth_header(stack["KEY"]), "Content-Encoding": "lz4"})
    assert resp.status_code == 415


def test_gzip_labelled_as_json(stack, api):
    """API Gateway may hand a body labelled application/json to the function as text. Then the
    gzip bytes are lost in transit and ingest must say so; where they arrive intact, it works."""
    tag = new_tag()
    body = gzip.compress(f'{{}}\n{{"type":"event"}}\n{{"message":"gzip as json {tag}"}}\n'.encode())
    resp = post(ingest_url(stack, "envelope"), data=body, headers={**auth_header(stack["KEY"]), "Content-Encoding": "gzip", "Content-Type": "application/json"})
    if resp.status_code == 200:
        wait_for_issues(api, stack, f"gzip as json {tag}", 1)
    else:
        assert resp.status_code == 400
        assert "mangled in transit" in resp.headers["X-Sentry-Error"]


def test_key_of_another_project_and_disabled_paths(stack):
    resp = post(ingest_url(stack, "envelope", project_id=999999), data=b'{}\n{"type":"event"}\n{}\n', headers=auth_header(stack["KEY"]))
    assert resp.status_code == 403
    assert resp.headers["X-Sentry-Error"] == "the DSN key belongs to another project"


def test_cors_preflight(stack):
    resp = requests.options(
        ingest_url(stack, "envelope"),
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-sentry-auth,content-type"},
        timeout=10,
    )
    assert resp.status_code in (200, 204), resp.text
    allowed = resp.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "x-sentry-auth" in allowed


def admin(stack, *args):
    env = {"DIRECTORY_TABLE": stack["DIRECTORY_TABLE"], "AWS_ENDPOINT_URL": stack["AWS_ENDPOINT_URL"], "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}
    out = subprocess.run([str(TARGET / "debug" / "errata-admin"), *args], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_key_rate_limit(stack, api):
    key = admin(stack, "add-key", "--project-id", stack["PROJECT_ID"], "--label", "limited")
    admin(stack, "rate-limit", "--public-key", key, "--count", "2", "--window", "3600")
    tag = new_tag()
    statuses = []
    for n in range(3):
        envelope = f'{{}}\n{{"type":"event"}}\n{{"message":"limited {tag} {n}"}}\n'.encode()
        resp = post(ingest_url(stack, "envelope"), data=envelope, headers=auth_header(key))
        statuses.append(resp.status_code)
    assert statuses == [200, 200, 429]
    limited = resp
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.headers["X-Sentry-Rate-Limits"].endswith(":error;transaction;security;default:key:key_quota")
    # Client reports are never limited.
    report = b'{}\n{"type":"client_report"}\n{"discarded_events":[{"reason":"queue_overflow","category":"error","quantity":1}]}\n'
    assert post(ingest_url(stack, "envelope"), data=report, headers=auth_header(key)).status_code == 200
    # The messages differ only in a number, so they group; two were accepted.
    [issue] = api.wait_for(
        lambda: (lambda f: f if f and f[0]["count"] == "2" else None)(wait_for_issues(api, stack, f"limited {tag}", 1)),
        "two accepted events on one issue",
    )
    assert issue["title"] == f"limited {tag} 0"


def test_secrets_never_reach_storage(stack, api):
    """Server-side scrubbing: what an SDK sends unscrubbed is filtered before it is stored."""
    tag = new_tag()
    event = {
        "message": f"payment {tag} declined for card 4111 1111 1111 1111",
        "extra": {"password": "hunter2", "db_url": "postgres://app:s3cr3t@db/prod", "note": "kept"},
        "request": {"url": "https://shop.example/pay", "headers": {"Authorization": "Bearer tok.abc"}, "query_string": "api_key=k123&page=2"},
    }
    envelope = b'{}\n{"type":"event"}\n' + json.dumps(event).encode() + b"\n"
    resp = post(ingest_url(stack, "envelope"), data=envelope, headers=auth_header(stack["KEY"]))
    assert resp.status_code == 200, resp.text
    [issue] = wait_for_issues(api, stack, f"payment {tag} declined", 1)
    assert issue["title"] == f"payment {tag} declined for card [Filtered]"
    stored = api.get(f"issues/{issue['id']}/events/latest/")
    # The card number whole (its first four digits alone can turn up in a random id).
    for secret in ("hunter2", "s3cr3t", "tok.abc", "k123", "4111 1111", "1111 1111"):
        assert secret not in stored.text, f"{secret} reached storage"
    body = stored.json()
    assert body["context"]["note"] == "kept"
    assert body["context"]["password"] == "[Filtered]"
    assert body["_meta"]["extra.password"][""]["rem"][0][0] == "@password:filter"
